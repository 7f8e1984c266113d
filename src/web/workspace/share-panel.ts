// The study's sharing, for its own institution's radiologists and admins: a patient's link with its QR code
// (their digital film on a phone), a partner institution's second read, and every share of the study with its
// status, its openings (each one audited) and a way to revoke it.
import type { Messages } from './i18n.js';
import type { SecondRead } from './second-read-panel.js';
import { api, element, errorMessage, t, when } from './ui.js';

/** One share of the study as GET /api/studies/{id}/shares gives it (src/api/routes/share-schemas.ts). */
export interface Share {
  id: string;
  audience: 'patient' | 'institution';
  partnerInstitution: string | null;
  parentShareId: string | null;
  status: 'active' | 'expired' | 'revoked' | 'not-yet-valid';
  expiresAt: string;
  createdAt: string;
  allowDownload: boolean;
  secondFactor: 'none' | 'pin' | 'birth-date';
  useCount: number;
  lastUsedAt: string | null;
  offeredByConsortium: boolean;
  secondReadDueAt: string | null;
  secondReadOverdueAt: string | null;
  openings: { occurredAt: string; outcome: Outcome; address: string | null; userAgent: string | null }[];
}
type Outcome = 'visited' | 'opened' | 'wrong-second-factor' | 'expired' | 'revoked' | 'not-yet-valid';

export interface PanelHooks {
  /** Says something in the page's notice (an error from the API, or what was done). */
  notify: (text: string) => void;
  onSignedOut: () => void;
}

/** A link just created: its secret is shown only once, so it stays on screen while the same study is shown. */
let created: { studyId: string; id: string; url: string; qrCode: string; expiresAt: string } | undefined;

/** How long a patient's link lasts, in hours: a week, 30 days (the server's default) or 90 days. */
const VALIDITY = [
  ['days7', 7 * 24],
  ['days30', 30 * 24],
  ['days90', 90 * 24],
] as const satisfies readonly (readonly [keyof Messages, number])[];
const DEFAULT_VALIDITY = 30 * 24;
/** When a partner's second read is due, in hours. */
const DUE = [
  ['hours24', 24],
  ['hours72', 72],
  ['days7', 7 * 24],
] as const satisfies readonly (readonly [keyof Messages, number])[];
const DEFAULT_DUE = 72;

const STATUS = {
  active: 'shareActive',
  expired: 'shareExpired',
  revoked: 'shareRevoked',
  'not-yet-valid': 'shareNotYetValid',
} as const satisfies Record<Share['status'], keyof Messages>;
const OUTCOME = {
  visited: 'outcomeVisited',
  opened: 'outcomeOpened',
  'wrong-second-factor': 'outcomeWrongSecondFactor',
  expired: 'outcomeExpired',
  revoked: 'outcomeRevoked',
  'not-yet-valid': 'outcomeNotYetValid',
} as const satisfies Record<Outcome, keyof Messages>;

/** A label and its control, kept together on one line. */
const field = (label: HTMLLabelElement, control: HTMLElement) =>
  element('span', { class: 'field' }, label, control);

function hoursSelect(
  id: string,
  choices: readonly (readonly [keyof Messages, number])[],
  chosen: number,
): HTMLSelectElement {
  const words = t();
  const select = element('select', { id, name: id });
  for (const [label, hours] of choices) {
    const option = element('option', { value: String(hours) }, words[label]);
    if (hours === chosen) option.selected = true;
    select.append(option);
  }
  return select;
}

/** Who a share is for: the patient, a link the patient passed on, or a partner institution's code. */
function audienceOf(share: Share): string {
  const words = t();
  const who =
    share.audience === 'institution'
      ? (share.partnerInstitution ?? '-')
      : share.parentShareId
        ? words.passedOn
        : words.audiencePatient;
  return share.offeredByConsortium ? `${who} ${words.consortium}` : who;
}

/** The second read asked of a partner: received, overdue or due (nothing for a patient's link). */
function secondReadState(share: Share, reads: readonly SecondRead[]): string {
  const words = t();
  if (share.audience !== 'institution') return '-';
  const read = reads.find((r) => r.shareId === share.id);
  if (read) return `${words.received} ${when(read.createdAt)}`;
  const overdue =
    share.secondReadOverdueAt ??
    (share.secondReadDueAt && Date.parse(share.secondReadDueAt) < Date.now() ? share.secondReadDueAt : null);
  if (overdue) return `${words.overdueSince} ${when(overdue)}`;
  return share.secondReadDueAt ? `${words.dueAt} ${when(share.secondReadDueAt)}` : '-';
}

/**
 * The "Sharing" section of study `studyId`: the two forms, the link just created, and the shares table with
 * the openings (`shares` as first read; it reads them again after each change). `reads`: the study's second
 * reads, which mark a partner's share as answered.
 */
export function sharingSection(
  studyId: string,
  shares: Share[],
  reads: readonly SecondRead[],
  hooks: PanelHooks,
): HTMLElement {
  const words = t();
  const result = element('div', { class: 'created-link', 'aria-live': 'polite' });
  const tables = element('div', { class: 'share-tables' });

  const call = async (path: string, init: RequestInit): Promise<Response | undefined> => {
    const answer = await api(path, init);
    if (answer.status === 401) {
      hooks.onSignedOut();
      return undefined;
    }
    if (!answer.ok) {
      hooks.notify(await errorMessage(answer));
      return undefined;
    }
    return answer;
  };
  const refresh = async () => {
    const answer = await call(`/api/studies/${studyId}/shares`, {});
    if (!answer) return;
    shares = ((await answer.json()) as { shares: Share[] }).shares;
    renderTables();
  };

  // A patient's link: how long it lasts, whether the film may be downloaded, an optional PIN.
  const validity = hoursSelect('share-validity', VALIDITY, DEFAULT_VALIDITY);
  const download = element('input', { id: 'share-download', type: 'checkbox' });
  const pin = element('input', {
    id: 'share-pin',
    type: 'text',
    inputmode: 'numeric',
    pattern: '[0-9]{4,12}',
    autocomplete: 'off',
    size: '16',
    placeholder: words.pinHint,
  });
  const patientForm = element(
    'form',
    { class: 'share-form', 'aria-labelledby': 'patient-link-title' },
    element('h3', { id: 'patient-link-title' }, words.patientLink),
    field(element('label', { for: 'share-validity' }, words.validFor), validity),
    element('label', { class: 'check' }, download, words.allowDownload),
    field(element('label', { for: 'share-pin' }, words.pin), pin),
    element('button', { type: 'submit' }, words.createPatientLink),
  );
  patientForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const answer = await call(`/api/studies/${studyId}/shares`, {
        method: 'POST',
        body: JSON.stringify({
          audience: 'patient',
          expiresInHours: Number(validity.value),
          allowDownload: download.checked,
          ...(pin.value.trim() && { pin: pin.value.trim() }),
        }),
      });
      if (!answer) return;
      const link = (await answer.json()) as { id: string; url: string; qrCode: string; expiresAt: string };
      created = { studyId, ...link };
      pin.value = '';
      hooks.notify('');
      renderCreated();
      await refresh();
    })();
  });

  // A partner institution's second read, due in a day, three days (default) or a week.
  const institution = element('input', {
    id: 'share-institution',
    type: 'text',
    required: '',
    size: '14',
    autocomplete: 'off',
  });
  const due = hoursSelect('share-due', DUE, DEFAULT_DUE);
  const partnerForm = element(
    'form',
    { class: 'share-form', 'aria-labelledby': 'second-read-request-title' },
    element('h3', { id: 'second-read-request-title' }, words.secondRead),
    field(element('label', { for: 'share-institution' }, words.institutionCode), institution),
    field(element('label', { for: 'share-due' }, words.dueIn), due),
    element('button', { type: 'submit' }, words.requestSecondRead),
  );
  partnerForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const code = institution.value.trim();
      const answer = await call(`/api/studies/${studyId}/shares`, {
        method: 'POST',
        body: JSON.stringify({
          audience: 'institution',
          institution: code,
          secondReadDueInHours: Number(due.value),
        }),
      });
      if (!answer) return;
      institution.value = '';
      hooks.notify(`${words.secondReadRequested} ${code}`);
      await refresh();
    })();
  });

  function renderCreated(): void {
    if (created?.studyId !== studyId) return result.replaceChildren();
    result.replaceChildren(
      element(
        'figure',
        { class: 'patient-qr' },
        element('img', { src: created.qrCode, alt: words.qrAlt }),
        element(
          'figcaption',
          {},
          element('p', { class: 'qr-hint' }, words.patientLinkHint),
          element(
            'p',
            {},
            element('span', { class: 'hint' }, `${words.linkLabel}: `),
            element('code', { class: 'share-url' }, created.url),
          ),
          element('p', { class: 'hint' }, `${words.linkExpires} ${when(created.expiresAt)}`),
          element('p', { class: 'hint' }, words.linkShownOnce),
        ),
      ),
    );
  }

  function renderTables(): void {
    // A revoked (or expired) link's QR code is taken off the screen: it no longer opens anything.
    const shown = created?.studyId === studyId ? shares.find((s) => s.id === created!.id) : undefined;
    if (shown && shown.status !== 'active' && shown.status !== 'not-yet-valid') {
      created = undefined;
      renderCreated();
    }
    const head = (labels: string[]) =>
      element('thead', {}, element('tr', {}, ...labels.map((l) => element('th', { scope: 'col' }, l))));
    const rows = shares.map((share) => {
      const protections = [
        share.secondFactor === 'pin' ? words.pinProtected : '',
        share.secondFactor === 'birth-date' ? words.birthDateProtected : '',
        share.allowDownload ? words.downloads : '',
      ].filter(Boolean);
      const actions = element('td', {});
      if (share.status === 'active' || share.status === 'not-yet-valid') {
        const revoke = element('button', { type: 'button', class: 'revoke' }, words.revoke);
        revoke.addEventListener('click', () => {
          revoke.disabled = true;
          void (async () => {
            const answer = await call(`/api/shares/${share.id}`, { method: 'DELETE' });
            revoke.disabled = false;
            if (!answer) return;
            hooks.notify(words.revoked);
            await refresh();
          })();
        });
        actions.append(revoke);
      }
      return element(
        'tr',
        { 'data-share-id': share.id, 'data-status': share.status },
        element(
          'th',
          { scope: 'row' },
          audienceOf(share),
          ...(protections.length > 0
            ? [element('br'), element('small', { class: 'hint' }, protections.join(' · '))]
            : []),
        ),
        element('td', { class: `share-status ${share.status}` }, words[STATUS[share.status]]),
        element('td', {}, when(share.expiresAt)),
        element('td', {}, String(share.useCount)),
        element('td', {}, when(share.lastUsedAt)),
        element('td', {}, secondReadState(share, reads)),
        actions,
      );
    });
    const sharesTable = element(
      'table',
      { class: 'shares' },
      element('caption', {}, words.shares),
      head([
        words.sharedWith,
        words.status,
        words.expires,
        words.timesOpened,
        words.lastOpened,
        words.secondReadDue,
        '',
      ]),
      element(
        'tbody',
        {},
        ...(rows.length > 0 ? rows : [element('tr', {}, element('td', { colspan: '7' }, words.noShares))]),
      ),
    );
    // Every opening of every link, newest first: what the sharing institution answers for.
    const openings = shares
      .flatMap((share) => share.openings.map((opening) => ({ share, opening })))
      .sort((a, b) => b.opening.occurredAt.localeCompare(a.opening.occurredAt));
    const openingsTable = element(
      'table',
      { class: 'openings' },
      element('caption', {}, words.openings),
      head([words.sharedWith, words.time, words.outcome, words.address, words.userAgent]),
      element(
        'tbody',
        {},
        ...(openings.length > 0
          ? openings.map(({ share, opening }) =>
              element(
                'tr',
                { 'data-share-id': share.id },
                element('th', { scope: 'row' }, audienceOf(share)),
                element('td', {}, when(opening.occurredAt)),
                element('td', { class: `outcome ${opening.outcome}` }, words[OUTCOME[opening.outcome]]),
                element('td', {}, opening.address ?? '-'),
                element('td', { class: 'user-agent' }, opening.userAgent ?? '-'),
              ),
            )
          : [element('tr', {}, element('td', { colspan: '5' }, words.noOpenings))]),
      ),
    );
    tables.replaceChildren(sharesTable, openingsTable);
  }

  renderCreated();
  renderTables();
  return element(
    'section',
    { class: 'sharing', 'aria-labelledby': 'sharing-title' },
    element('h2', { id: 'sharing-title' }, words.sharing),
    element('div', { class: 'share-forms' }, patientForm, partnerForm),
    result,
    tables,
  );
}
