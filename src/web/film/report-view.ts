// The signed-off report in plain words: the Lung-RADS category and what it means, the follow-up, each nodule
// with its key image, and the second opinions; or, before sign-off, a plain "not yet".
import type { Film, FilmNodule, FilmReport } from './api-types.js';
import type { Messages } from './i18n.js';
import {
  element,
  fetchRendered,
  formatDateTime,
  millimetres,
  personName,
  renderedUrl,
  SessionEnded,
} from './ui.js';

/** Object URLs of the key images fetched so far, by their WADO-RS address (a language switch reuses them). */
const keyImages = new Map<string, Promise<string>>();

function keyImageUrl(url: string): Promise<string> {
  let objectUrl = keyImages.get(url);
  if (!objectUrl) {
    objectUrl = fetchRendered(url).then((blob) => URL.createObjectURL(blob));
    objectUrl.catch(() => keyImages.delete(url));
    keyImages.set(url, objectUrl);
  }
  return objectUrl;
}

/** What to do next, from the category and the recommended interval. */
export function followUp(report: Pick<FilmReport, 'category' | 'followUpMonths'>, m: Messages): string {
  switch (report.category) {
    case '4B':
    case '4X':
      return m.followUpFurtherTests;
    case '0':
      return report.followUpMonths === null ? m.followUpIncomplete : m.followUpMonths(report.followUpMonths);
    case '1':
    case '2':
    case '3':
    case '4A':
      return report.followUpMonths === null
        ? m.followUpFurtherTests
        : m.followUpMonths(report.followUpMonths);
  }
}

export function noduleText(nodule: FilmNodule, m: Messages): string {
  return m.nodule(
    nodule.number,
    m.noduleTypes[nodule.type],
    millimetres(nodule.longAxisMm),
    millimetres(nodule.shortAxisMm),
  );
}

export function renderReport(
  film: Film,
  m: Messages,
  hooks: { showImage: (seriesUid: string, sopUid: string) => boolean },
): HTMLElement {
  const section = element(
    'section',
    { class: 'report', 'aria-labelledby': 'report-title' },
    element('h2', { id: 'report-title' }, m.report),
  );
  const report = film.report;
  if (!report) {
    section.append(element('p', { class: 'notice' }, m.notSignedOff));
    return section;
  }
  section.append(
    element(
      'div',
      { class: `category category-${report.category.toLowerCase()}` },
      element('p', { class: 'category-name' }, m.lungRads(report.category)),
      element('p', { class: 'category-meaning' }, m.categoryMeaning[report.category]),
    ),
    element('p', { class: 'follow-up' }, element('strong', {}, followUp(report, m))),
  );

  section.append(element('h3', {}, m.nodules));
  if (report.nodules.length === 0) section.append(element('p', {}, m.noNodules));
  else {
    const list = element('ul', { class: 'nodules' });
    for (const nodule of report.nodules) list.append(noduleItem(film, nodule, m, hooks));
    section.append(list);
  }

  if (report.secondReads.length > 0) {
    section.append(
      element('h3', {}, m.secondOpinions),
      element(
        'ul',
        { class: 'second-reads' },
        ...report.secondReads.map((read) =>
          element('li', {}, m.secondOpinion(read.institution, read.opinion === 'agree', read.category)),
        ),
      ),
    );
  }
  section.append(
    element(
      'p',
      { class: 'signed' },
      m.signedOffBy(report.signedOffBy && personName(report.signedOffBy), formatDateTime(report.signedOffAt)),
    ),
    element('p', { class: 'disclaimer' }, m.disclaimer),
  );
  return section;
}

function noduleItem(
  film: Film,
  nodule: FilmNodule,
  m: Messages,
  hooks: { showImage: (seriesUid: string, sopUid: string) => boolean },
): HTMLLIElement {
  const item = element('li', {}, element('p', { class: 'nodule-text' }, noduleText(nodule, m)));
  const key = nodule.keyImage;
  if (!key) return item;
  const image = element('img', { alt: m.keyImageAlt(nodule.number), width: '160', height: '160' });
  const show = element('button', { type: 'button' }, m.showInImages(nodule.number));
  show.addEventListener('click', () => {
    if (hooks.showImage(key.seriesInstanceUid, key.sopInstanceUid)) {
      document.getElementById('images-title')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  });
  item.append(element('div', { class: 'key-image' }, image, show));
  keyImageUrl(
    renderedUrl(film.study.studyInstanceUid, key.seriesInstanceUid, key.sopInstanceUid, 'lung'),
  ).then(
    (url) => {
      image.src = url;
    },
    (error: unknown) => {
      if (!(error instanceof SessionEnded)) image.replaceWith(element('p', { class: 'hint' }, m.imageFailed));
    },
  );
  return item;
}
