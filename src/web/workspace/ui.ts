import { errorEnvelopeMessage } from '../error-envelope.js';
// What every view of the workspace shares: its words, the DOM helper, and API calls with the session.
import { initialLocale, MESSAGES, type Locale, type Messages } from './i18n.js';

export const state = {
  locale: initialLocale(localStorage.getItem('nodus.locale'), navigator.languages),
  /** The session's CSRF token: sent as X-CSRF-Token with every write. */
  csrfToken: null as string | null,
  /** The signed-in user's role (src/shared/roles.ts), from the session. */
  role: null as string | null,
  /**
   * What the worklist said of each study it listed: true for another institution's study shared with the
   * reader's for a second read. A study opened by its address alone is not in it.
   */
  secondRead: new Map<string, boolean>(),
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

export { element } from '../dom-element.js';

/** A request to nodus with the session cookie; writes carry the CSRF token. */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (state.csrfToken && init.method && init.method !== 'GET') headers.set('X-CSRF-Token', state.csrfToken);
  if (init.body !== undefined && !headers.has('Content-Type'))
    headers.set('Content-Type', 'application/json');
  return fetch(path, { ...init, headers, credentials: 'same-origin' });
}

/** The message of an API error envelope ({ error: { message } }), else the HTTP status. */
export async function errorMessage(response: Response): Promise<string> {
  return (await errorEnvelopeMessage(response)) ?? `HTTP ${response.status}`;
}

/** A moment (ISO 8601) as the reader's locale writes a date and time; '-' for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  return new Date(iso).toLocaleString(state.locale, { dateStyle: 'medium', timeStyle: 'short' });
}
