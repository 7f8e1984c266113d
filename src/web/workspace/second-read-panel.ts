// Second reads: a partner institution's radiologist reads a study shared with it for a second opinion (agree or
// disagree with the first read, their own Lung-RADS category, a comment), beside the first read; both
// institutions see the second reads in the study view.
import { LUNG_RADS_CATEGORIES } from '../../shared/lung-rads-category.js';
import type { PanelHooks } from './share-panel.js';
import { api, element, errorMessage, t, when } from './ui.js';

/** A second read as GET /api/studies/{id}/second-reads gives it (src/api/routes/shares.ts). */
export interface SecondRead {
  id: string;
  shareId: string;
  reader: { displayName: string; email: string };
  institutionName: string;
  institutionCode: string;
  opinion: 'agree' | 'disagree';
  category: string;
  comment: string | null;
  createdAt: string;
}

/** The study's second reads, oldest first: reader, institution, opinion, category, comment and time. */
export function secondReadsTable(reads: readonly SecondRead[]): HTMLTableElement {
  const words = t();
  const rows = reads.map((read) =>
    element(
      'tr',
      { 'data-second-read-id': read.id },
      element(
        'th',
        { scope: 'row' },
        read.reader.displayName.replaceAll('^', ' '),
        element('br'),
        element('small', { class: 'hint' }, read.reader.email),
      ),
      element('td', { title: read.institutionName }, read.institutionCode),
      element(
        'td',
        { class: `opinion ${read.opinion}` },
        read.opinion === 'agree' ? words.agreeShort : words.disagreeShort,
      ),
      element('td', {}, read.category),
      element('td', { class: 'comment' }, read.comment ?? ''),
      element('td', {}, when(read.createdAt)),
    ),
  );
  return element(
    'table',
    { class: 'second-reads' },
    element('caption', {}, words.secondReads),
    element(
      'thead',
      {},
      element(
        'tr',
        {},
        ...[words.readBy, words.institution, words.opinion, words.category, words.comment, words.time].map(
          (label) => element('th', { scope: 'col' }, label),
        ),
      ),
    ),
    element(
      'tbody',
      {},
      ...(rows.length > 0 ? rows : [element('tr', {}, element('td', { colspan: '6' }, words.noSecondReads))]),
    ),
  );
}

/** What the sending institution sees: the second reads its partners returned. */
export function secondReadsSection(reads: readonly SecondRead[]): HTMLElement {
  return element('section', { class: 'second-read' }, secondReadsTable(reads));
}

/**
 * What a partner's radiologist sees of a study shared with their institution: the first read (`firstRead`,
 * e.g. "4B, signed-off"), the form of their second read (`category`: the one the form starts with) and the
 * second reads recorded so far.
 */
export function secondReadForm(
  studyId: string,
  reads: SecondRead[],
  firstRead: { category: string | null; text: string },
  hooks: PanelHooks,
): HTMLElement {
  const words = t();
  const radio = (value: 'agree' | 'disagree') =>
    element(
      'label',
      { class: 'check' },
      element('input', { type: 'radio', name: 'opinion', value, required: '' }),
      value === 'agree' ? words.agree : words.disagree,
    );
  const category = element('select', { id: 'second-read-category', name: 'category' });
  for (const c of LUNG_RADS_CATEGORIES) {
    const option = element('option', { value: c }, c);
    if (c === firstRead.category) option.selected = true;
    category.append(option);
  }
  const comment = element('textarea', {
    id: 'second-read-comment',
    name: 'comment',
    rows: '3',
    maxlength: '4000',
  });
  const submit = element('button', { type: 'submit' }, words.submitSecondRead);
  const form = element(
    'form',
    { class: 'second-read-form', 'aria-labelledby': 'second-read-title' },
    element('fieldset', {}, element('legend', {}, words.opinion), radio('agree'), radio('disagree')),
    element('label', { for: 'second-read-category' }, words.category),
    category,
    element('label', { for: 'second-read-comment' }, words.comment),
    comment,
    submit,
  );
  const list = element('div', {}, secondReadsTable(reads));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const opinion = (form.elements.namedItem('opinion') as RadioNodeList).value;
    submit.disabled = true;
    void (async () => {
      const answer = await api(`/api/studies/${studyId}/second-reads`, {
        method: 'POST',
        body: JSON.stringify({
          opinion,
          category: category.value,
          ...(comment.value.trim() && { comment: comment.value.trim() }),
        }),
      });
      submit.disabled = false;
      if (answer.status === 401) return hooks.onSignedOut();
      if (answer.status !== 201) return hooks.notify(await errorMessage(answer));
      reads.push((await answer.json()) as SecondRead);
      comment.value = '';
      list.replaceChildren(secondReadsTable(reads));
      hooks.notify(words.secondReadSaved);
    })();
  });
  return element(
    'section',
    { class: 'second-read', 'aria-labelledby': 'second-read-title' },
    element('h2', { id: 'second-read-title' }, words.secondRead),
    element('p', { class: 'hint' }, words.secondReadIntro),
    element('p', {}, `${words.firstRead}: ${firstRead.text}`),
    form,
    list,
  );
}
