// One study: the CT in axial, coronal and sagittal planes (cornerstone3D over nodus's WADO-RS, lung or
// mediastinum window, scroll, zoom, pan, window/level), the nodule list with accept / reject (with reason) /
// edit (caliper on the image) / add (click on the image), a click on a nodule jumps there with its mask
// outlined, the Lung-RADS result with its rules, and sign-off. A 409 (another reader acted first) is said
// plainly and the study reloads; nothing typed is lost, and the images stay as they were.
import { NODULE_TYPES } from '../../findings/lung-rads/types.js';
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import { REJECT_REASONS } from '../../shared/review.js';
import {
  openCtViewer,
  PLANES,
  type Caliper,
  type CtViewer,
  type Plane,
  type ViewportName,
  type WindowPreset,
} from './ct-viewer.js';
import { maskPointsLps } from './nodule-mask.js';
import { secondReadForm, secondReadsSection, type SecondRead } from './second-read-panel.js';
import { sharingSection, type Share } from './share-panel.js';
import { api, element, state, t } from './ui.js';

interface Volume {
  dimensions: number[];
  spacingMm: number[];
  originLps: number[];
  direction: number[];
}
interface Nodule {
  noduleId: string;
  hasMask: boolean;
  seriesId: string;
  origin: 'ai' | 'reader';
  decision: string;
  rejectReason: string | null;
  centreLps: number[];
  longAxisMm: number | null;
  shortAxisMm: number | null;
  meanDiameterMm: number | null;
  volumeMm3: number | null;
  type: string;
  ai: { score?: number } | null;
}
interface StudyDetailView {
  studyId: string;
  /** The institution the study is from (the first read's). */
  institutionCode: string;
  studyDate: string | null;
  identity: { patientName: string | null; patientId: string; studyInstanceUid: string } | null;
  review: {
    status: string;
    version: number;
    aiCategory: string | null;
    finalCategory: string | null;
    lungRads: {
      category: string;
      management: string;
      rules: string[];
      nodules: { id?: string; category: string }[];
      prior?: { match: PriorMatch } | null;
    } | null;
  } | null;
  priors: { studyId: string; studyDate: string | null }[];
  series: {
    seriesId: string;
    seriesInstanceUid: string | null;
    seriesDescription: string | null;
    volume: Volume | null;
  }[];
  nodules: Nodule[];
}

/** How the study's nodules compare with the prior's (src/findings/prior-matching.ts, as the API gives it). */
interface PriorMatch {
  intervalDays: number;
  alignment: { translationMm: number[] };
  nodules: (
    | { currentId: string; status: 'new' }
    | {
        currentId: string;
        status: 'growing' | 'stable';
        priorId: string;
        diameterChangeMm: number;
        volumeDoublingTimeDays: number | null;
      }
  )[];
}

/** The prior shown beside the study: the latest earlier study of the patient, with its CT series. */
interface PriorView {
  detail: StudyDetailView;
  studyUid: string;
  seriesUid: string;
}

/** The latest earlier study of the patient that has a CT volume, read from the API; undefined if none. */
async function latestPrior(study: StudyDetailView): Promise<PriorView | undefined> {
  const earlier = study.priors
    .filter((p) => p.studyDate !== null && study.studyDate !== null && p.studyDate < study.studyDate)
    .sort((a, b) => b.studyDate!.localeCompare(a.studyDate!));
  for (const candidate of earlier) {
    const response = await api(`/api/studies/${candidate.studyId}`);
    if (!response.ok) continue;
    const detail = (await response.json()) as StudyDetailView;
    const series = detail.series.find((s) => s.volume !== null && s.seriesInstanceUid !== null);
    if (series && detail.identity)
      return { detail, studyUid: detail.identity.studyInstanceUid, seriesUid: series.seriesInstanceUid! };
  }
  return undefined;
}

/** What a radiologist may sign off with: every category but 0 (incomplete, not a reading). */
const FINAL_CATEGORIES = LUNG_RADS_CATEGORIES.filter((c) => c !== '0');
const WINDOWS = { lung: 'lungWindow', mediastinal: 'mediastinumWindow' } as const satisfies Record<
  WindowPreset,
  string
>;
/** The window the reader chose last (kept across studies, as a reading habit). */
let preset: WindowPreset = 'lung';

const mm = (value: number | null) => (value === null ? '-' : value.toFixed(1));

/** A nodule against the prior: new, or stable / growing with the change in mean diameter and the VDT. */
function versusPrior(comparison: PriorMatch['nodules'][number] | undefined): string {
  const words = t();
  if (!comparison) return '-';
  if (comparison.status === 'new') return words.newNodule;
  const change = `${comparison.diameterChangeMm >= 0 ? '+' : '−'}${Math.abs(comparison.diameterChangeMm).toFixed(1)} mm`;
  const vdt = comparison.volumeDoublingTimeDays;
  return `${words[comparison.status]} ${change}${vdt === null ? '' : `, ${words.doublingTime} ${Math.round(vdt)} d`}`;
}

/** What the reader typed into the add or edit form: kept across a reload after a 409, so nothing is lost. */
interface Draft {
  studyId: string;
  kind: 'add' | 'edit';
  noduleId?: string;
  centreLps?: number[];
  longAxisMm: string;
  shortAxisMm: string;
  type: string;
}
let draft: Draft | undefined;

const masks = new Map<string, Promise<[number, number, number][]>>();
/** The voxels of a nodule's AI mask (LPS), read once per page. */
function maskOf(studyId: string, noduleId: string): Promise<[number, number, number][]> {
  let points = masks.get(noduleId);
  if (!points) {
    points = api(`/api/studies/${studyId}/nodules/${noduleId}/mask`).then(async (response) =>
      response.ok ? maskPointsLps(await response.arrayBuffer()) : [],
    );
    masks.set(noduleId, points);
  }
  return points;
}

/**
 * The viewer of the study on screen, kept while the same study is shown again (after an action or a 409), so
 * its volume, zoom, pan and window survive the reload.
 */
let current:
  | {
      studyId: string;
      prior: PriorView | undefined;
      panes: HTMLElement;
      viewer: Promise<CtViewer>;
      selectedNoduleId?: string;
    }
  | undefined;

/** A pane's caption: the plane, or "Prior" and the prior's date. */
function paneLabel(name: ViewportName, prior: PriorView | undefined): string {
  const words = t();
  return name === 'prior' ? `${words.prior} ${prior?.detail.studyDate ?? ''}` : words[name];
}

function viewerFor(
  studyId: string,
  studyUid: string,
  seriesUid: string,
  prior: PriorView | undefined,
  focusLps: number[] | undefined,
): NonNullable<typeof current> {
  if (current?.studyId === studyId) return current;
  void current?.viewer.then((viewer) => viewer.destroy()).catch(() => undefined);
  const words = t();
  const planes = Object.fromEntries(
    PLANES.map((plane) => [
      plane,
      element('div', { class: 'plane', role: 'img', 'aria-label': words[plane] }),
    ]),
  ) as Record<Plane, HTMLDivElement>;
  const figure = (name: ViewportName, pane: HTMLDivElement) =>
    element('figure', {}, pane, element('figcaption', { 'data-plane': name }, paneLabel(name, prior)));
  const priorPane = prior
    ? element('div', { class: 'plane', role: 'img', 'aria-label': words.prior })
    : undefined;
  // Busy until every frame of the series is in the volume (the planes fill in as frames arrive). With a
  // prior, the two axial planes side by side above the coronal and sagittal.
  const panes = element(
    'div',
    { class: prior ? 'planes with-prior' : 'planes', 'aria-busy': 'true' },
    figure('axial', planes.axial),
    ...(priorPane ? [figure('prior', priorPane)] : []),
    figure('coronal', planes.coronal),
    figure('sagittal', planes.sagittal),
  );
  // The panes must be in the document (with their size) before cornerstone takes them.
  const viewer = new Promise<CtViewer>((resolve, reject) =>
    requestAnimationFrame(
      () =>
        void openCtViewer(
          planes,
          studyUid,
          seriesUid,
          prior && priorPane
            ? { element: priorPane, studyUid: prior.studyUid, seriesUid: prior.seriesUid }
            : undefined,
          focusLps,
        ).then(resolve, reject),
    ),
  );
  void viewer.then(
    (v) => v.loaded.finally(() => panes.setAttribute('aria-busy', 'false')),
    () => panes.setAttribute('aria-busy', 'false'),
  );
  current = { studyId, prior, panes, viewer };
  return current;
}

/** Shows study `studyId` in `root`; false when it cannot be read (the caller shows the worklist). */
export async function showStudy(
  root: HTMLElement,
  studyId: string,
  hooks: { onSignedOut: () => void },
  notice?: string,
): Promise<boolean> {
  const [response, readsAnswer] = await Promise.all([
    api(`/api/studies/${studyId}`),
    api(`/api/studies/${studyId}/second-reads`),
  ]);
  if (response.status === 401) {
    hooks.onSignedOut();
    return true;
  }
  if (response.status !== 200) return false;
  const study = (await response.json()) as StudyDetailView & { secondRead?: boolean };
  /** Another institution's radiologist, reading for a second opinion: no review actions (they would 403). */
  const partner = study.secondRead === true;
  state.secondRead.set(studyId, partner);
  // The study's own radiologists and admins see whom it is shared with.
  const sharer = !partner && (state.role === 'radiologist' || state.role === 'admin');
  const sharesAnswer = sharer ? await api(`/api/studies/${studyId}/shares`) : undefined;
  const shares =
    sharesAnswer?.status === 200 ? ((await sharesAnswer.json()) as { shares: Share[] }).shares : undefined;
  const secondReads =
    readsAnswer.status === 200
      ? ((await readsAnswer.json()) as { secondReads: SecondRead[] }).secondReads
      : [];
  // The AI's findings by score, most likely first, then the reader's own in the order they were added.
  const rank = (n: Nodule) => (n.ai?.score === undefined ? -1 : n.ai.score);
  study.nodules = study.nodules
    .map((nodule, order) => ({ nodule, order }))
    .sort((a, b) => rank(b.nodule) - rank(a.nodule) || a.order - b.order)
    .map(({ nodule }) => nodule);
  const words = t();
  const series = study.series.find((s) => s.volume !== null && s.seriesInstanceUid !== null);
  // The prior is looked up once per study shown, not again after each action.
  const prior = current?.studyId === studyId ? current.prior : await latestPrior(study);
  const comparisons = new Map(
    (study.review?.lungRads?.prior?.match.nodules ?? []).map((c) => [c.currentId, c]),
  );
  let selected = 0;
  const message = element('p', { role: 'status', class: 'notice' }, notice ?? '');
  const hint = element('p', { class: 'hint', 'aria-live': 'polite' });

  // The images: three planes of one cornerstone3D volume read from nodus's WADO-RS.
  const shown =
    series && study.identity
      ? viewerFor(
          studyId,
          study.identity.studyInstanceUid,
          series.seriesInstanceUid!,
          prior,
          study.nodules[0]?.centreLps,
        )
      : undefined;
  const viewer = shown?.viewer;
  viewer?.catch((error: unknown) => {
    message.textContent = `${words.imagesFailed}: ${error instanceof Error ? error.message : String(error)}`;
  });
  const captions = () => {
    void viewer?.then((v) => {
      for (const name of [...PLANES, 'prior'] as const) {
        const caption = shown!.panes.querySelector(`figcaption[data-plane="${name}"]`);
        const at = v.position(name);
        if (caption && at) caption.textContent = `${paneLabel(name, prior)} ${at.index} / ${at.count}`;
      }
    });
  };
  void viewer?.then((v) => {
    v.onChange(captions);
    captions();
  });
  const scrollBy = (delta: number) => void viewer?.then((v) => v.scroll(delta));
  const windowButtons = (Object.keys(WINDOWS) as WindowPreset[]).map((name) => {
    const button = element(
      'button',
      { type: 'button', 'aria-pressed': String(name === preset) },
      words[WINDOWS[name]],
    );
    button.addEventListener('click', () => {
      preset = name;
      for (const b of windowButtons) b.setAttribute('aria-pressed', String(b === button));
      void viewer?.then((v) => v.setWindow(name));
    });
    return button;
  });

  const reload = (text?: string) => void showStudy(root, studyId, hooks, text);
  const act = async (body: Record<string, unknown>, typed?: Draft) => {
    const answer = await api(`/api/studies/${studyId}/review-actions`, {
      method: 'POST',
      body: JSON.stringify({ version: study.review?.version ?? 0, ...body }),
    });
    if (answer.status === 201) {
      draft = undefined;
      return reload();
    }
    if (answer.status === 409) {
      draft = typed;
      return reload(words.conflict);
    }
    if (answer.status === 401) return hooks.onSignedOut();
    const error =
      ((await answer.json()) as { error?: { message?: string } }).error?.message ?? String(answer.status);
    message.textContent = error;
  };

  const categories = new Map((study.review?.lungRads?.nodules ?? []).map((n) => [n.id, n.category]));
  const jumpTo = (index: number) => {
    const nodule = study.nodules[index];
    if (!nodule) return;
    selected = index;
    if (shown) shown.selectedNoduleId = nodule.noduleId;
    for (const [n, row] of rows.entries()) row.setAttribute('aria-selected', String(n === index));
    void viewer?.then(async (v) => {
      v.jumpTo(nodule.centreLps);
      // The prior at the matched nodule, else where this one would be in the prior's frame (aligned).
      const comparison = comparisons.get(nodule.noduleId);
      const matched =
        comparison && comparison.status !== 'new'
          ? prior?.detail.nodules.find((n) => n.noduleId === comparison.priorId)
          : undefined;
      const shift = study.review?.lungRads?.prior?.match.alignment.translationMm ?? [0, 0, 0];
      v.jumpPriorTo(matched?.centreLps ?? nodule.centreLps.map((x, a) => x - (shift[a] ?? 0)));
      v.outline(nodule.hasMask ? await maskOf(studyId, nodule.noduleId) : []);
    });
  };
  const rows = study.nodules.map((nodule, index) => {
    const accept = element('button', { type: 'button' }, words.accept);
    accept.addEventListener('click', () => void act({ action: 'accept', noduleId: nodule.noduleId }));
    const reason = element('select', { 'aria-label': words.rejectReason });
    for (const r of REJECT_REASONS) reason.append(element('option', { value: r }, r));
    const reject = element('button', { type: 'button' }, words.reject);
    reject.addEventListener(
      'click',
      () => void act({ action: 'reject', noduleId: nodule.noduleId, reason: reason.value }),
    );
    const edit = element('button', { type: 'button' }, words.edit);
    edit.addEventListener('click', () =>
      openForm({
        studyId,
        kind: 'edit',
        noduleId: nodule.noduleId,
        longAxisMm: nodule.longAxisMm?.toFixed(1) ?? '',
        shortAxisMm: nodule.shortAxisMm?.toFixed(1) ?? '',
        type: nodule.type,
      }),
    );
    const row = element(
      'tr',
      { 'aria-selected': 'false', 'data-nodule-id': nodule.noduleId },
      element('th', { scope: 'row' }, `${index + 1}. ${nodule.type}`),
      element('td', {}, mm(nodule.longAxisMm)),
      element('td', {}, mm(nodule.shortAxisMm)),
      element('td', {}, mm(nodule.meanDiameterMm)),
      element('td', {}, nodule.volumeMm3 === null ? '-' : nodule.volumeMm3.toFixed(0)),
      element('td', {}, nodule.ai?.score === undefined ? words.reader : nodule.ai.score.toFixed(2)),
      element('td', {}, categories.get(nodule.noduleId) ?? '-'),
      element('td', {}, nodule.decision + (nodule.rejectReason ? ` (${nodule.rejectReason})` : '')),
      ...(prior ? [element('td', {}, versusPrior(comparisons.get(nodule.noduleId)))] : []),
      ...(partner ? [] : [element('td', {}, accept, ' ', reason, ' ', reject, ' ', edit)]),
    );
    row.addEventListener('click', (event) => {
      if ((event.target as HTMLElement).closest('button, select')) return;
      jumpTo(index);
    });
    return row;
  });
  const noduleTable = element(
    'table',
    { 'aria-label': words.nodulesTitle },
    element(
      'thead',
      {},
      element(
        'tr',
        {},
        ...[
          words.type,
          words.longAxis,
          words.shortAxis,
          words.meanDiameter,
          words.volume,
          words.aiScore,
          words.category,
          words.decision,
          ...(prior ? [words.versusPrior] : []),
          ...(partner ? [] : ['']),
        ].map((label) => element('th', { scope: 'col' }, label)),
      ),
    ),
    element('tbody', {}, ...rows),
  );

  // Add nodule: with the button pressed, a click on an image places the new nodule there.
  const form = element('section', { class: 'nodule-form', 'aria-label': words.noduleForm });
  const addMode = element('button', { type: 'button', 'aria-pressed': 'false' }, words.addNodule);
  addMode.addEventListener('click', () => {
    void viewer?.then(async (v) => {
      addMode.setAttribute('aria-pressed', 'true');
      hint.textContent = words.pickHint;
      const centreLps = await v.pickPoint();
      addMode.setAttribute('aria-pressed', 'false');
      openForm({ studyId, kind: 'add', centreLps, longAxisMm: '', shortAxisMm: '', type: 'solid' });
    });
  });
  function openForm(values: Draft): void {
    const long = element('input', {
      id: 'long-axis',
      type: 'number',
      step: '0.1',
      min: '0.1',
      value: values.longAxisMm,
    });
    const short = element('input', {
      id: 'short-axis',
      type: 'number',
      step: '0.1',
      min: '0.1',
      value: values.shortAxisMm,
    });
    const type = element('select', { id: 'nodule-type' });
    for (const value of NODULE_TYPES) {
      const option = element('option', { value }, value);
      if (value === values.type) option.selected = true;
      type.append(option);
    }
    const save = element(
      'button',
      { type: 'submit' },
      values.kind === 'add' ? words.saveNodule : words.saveChanges,
    );
    const cancel = element('button', { type: 'button' }, words.cancel);
    // The caliper: drawn on the image, its axes fill the fields (they stay editable by hand).
    const caliper = element('button', { type: 'button', 'aria-pressed': 'false' }, words.caliper);
    // The last caliper drawn: its end points go with the lengths while the fields still show its values.
    let drawn: Caliper | undefined;
    const startCaliper = () =>
      void viewer?.then((v) => {
        caliper.setAttribute('aria-pressed', 'true');
        hint.textContent = words.caliperHint;
        v.measure((axes) => {
          drawn = axes;
          long.value = axes.longAxisMm.toFixed(1);
          short.value = axes.shortAxisMm.toFixed(1);
        });
      });
    caliper.addEventListener('click', startCaliper);
    const close = () => {
      caliper.setAttribute('aria-pressed', 'false');
      hint.textContent = '';
      void viewer?.then((v) => v.stopTools());
    };
    const body = element(
      'form',
      {},
      element('h3', {}, values.kind === 'add' ? words.addNodule : words.edit),
      element('label', { for: 'long-axis' }, words.longAxis),
      long,
      element('label', { for: 'short-axis' }, words.shortAxis),
      short,
      element('label', { for: 'nodule-type' }, words.type),
      type,
      caliper,
      save,
      cancel,
    );
    cancel.addEventListener('click', () => {
      draft = undefined;
      close();
      form.replaceChildren();
    });
    body.addEventListener('submit', (event) => {
      event.preventDefault();
      close();
      const typed: Draft = { ...values, longAxisMm: long.value, shortAxisMm: short.value, type: type.value };
      const caliperShown =
        drawn && long.value === drawn.longAxisMm.toFixed(1) && short.value === drawn.shortAxisMm.toFixed(1);
      const measured = {
        longAxisMm: Number(long.value),
        shortAxisMm: Number(short.value),
        type: type.value,
        ...(caliperShown && { axesLps: drawn!.axesLps }),
      };
      void (values.kind === 'add'
        ? act(
            {
              action: 'add',
              seriesId: series?.seriesId,
              nodule: { centreLps: values.centreLps, ...measured },
            },
            typed,
          )
        : act({ action: 'edit', noduleId: values.noduleId, changes: measured }, typed));
    });
    form.replaceChildren(body);
    long.focus();
    if (values.kind === 'edit') startCaliper();
  }

  const lungRads = study.review?.lungRads;
  const result = element(
    'section',
    { 'aria-label': words.lungRadsResult },
    element('h2', {}, `${words.lungRadsResult}: ${lungRads?.category ?? '-'}`),
    element('p', {}, lungRads?.management ?? ''),
    element('ul', {}, ...(lungRads?.rules ?? []).map((rule) => element('li', {}, rule))),
  );
  const final = element('select', { id: 'final-category' });
  for (const c of FINAL_CATEGORIES) {
    const option = element('option', { value: c }, c);
    if (c === (study.review?.finalCategory ?? lungRads?.category)) option.selected = true;
    final.append(option);
  }
  const signOff = element('button', { type: 'button' }, words.signOff);
  signOff.addEventListener('click', () => void act({ action: 'sign-off', finalCategory: final.value }));
  const signed = study.review?.status === 'signed-off';
  const hooksForPanels = {
    notify: (text: string) => {
      message.textContent = text;
    },
    onSignedOut: hooks.onSignedOut,
  };
  const firstCategory = study.review?.finalCategory ?? lungRads?.category ?? null;
  // The first read and its sign-off for the study's own institution; a partner records a second read beside
  // it, and the study's own readers see what partners returned and whom the study is shared with.
  const reading = partner
    ? [
        secondReadForm(
          studyId,
          secondReads,
          {
            category: firstCategory,
            text: signed
              ? `${study.review?.finalCategory ?? '-'} (${words.signedOff}) · ${study.institutionCode}`
              : `${words.aiCategory} ${study.review?.aiCategory ?? '-'} · ${words.status}: ${study.review?.status ?? '-'} · ${study.institutionCode}`,
          },
          hooksForPanels,
        ),
      ]
    : [
        signed
          ? element('p', {}, `${words.signedOff}: ${study.review?.finalCategory ?? ''}`)
          : element(
              'div',
              { class: 'sign-off' },
              element('label', { for: 'final-category' }, words.finalCategoryLabel),
              final,
              signOff,
            ),
        ...(secondReads.length > 0 || shares?.some((s) => s.audience === 'institution')
          ? [secondReadsSection(secondReads)]
          : []),
        ...(shares ? [sharingSection(studyId, shares, secondReads, hooksForPanels)] : []),
      ];

  const { viewerOrigin } = JSON.parse(document.getElementById('nodus-config')?.textContent ?? '{}') as {
    viewerOrigin?: string;
  };
  const ohif =
    study.identity && viewerOrigin
      ? element(
          'a',
          {
            href: `${viewerOrigin}/viewer?StudyInstanceUIDs=${study.identity.studyInstanceUid}`,
            target: '_blank',
            rel: 'noopener',
          },
          words.openInOhif,
        )
      : element('span');
  const back = element('a', { href: '#/' }, words.worklist);
  root.replaceChildren(
    element(
      'header',
      {},
      back,
      element(
        'h1',
        {},
        `${study.identity?.patientName?.replaceAll('^', ' ') ?? study.studyId.slice(0, 8)} · ${study.studyDate ?? ''}`,
      ),
      ...(partner
        ? [
            element(
              'span',
              { class: 'badge' },
              `${words.secondReadBadge} · ${words.sentBy} ${study.institutionCode}`,
            ),
          ]
        : []),
      element('span', {}, `${words.status}: ${study.review?.status ?? '-'}`),
      ohif,
    ),
    message,
    element(
      'div',
      { class: 'study' },
      element(
        'section',
        { class: 'viewer', 'aria-label': words.images },
        element('div', { class: 'tools' }, ...windowButtons, ...(partner ? [] : [addMode])),
        shown?.panes ?? element('p', {}, words.imagesFailed),
        element('p', { class: 'hint' }, words.viewerHelp),
        hint,
      ),
      element('div', { class: 'side' }, noduleTable, form, result, ...reading),
    ),
  );
  // Keys: up/down scroll, n/p next/previous nodule, a accept, r reject the selected one.
  root.onkeydown = (event) => {
    if ((event.target as HTMLElement).closest('input, select, textarea')) return;
    const current = study.nodules[selected];
    if (event.key === 'ArrowDown') scrollBy(1);
    else if (event.key === 'ArrowUp') scrollBy(-1);
    else if (event.key === 'n') jumpTo(Math.min(selected + 1, study.nodules.length - 1));
    else if (event.key === 'p') jumpTo(Math.max(selected - 1, 0));
    else if (event.key === 'a' && current && !partner)
      void act({ action: 'accept', noduleId: current.noduleId });
    else if (event.key === 'r' && current && !partner)
      void act({ action: 'reject', noduleId: current.noduleId, reason: 'not-a-nodule' });
    else return;
    event.preventDefault();
  };
  root.tabIndex = -1;
  root.focus();
  void viewer?.then((v) => v.setWindow(preset));
  // Back on the same study (after an action): the nodule in view stays selected and the view as it was.
  const before = study.nodules.findIndex((n) => n.noduleId === shown?.selectedNoduleId);
  if (before >= 0) {
    selected = before;
    rows[before]?.setAttribute('aria-selected', 'true');
  } else if (study.nodules.length > 0) jumpTo(0);
  if (draft?.studyId === studyId && !partner) openForm(draft);
  return true;
}
