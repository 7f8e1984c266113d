// What every part of the film page shares: its words, the DOM helper, dates and names, and API calls with the
// film's session (an HttpOnly cookie; writes carry the CSRF token the opening answered).
import { initialLocale, MESSAGES, type Locale, type Messages } from './i18n.js';

const LOCALE_KEY = 'nodus.film.locale';

function storedLocale(): string | null {
  try {
    return localStorage.getItem(LOCALE_KEY);
  } catch {
    return null;
  }
}

export const state = {
  locale: initialLocale(storedLocale(), navigator.languages),
  /** The film session's CSRF token: sent as X-CSRF-Token with every write. */
  csrfToken: null as string | null,
  /** Called when the API says the session is gone (401). */
  onSessionEnded: (): void => undefined,
};

/** The words of the current locale. */
export function t(): Messages {
  return MESSAGES[state.locale];
}

export function setLocale(locale: Locale): void {
  state.locale = locale;
  try {
    localStorage.setItem(LOCALE_KEY, locale);
  } catch {
    // Private browsing without storage: the choice lasts for this page.
  }
  document.documentElement.lang = locale;
}

export { element } from '../dom-element.js';

/** Thrown after the session ended (401): the page has been replaced by the "viewing ended" message. */
export class SessionEnded extends Error {
  constructor() {
    super('the film session has ended');
  }
}

/** A request to nodus with the film's session cookie; writes carry the CSRF token; 401 ends the session. */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (state.csrfToken && init.method && init.method !== 'GET') headers.set('X-CSRF-Token', state.csrfToken);
  if (init.body !== undefined && !headers.has('Content-Type'))
    headers.set('Content-Type', 'application/json');
  const response = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  if (response.status === 401) {
    state.onSessionEnded();
    throw new SessionEnded();
  }
  return response;
}

/** HU windows the page offers: centre and width. */
export const WINDOWS = { lung: [-600, 1500], soft: [40, 400] } as const;
export type WindowName = keyof typeof WINDOWS;

/** The WADO-RS rendered image of one instance, in a window. */
export function renderedUrl(studyUid: string, seriesUid: string, sopUid: string, window: WindowName): string {
  const [centre, width] = WINDOWS[window];
  const uid = encodeURIComponent;
  return (
    `/dicomweb/studies/${uid(studyUid)}/series/${uid(seriesUid)}/instances/${uid(sopUid)}` +
    `/rendered?window=${centre},${width},linear`
  );
}

/**
 * A rendered image's bytes, with the session cookie: JPEG at quality 90 (a 512 x 512 lung-window CT slice is
 * a third of its lossless PNG), since a phone fetches a whole series over mobile data; the radiologist's
 * workspace reads the original pixels.
 */
export async function fetchRendered(url: string, signal?: AbortSignal): Promise<Blob> {
  const response = await api(url, { headers: { Accept: 'image/jpeg' }, ...(signal && { signal }) });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.blob();
}

/** A calendar date (YYYY-MM-DD) in the current locale, e.g. "3 March 2024" / "2024年3月3日". */
export function formatDate(date: string): string {
  const parsed = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime())) return date;
  return parsed.toLocaleDateString(state.locale, { dateStyle: 'long', timeZone: 'UTC' });
}

/** An instant (ISO 8601) in the current locale and the browser's time zone. */
export function formatDateTime(iso: string): string {
  const parsed = new Date(iso);
  if (Number.isNaN(parsed.getTime())) return iso;
  return parsed.toLocaleString(state.locale, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * A DICOM person name (PN: family^given^middle^prefix^suffix, `=` before ideographic and phonetic forms) as a
 * person writes it: "Doe^Jane" is "Jane Doe"; an ideographic form, where there is one, in Chinese.
 */
export function personName(name: string): string {
  const [alphabetic = '', ideographic = ''] = name.split('=');
  if (state.locale === 'zh-CN' && ideographic.trim() !== '') {
    return ideographic.split('^').slice(0, 2).join('').trim();
  }
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = (alphabetic || ideographic).split(
    '^',
  );
  return [prefix, given, middle, family, suffix]
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' ');
}

/** Millimetres as a patient reads them: at most one decimal, none when whole ("9", "7.5"). */
export function millimetres(value: number): string {
  return String(Math.round(value * 10) / 10);
}
