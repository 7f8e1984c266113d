// The radiologist's workspace (served at / by the nodus API): sign-in with a bearer token exchanged for an
// HttpOnly session cookie, then the worklist. Plain DOM, no framework; every write carries X-CSRF-Token.
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import { STUDY_REVIEW_STATUSES } from '../../shared/review.js';
import type { Locale } from './i18n.js';
import { initialiseViewer } from './ct-viewer.js';
import { showStudy } from './study-view.js';
import { api, element, setLocale, state, t as words } from './ui.js';

interface WorklistItem {
  studyId: string;
  institutionCode: string;
  status: string;
  category: string | null;
  aiCategory: string | null;
  finalCategory: string | null;
  waitingSince: string;
  studyDate: string | null;
  noduleCount: number;
  /** Another institution's study, shared with the reader's for a second read. */
  secondRead: boolean;
  identity: { studyInstanceUid: string; patientId: string; patientName: string | null } | null;
}

const REFRESH_MS = 15_000;
const config = JSON.parse(document.getElementById('nodus-config')?.textContent ?? '{}') as {
  viewerOrigin?: string;
};

let t = words();
let cursors: (string | undefined)[] = [undefined];
let refreshTimer: number | undefined;
const root = document.getElementById('app')!;

function languageSwitch(): HTMLElement {
  const select = element('select', { 'aria-label': t.language, id: 'language' });
  for (const value of ['en', 'zh-CN'] as const) {
    const option = element('option', { value }, value === 'en' ? 'English' : '中文');
    if (value === state.locale) option.selected = true;
    select.append(option);
  }
  select.addEventListener('change', () => {
    setLocale(select.value as Locale);
    t = words();
    void start();
  });
  return select;
}

function showSignIn(message?: string): void {
  window.clearInterval(refreshTimer);
  state.csrfToken = null;
  state.role = null;
  state.secondRead.clear();
  const input = element('input', { id: 'token', type: 'password', autocomplete: 'off', required: '' });
  const error = element('p', { role: 'alert', class: 'error' }, message ?? '');
  const form = element(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    element('h1', { id: 'sign-in-title' }, t.title),
    element('label', { for: 'token' }, t.token),
    input,
    element('button', { type: 'submit' }, t.signIn),
    element('p', { class: 'hint' }, t.signInHint),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const response = await fetch('/api/session', {
        method: 'POST',
        headers: { Authorization: `Bearer ${input.value.trim()}` },
        credentials: 'same-origin',
      });
      input.value = '';
      if (response.status !== 201) {
        error.textContent = t.signInFailed;
        return;
      }
      const opened = (await response.json()) as { csrfToken: string; user: { role: string } };
      state.csrfToken = opened.csrfToken;
      state.role = opened.user.role;
      await route();
    })();
  });
  root.replaceChildren(element('header', {}, languageSwitch()), form);
  input.focus();
}

function filterForm(onApply: () => void): HTMLFormElement {
  const select = (id: string, label: string, values: string[]) => {
    const control = element('select', { id, name: id }, element('option', { value: '' }, t.any));
    for (const value of values) control.append(element('option', { value }, value));
    return [element('label', { for: id }, label), control];
  };
  const form = element(
    'form',
    { class: 'filters', role: 'search' },
    ...select('status', t.status, [...STUDY_REVIEW_STATUSES]),
    ...select('category', t.category, [...LUNG_RADS_CATEGORIES]),
    element('label', { for: 'institution' }, t.institution),
    element('input', { id: 'institution', name: 'institution', type: 'text', size: '12' }),
    element('label', { for: 'from' }, t.from),
    element('input', { id: 'from', name: 'from', type: 'date' }),
    element('label', { for: 'to' }, t.to),
    element('input', { id: 'to', name: 'to', type: 'date' }),
    element('button', { type: 'submit' }, t.apply),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cursors = [undefined];
    onApply();
  });
  return form;
}

function waiting(since: string): string {
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

async function showWorklist(): Promise<void> {
  const session = await api('/api/session');
  if (session.status !== 200) return showSignIn();
  const me = (await session.json()) as { user: { email: string; role: string }; csrfToken: string | null };
  state.csrfToken = me.csrfToken;
  state.role = me.user.role;
  const signOut = element('button', { type: 'button' }, t.signOut);
  signOut.addEventListener('click', () => {
    void api('/api/session', { method: 'DELETE' }).then(() => showSignIn());
  });
  const status = element('p', { class: 'status', 'aria-live': 'polite' });
  const table = element('table', { 'aria-label': t.worklist });
  const pager = element('nav', { class: 'pager' });
  const form = filterForm(() => void load());
  root.replaceChildren(
    element(
      'header',
      {},
      element('h1', {}, t.worklist),
      element('span', { class: 'user' }, me.user.email),
      languageSwitch(),
      signOut,
    ),
    form,
    table,
    pager,
    status,
  );

  async function load(page = cursors.length - 1): Promise<void> {
    const query = new URLSearchParams();
    for (const name of ['status', 'category', 'institution', 'from', 'to']) {
      const value = (form.elements.namedItem(name) as HTMLInputElement | null)?.value;
      if (value) query.set(name, value);
    }
    const cursor = cursors[page];
    if (cursor) query.set('cursor', cursor);
    const response = await api(`/api/worklist?${query.toString()}`);
    if (response.status === 401) return showSignIn(t.sessionEnded);
    const { items, nextCursor } = (await response.json()) as {
      items: WorklistItem[];
      nextCursor: string | null;
    };
    renderTable(table, items);
    pager.replaceChildren();
    if (page > 0) {
      const first = element('button', { type: 'button' }, t.first);
      first.addEventListener('click', () => {
        cursors = [undefined];
        void load(0);
      });
      pager.append(first);
    }
    if (nextCursor) {
      const next = element('button', { type: 'button' }, t.next);
      next.addEventListener('click', () => {
        cursors = [...cursors.slice(0, page + 1), nextCursor];
        void load(page + 1);
      });
      pager.append(next);
    }
    status.textContent = `${t.updated} ${new Date().toLocaleTimeString(state.locale)}`;
  }

  await load(0);
  window.clearInterval(refreshTimer);
  // New studies appear without a reload: the current page is read again.
  refreshTimer = window.setInterval(() => void load(), REFRESH_MS);
}

function renderTable(table: HTMLTableElement, items: WorklistItem[]): void {
  const head = element(
    'tr',
    {},
    ...[
      t.patient,
      t.studyDate,
      t.institution,
      t.aiCategory,
      t.finalCategory,
      t.status,
      t.nodules,
      t.waiting,
      '',
    ].map((label) => element('th', { scope: 'col' }, label)),
  );
  const rows = items.map((item) => {
    state.secondRead.set(item.studyId, item.secondRead);
    const name = item.identity?.patientName ?? item.identity?.patientId ?? item.studyId.slice(0, 8);
    const links = element('td', {}, element('a', { href: `#/studies/${item.studyId}` }, t.open), ' ');
    const uid = item.identity?.studyInstanceUid;
    if (uid && config.viewerOrigin) {
      links.append(
        element(
          'a',
          {
            href: `${config.viewerOrigin}/viewer?StudyInstanceUIDs=${uid}`,
            target: '_blank',
            rel: 'noopener',
          },
          t.openInOhif,
        ),
      );
    }
    return element(
      'tr',
      { 'data-study-id': item.studyId },
      element('th', { scope: 'row' }, name.replaceAll('^', ' ')),
      element('td', {}, item.studyDate ?? ''),
      element(
        'td',
        {},
        item.institutionCode,
        ...(item.secondRead ? [' ', element('span', { class: 'badge' }, t.secondReadBadge)] : []),
      ),
      element('td', {}, item.aiCategory ?? '-'),
      element('td', {}, item.finalCategory ?? '-'),
      element('td', {}, item.status),
      element('td', {}, String(item.noduleCount)),
      element('td', {}, waiting(item.waitingSince)),
      links,
    );
  });
  table.replaceChildren(
    element('thead', {}, head),
    element(
      'tbody',
      {},
      ...(rows.length > 0 ? rows : [element('tr', {}, element('td', { colspan: '9' }, t.empty))]),
    ),
  );
}

/** The view the address asks for: a study (#/studies/<id>) or the worklist. */
async function route(): Promise<void> {
  window.clearInterval(refreshTimer);
  const study = /^#\/studies\/([0-9a-f-]{36})$/.exec(location.hash)?.[1];
  if (study) {
    const shown = await showStudy(root, study, { onSignedOut: () => showSignIn(t.sessionEnded) });
    if (shown) return;
  }
  await showWorklist();
}

async function start(): Promise<void> {
  t = words();
  document.documentElement.lang = state.locale;
  document.title = t.title;
  const session = await api('/api/session');
  if (session.status === 200) {
    const me = (await session.json()) as { csrfToken: string | null; user: { role: string } };
    state.csrfToken = me.csrfToken;
    state.role = me.user.role;
    await route();
  } else showSignIn();
}

window.addEventListener('hashchange', () => void route());
// cornerstone and its decoding workers start while the reader signs in or looks at the worklist.
initialiseViewer();
void start();
