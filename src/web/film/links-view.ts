// The patient's own film passes itself on: a form that makes a link for a doctor (shorter-lived, optionally
// with a PIN) and shows it with its QR code, then every link of the film with its openings and a way to
// withdraw it.
import type { CreatedLink, Film, FilmLink } from './api-types.js';
import type { Messages } from './i18n.js';
import { errorEnvelopeMessage } from '../error-envelope.js';
import { api, element, formatDateTime, SessionEnded } from './ui.js';

const HOUR_MS = 3_600_000;
/** Openings listed per link, newest first. */
const OPENINGS_SHOWN = 10;

export class LinksView {
  private links: FilmLink[] | undefined;
  private created: CreatedLink | undefined;
  private messages: Messages | undefined;
  private tableBox: HTMLElement | undefined;
  private linksError: HTMLElement | undefined;

  constructor(private readonly film: Film['film']) {}

  render(m: Messages): HTMLElement {
    this.messages = m;
    this.tableBox = element('div', { class: 'table-box' });
    this.linksError = element('p', { class: 'error', role: 'alert' });
    const refresh = element('button', { type: 'button' }, m.refreshLinks);
    refresh.addEventListener('click', () => void this.refresh());
    const section = element(
      'section',
      { class: 'share', 'aria-labelledby': 'share-title' },
      element('h2', { id: 'share-title' }, m.shareTitle),
      element('p', { class: 'hint' }, m.shareHint),
      this.form(m),
      element('div', { class: 'heading-row' }, element('h2', { id: 'links-title' }, m.yourLinks), refresh),
      this.linksError,
      this.tableBox,
    );
    this.renderTable();
    return section;
  }

  /** Reads the film's links again and shows them. */
  async refresh(): Promise<void> {
    try {
      const response = await api('/api/film/links');
      if (!response.ok) throw new Error(String(response.status));
      this.links = ((await response.json()) as { links: FilmLink[] }).links;
      if (this.linksError) this.linksError.textContent = '';
    } catch (error) {
      if (error instanceof SessionEnded) return;
      if (this.linksError && this.messages) this.linksError.textContent = this.messages.failed;
    }
    this.renderTable();
  }

  private form(m: Messages): HTMLFormElement {
    const remainingHours = (Date.parse(this.film.linkExpiresAt) - Date.now()) / HOUR_MS;
    const valid = element('select', { id: 'share-valid', name: 'valid' });
    const choices = (
      [
        [24, m.hours24],
        [72, m.days3],
        [168, m.days7],
      ] as const
    ).filter(([hours]) => hours <= remainingHours);
    for (const [hours, label] of choices) valid.append(element('option', { value: String(hours) }, label));
    // A film ending within a day: the link lasts as long as the film (the server's bound).
    if (choices.length === 0) {
      valid.append(
        element('option', { value: '' }, m.untilFilmEnds(formatDateTime(this.film.linkExpiresAt))),
      );
    }
    valid.value = choices.some(([hours]) => hours === 72)
      ? '72'
      : (valid.options[valid.options.length - 1]?.value ?? '');

    const download = element('input', { id: 'share-download', name: 'download', type: 'checkbox' });
    const downloadField = element(
      'div',
      { class: 'check' },
      download,
      element('label', { for: 'share-download' }, m.allowDownload),
    );
    if (!this.film.allowDownload) {
      download.disabled = true;
      downloadField.append(element('p', { class: 'hint', id: 'share-download-hint' }, m.downloadNotAllowed));
      download.setAttribute('aria-describedby', 'share-download-hint');
    }
    const pin = element('input', {
      id: 'share-pin',
      name: 'pin',
      type: 'text',
      inputmode: 'numeric',
      pattern: '[0-9]{4,12}',
      maxlength: '12',
      autocomplete: 'off',
      'aria-describedby': 'share-pin-hint',
    });
    const submit = element('button', { type: 'submit', class: 'primary' }, m.createLink);
    const error = element('p', { class: 'error', role: 'alert' });
    const result = element('div', { class: 'new-link', 'aria-live': 'polite' });
    if (this.created) this.showCreated(result, this.created, m);

    const form = element(
      'form',
      { class: 'share-form', 'aria-labelledby': 'share-title' },
      element('div', { class: 'field' }, element('label', { for: 'share-valid' }, m.validFor), valid),
      downloadField,
      element(
        'div',
        { class: 'field' },
        element('label', { for: 'share-pin' }, m.pinOptional),
        pin,
        element('p', { class: 'hint', id: 'share-pin-hint' }, m.pinRule),
      ),
      submit,
      error,
      result,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      if (pin.value !== '' && !/^\d{4,12}$/.test(pin.value)) {
        error.textContent = m.pinRule;
        pin.focus();
        return;
      }
      const body = {
        ...(valid.value !== '' && { expiresInHours: Number(valid.value) }),
        allowDownload: download.checked && !download.disabled,
        ...(pin.value !== '' && { pin: pin.value }),
      };
      submit.disabled = true;
      submit.textContent = m.creating;
      void (async () => {
        try {
          const response = await api('/api/film/links', { method: 'POST', body: JSON.stringify(body) });
          if (response.status !== 201) {
            error.textContent = (await errorEnvelopeMessage(response)) ?? m.failed;
            return;
          }
          this.created = (await response.json()) as CreatedLink;
          pin.value = '';
          this.showCreated(result, this.created, m);
          await this.refresh();
        } catch (failure) {
          if (!(failure instanceof SessionEnded)) error.textContent = m.failed;
        } finally {
          submit.disabled = false;
          submit.textContent = m.createLink;
        }
      })();
    });
    return form;
  }

  private showCreated(box: HTMLElement, link: CreatedLink, m: Messages): void {
    const url = element('p', { class: 'url', id: 'new-link-url' }, link.url);
    const copy = element('button', { type: 'button' }, m.copyLink);
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(link.url).then(
        () => {
          copy.textContent = m.copied;
        },
        () => selectText(url),
      );
      selectText(url);
    });
    box.replaceChildren(
      element('h3', {}, m.newLink),
      element('p', { class: 'hint' }, m.newLinkHint),
      url,
      copy,
      element('img', { class: 'qr', src: link.qrCode, alt: m.qrAlt, width: '240', height: '240' }),
      element('p', { class: 'hint' }, `${m.expires}: ${formatDateTime(link.expiresAt)}`),
    );
  }

  private renderTable(): void {
    const box = this.tableBox;
    const m = this.messages;
    if (!box || !m) return;
    if (!this.links) {
      box.replaceChildren(element('p', { class: 'hint' }, m.loading));
      return;
    }
    const head = element(
      'tr',
      {},
      element('th', { scope: 'col' }, m.link),
      element('th', { scope: 'col' }, m.status),
      element('th', { scope: 'col' }, m.expires),
      element('th', { scope: 'col' }, m.timesOpened),
    );
    const body = element('tbody', {});
    for (const link of this.links) body.append(...this.rows(link, m));
    box.replaceChildren(
      element(
        'table',
        { class: 'links', 'aria-labelledby': 'links-title' },
        element('thead', {}, head),
        body,
      ),
    );
  }

  private rows(link: FilmLink, m: Messages): HTMLTableRowElement[] {
    const kind = link.parentShareId === null ? m.thisFilm : m.doctorLink;
    const row = element(
      'tr',
      { 'data-link-id': link.id, 'data-status': link.status },
      element(
        'th',
        { scope: 'row' },
        kind,
        element('span', { class: 'created' }, formatDateTime(link.createdAt)),
        ...(link.secondFactor === 'pin' ? [element('span', { class: 'badge' }, m.pin)] : []),
      ),
      element('td', {}, m.linkStatus[link.status]),
      element('td', {}, formatDateTime(link.expiresAt)),
      element('td', { class: 'count' }, String(link.useCount)),
    );
    const openings = element('ul', { class: 'openings', 'aria-label': m.openingsOf(kind) });
    for (const opening of link.openings.slice(0, OPENINGS_SHOWN)) {
      openings.append(
        element(
          'li',
          {},
          element('time', { datetime: opening.occurredAt }, formatDateTime(opening.occurredAt)),
          ` · ${m.outcomes[opening.outcome]} · ${opening.address ?? m.unknownAddress}`,
        ),
      );
    }
    if (link.openings.length > OPENINGS_SHOWN) {
      openings.append(element('li', {}, m.earlierOpenings(link.openings.length - OPENINGS_SHOWN)));
    }
    if (link.openings.length === 0) openings.append(element('li', {}, m.noOpenings));
    // The row's action sits under it, beside the openings: a phone has no room for a fifth column.
    const cell = element('td', { colspan: '4' }, openings);
    if (link.parentShareId !== null && (link.status === 'active' || link.status === 'not-yet-valid')) {
      const revoke = element(
        'button',
        { type: 'button', class: 'danger', 'aria-label': m.revokeLabel },
        m.revoke,
      );
      revoke.addEventListener('click', () => {
        revoke.disabled = true;
        void this.revoke(link.id);
      });
      cell.append(element('div', { class: 'row-actions' }, revoke));
    }
    const detail = element('tr', { class: 'openings-row', 'data-openings-of': link.id }, cell);
    return [row, detail];
  }

  private async revoke(id: string): Promise<void> {
    try {
      const response = await api(`/api/film/links/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (response.status !== 204 && this.linksError && this.messages) {
        this.linksError.textContent = (await errorEnvelopeMessage(response)) ?? this.messages.failed;
      }
    } catch (error) {
      if (error instanceof SessionEnded) return;
      if (this.linksError && this.messages) this.linksError.textContent = this.messages.failed;
    }
    await this.refresh();
  }
}

function selectText(node: Node): void {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}
