// The patient's digital film (served at /s/<secret>): the link's secret, with a PIN or birth date where the link
// asks for one, is exchanged for a viewing session (an HttpOnly cookie), then the report in plain words, the
// images in a touch stack viewer, the download, and, on the patient's own film, passing it on to a doctor.
// Plain DOM and canvas, no framework, phone first.
import type { Film, FilmConfig } from './api-types.js';
import type { Locale } from './i18n.js';
import { LinksView } from './links-view.js';
import { renderReport } from './report-view.js';
import { StackViewer } from './stack-viewer.js';
import { injectStyle } from './style.js';
import {
  api,
  element,
  formatDate,
  formatDateTime,
  personName,
  SessionEnded,
  setLocale,
  state,
  t,
} from './ui.js';

const root = document.getElementById('film')!;

function readConfig(): FilmConfig {
  try {
    const parsed = JSON.parse(
      document.getElementById('film-config')?.textContent ?? '{}',
    ) as Partial<FilmConfig>;
    const states: FilmConfig['state'][] = ['open', 'expired', 'revoked', 'unknown'];
    const factors: FilmConfig['secondFactor'][] = ['none', 'pin', 'birth-date'];
    return {
      state: states.includes(parsed.state!) ? parsed.state! : 'unknown',
      secondFactor: factors.includes(parsed.secondFactor!) ? parsed.secondFactor! : 'none',
    };
  } catch {
    return { state: 'unknown', secondFactor: 'none' };
  }
}

/** The link's secret: the last segment of /s/<secret>. */
function linkSecret(): string | undefined {
  const match = /^\/s\/([^/]+)\/?$/.exec(location.pathname);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

const config = readConfig();
const secret = linkSecret();

/** Draws the current view again in the current language. */
let redraw: () => void = () => undefined;

interface Opened {
  film: Film;
  viewer: StackViewer;
  links: LinksView | undefined;
}
let opened: Opened | undefined;
let sessionTimer: number | undefined;

function languageSwitch(): HTMLSelectElement {
  const select = element('select', { id: 'film-language', 'aria-label': t().language });
  for (const value of ['en', 'zh-CN'] as const) {
    const option = element('option', { value, lang: value }, value === 'en' ? 'English' : '中文');
    if (value === state.locale) option.selected = true;
    select.append(option);
  }
  select.addEventListener('change', () => {
    setLocale(select.value as Locale);
    redraw();
    document.getElementById('film-language')?.focus();
  });
  return select;
}

/** A page with only a heading, a message and perhaps a button: links that do not open, an ended session. */
function showMessage(
  title: () => string,
  text: () => string,
  action?: { label: () => string; run: () => void },
) {
  redraw = () => {
    const m = t();
    document.title = title();
    const panel = element(
      'div',
      { class: 'panel message' },
      element('h1', {}, title()),
      element('p', {}, text()),
    );
    if (action) {
      const button = element('button', { type: 'button', class: 'primary' }, action.label());
      button.addEventListener('click', action.run);
      panel.append(button);
    }
    root.replaceChildren(
      element(
        'header',
        { class: 'film-header' },
        element('span', { class: 'hint' }, m.title),
        languageSwitch(),
      ),
      panel,
    );
  };
  redraw();
}

function showLinkState(linkState: Exclude<FilmConfig['state'], 'open'>): void {
  switch (linkState) {
    case 'expired':
      return showMessage(
        () => t().expiredTitle,
        () => t().expiredText,
      );
    case 'revoked':
      return showMessage(
        () => t().revokedTitle,
        () => t().revokedText,
      );
    case 'unknown':
      return showMessage(
        () => t().unknownTitle,
        () => t().unknownText,
      );
  }
}

function showSessionEnded(): void {
  window.clearTimeout(sessionTimer);
  opened?.viewer.stop();
  opened = undefined;
  showMessage(
    () => t().sessionEndedTitle,
    () => t().sessionEndedText,
    { label: () => t().openAgain, run: () => location.reload() },
  );
}

/** The form for the link's second factor; `error` says why the last answer did not open it. */
function showSecondFactor(factor: 'pin' | 'birth-date'): void {
  let error: 'wrong' | 'tooMany' | 'failed' | undefined;
  let busy = false;
  redraw = () => {
    const m = t();
    document.title = m.title;
    const input =
      factor === 'pin'
        ? element('input', {
            id: 'film-answer',
            name: 'pin',
            type: 'password',
            inputmode: 'numeric',
            autocomplete: 'off',
            required: '',
            'aria-describedby': 'film-answer-hint film-answer-error',
          })
        : element('input', {
            id: 'film-answer',
            name: 'birthDate',
            type: 'date',
            autocomplete: 'bday',
            required: '',
            'aria-describedby': 'film-answer-hint film-answer-error',
          });
    const message =
      error === 'wrong'
        ? m.wrongSecondFactor
        : error === 'tooMany'
          ? m.tooManyAttempts
          : error
            ? m.failed
            : '';
    const submit = element('button', { type: 'submit', class: 'primary' }, m.open);
    submit.disabled = busy;
    const form = element(
      'form',
      { class: 'panel second-factor', 'aria-labelledby': 'film-protected' },
      element('h1', { id: 'film-protected' }, m.protectedTitle),
      element('p', { id: 'film-answer-hint', class: 'hint' }, factor === 'pin' ? m.pinHint : m.birthDateHint),
      element(
        'div',
        { class: 'field' },
        element('label', { for: 'film-answer' }, factor === 'pin' ? m.pin : m.birthDate),
        input,
      ),
      element('p', { id: 'film-answer-error', class: 'error', role: 'alert' }, message),
      submit,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const answer = input.value.trim();
      if (answer === '' || busy) return;
      busy = true;
      submit.disabled = true;
      void openFilm(factor === 'pin' ? { pin: answer } : { birthDate: answer }).then((outcome) => {
        busy = false;
        if (outcome === 'opened') return;
        error = outcome;
        redraw();
        document.getElementById('film-answer')?.focus();
      });
    });
    root.replaceChildren(
      element(
        'header',
        { class: 'film-header' },
        element('span', { class: 'hint' }, m.title),
        languageSwitch(),
      ),
      form,
    );
  };
  redraw();
  document.getElementById('film-answer')?.focus();
}

/**
 * Exchanges the link (and its second factor) for a viewing session and shows the film. Returns why not when
 * the person can try again on the form; a link that is gone replaces the page with its message.
 */
async function openFilm(answer: {
  pin?: string;
  birthDate?: string;
}): Promise<'opened' | 'wrong' | 'tooMany' | 'failed'> {
  let response: Response;
  try {
    response = await fetch('/api/film/open', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ secret, ...answer }),
    });
  } catch {
    return 'failed';
  }
  // The address stays the link itself: nothing of the answer is ever put in it.
  history.replaceState(null, '', location.pathname);
  switch (response.status) {
    case 201:
      state.csrfToken = ((await response.json()) as { csrfToken: string }).csrfToken;
      await loadFilm();
      return 'opened';
    case 403:
      return 'wrong';
    case 429:
      return 'tooMany';
    case 404:
      showLinkState('unknown');
      return 'opened';
    case 410:
      showLinkState((await goneReason(response)) ?? 'expired');
      return 'opened';
    default:
      return 'failed';
  }
}

async function goneReason(response: Response): Promise<'expired' | 'revoked' | undefined> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return /revoked|withdrawn/i.test(body.error?.message ?? '') ? 'revoked' : 'expired';
  } catch {
    return undefined;
  }
}

async function loadFilm(): Promise<void> {
  let film: Film;
  try {
    const response = await api('/api/film');
    if (!response.ok) throw new Error(String(response.status));
    film = (await response.json()) as Film;
  } catch (error) {
    if (!(error instanceof SessionEnded)) {
      showMessage(
        () => t().title,
        () => t().failed,
        { label: () => t().openAgain, run: () => location.reload() },
      );
    }
    return;
  }
  const viewer = new StackViewer(film.study.studyInstanceUid, film.series);
  const firstKey = film.report?.nodules.find((n) => n.keyImage)?.keyImage;
  if (firstKey) viewer.showImage(firstKey.seriesInstanceUid, firstKey.sopInstanceUid);
  const links = film.film.canPassOn ? new LinksView(film.film) : undefined;
  opened = { film, viewer, links };
  redraw = renderFilm;
  renderFilm();
  void links?.refresh();
  // The session ends on its own: say so then, rather than when an image fails.
  const remaining = Date.parse(film.film.expiresAt) - Date.now();
  window.clearTimeout(sessionTimer);
  if (remaining > 0 && remaining < 2 ** 31 - 1) sessionTimer = window.setTimeout(showSessionEnded, remaining);
}

function renderFilm(): void {
  if (!opened) return;
  const { film, viewer, links } = opened;
  const m = t();
  document.title = m.title;
  const about = [
    film.study.date ? m.studyOn(formatDate(film.study.date)) : null,
    film.study.institution,
  ].filter((part): part is string => part !== null && part !== '');
  const header = element(
    'header',
    { class: 'film-header' },
    element(
      'div',
      {},
      element('h1', {}, m.title),
      element('p', { class: 'study' }, about.join(' · ')),
      ...(film.patient.name ? [element('p', { class: 'patient' }, personName(film.patient.name))] : []),
    ),
    languageSwitch(),
  );
  const images = element(
    'section',
    { class: 'images', 'aria-labelledby': 'images-title' },
    element('h2', { id: 'images-title' }, m.images),
    viewer.render(m),
  );
  const parts: HTMLElement[] = [
    header,
    renderReport(film, m, { showImage: (series, sop) => viewer.showImage(series, sop) }),
    images,
  ];
  if (film.film.allowDownload) {
    parts.push(
      element(
        'div',
        { class: 'download' },
        element('a', { class: 'button primary', href: '/api/film/download', download: '' }, m.download),
      ),
    );
  }
  if (links) parts.push(links.render(m));
  parts.push(element('p', { class: 'hint' }, m.filmValidUntil(formatDateTime(film.film.linkExpiresAt))));
  root.replaceChildren(...parts);
}

function start(): void {
  injectStyle();
  document.documentElement.lang = state.locale;
  state.onSessionEnded = showSessionEnded;
  if (config.state !== 'open') return showLinkState(config.state);
  if (!secret) return showLinkState('unknown');
  if (config.secondFactor === 'none') {
    redraw = () => root.replaceChildren(element('p', { class: 'hint' }, t().loading));
    redraw();
    void openFilm({}).then((outcome) => {
      if (outcome !== 'opened')
        showMessage(
          () => t().title,
          () => (outcome === 'tooMany' ? t().tooManyAttempts : t().failed),
          { label: () => t().openAgain, run: () => location.reload() },
        );
    });
    return;
  }
  showSecondFactor(config.secondFactor);
}

// Back on the page (after sending a link to a doctor): the links and their openings are read again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void opened?.links?.refresh();
});

start();
