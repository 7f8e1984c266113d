// What every view of the workspace shares: its words, the DOM helper, and API calls with the session.
import { initialLocale, MESSAGES, type Locale, type Messages } from './i18n.js';

export const state = {
  locale: initialLocale(localStorage.getItem('nodus.locale'), navigator.languages),
  /** The session's CSRF token: sent as X-CSRF-Token with every write. */
  csrfToken: null as string | null,
};

/** The words of the current locale. */
export function t(): Messages {
  return MESSAGES[state.locale];
}

export function setLocale(locale: Locale): void {
  state.locale = locale;
  localStorage.setItem('nodus.locale', locale);
  document.documentElement.lang = locale;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A request to nodus with the session cookie; writes carry the CSRF token. */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (state.csrfToken && init.method && init.method !== 'GET') headers.set('X-CSRF-Token', state.csrfToken);
  if (init.body !== undefined && !headers.has('Content-Type'))
    headers.set('Content-Type', 'application/json');
  return fetch(path, { ...init, headers, credentials: 'same-origin' });
}
