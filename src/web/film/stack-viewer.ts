// The film's touch stack viewer: one series' slices drawn on a canvas as WADO-RS rendered images. One finger
// dragged up or down moves through the slices, two fingers pinch to zoom and pan, a double tap resets; a
// slider, buttons, the wheel and the arrow keys do the same for everyone else. Images near the current slice
// are fetched a few at a time (nearest first) and kept decoded.
import type { FilmSeries } from './api-types.js';
import type { Messages } from './i18n.js';
import { element, fetchRendered, renderedUrl, SessionEnded, type WindowName } from './ui.js';

/** Rendered images requested at once, at most. */
const MAX_IN_FLIGHT = 4;
/** Slices on each side of the current one fetched ahead. */
const PRELOAD_RADIUS = 10;
/** Decoded slices kept (a 512 x 512 slice is 1 MiB decoded). */
const CACHE_LIMIT = 80;
const MAX_ZOOM = 8;
const DOUBLE_TAP_MS = 350;

/** Modalities whose instances are not images to scroll through. */
const NOT_IMAGES = new Set(['SR', 'SEG', 'KO', 'PR', 'DOC', 'RTSTRUCT']);

/** The series of a film the viewer can show: image series with at least one instance. */
export function viewableSeries(series: readonly FilmSeries[]): FilmSeries[] {
  return series.filter((s) => s.sopInstanceUids.length > 0 && !NOT_IMAGES.has(s.modality ?? ''));
}

interface Cached {
  bitmap: ImageBitmap;
  seriesUid: string;
  window: WindowName;
  index: number;
}

interface Pending extends Omit<Cached, 'bitmap'> {
  controller: AbortController;
}

interface Controls {
  range: HTMLInputElement;
  caption: HTMLElement;
  previous: HTMLButtonElement;
  next: HTMLButtonElement;
  windows: Map<WindowName, HTMLButtonElement>;
  status: HTMLElement;
  seriesSelect: HTMLSelectElement | undefined;
}

export class StackViewer {
  readonly canvas: HTMLCanvasElement;
  private readonly series: FilmSeries[];
  private seriesIndex = 0;
  private sliceIndex = 0;
  private windowName: WindowName = 'lung';
  /** +1 or -1: the way the reader last moved, fetched first. */
  private direction = 1;
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Pending>();
  private readonly failed = new Set<string>();
  private drawnKey: string | undefined;
  private zoom = 1;
  /** Pan of the image's centre from the canvas' centre, CSS pixels. */
  private pan = { x: 0, y: 0 };
  private controls: Controls | undefined;
  private messages: Messages | undefined;
  private stopped = false;

  constructor(
    private readonly studyUid: string,
    series: readonly FilmSeries[],
  ) {
    this.series = viewableSeries(series);
    const longest = this.series.reduce(
      (best, s, i) =>
        s.sopInstanceUids.length > (this.series[best]?.sopInstanceUids.length ?? 0) ? i : best,
      0,
    );
    this.seriesIndex = longest;
    this.sliceIndex = Math.floor((this.current()?.sopInstanceUids.length ?? 1) / 2);
    this.canvas = element('canvas', { class: 'stack', tabindex: '0', role: 'img' });
    this.listen();
    new ResizeObserver(() => this.resize()).observe(this.canvas);
  }

  get isEmpty(): boolean {
    return this.series.length === 0;
  }

  /** The viewer's controls in `messages`' words, around the same canvas (a language switch keeps the place). */
  render(messages: Messages): HTMLElement {
    this.messages = messages;
    const box = element('div', { class: 'viewer' });
    if (this.isEmpty) {
      this.controls = undefined;
      box.append(element('p', {}, messages.noImages));
      return box;
    }
    let seriesSelect: HTMLSelectElement | undefined;
    if (this.series.length > 1) {
      seriesSelect = element('select', { id: 'film-series' });
      for (const [n, s] of this.series.entries()) {
        const option = element(
          'option',
          { value: String(n) },
          messages.seriesName(n + 1, s.description, s.sopInstanceUids.length),
        );
        seriesSelect.append(option);
      }
      seriesSelect.addEventListener('change', () => this.showSeries(Number(seriesSelect!.value)));
      box.append(
        element(
          'div',
          { class: 'field' },
          element('label', { for: 'film-series' }, messages.series),
          seriesSelect,
        ),
      );
    }
    const status = element('p', { class: 'viewer-status', 'aria-live': 'polite' });
    const caption = element('output', { class: 'slice-caption', for: 'film-slice', 'aria-live': 'polite' });
    const range = element('input', { id: 'film-slice', type: 'range', min: '1', step: '1' });
    range.addEventListener('input', () => this.setSlice(Number(range.value) - 1));
    const previous = element('button', { type: 'button' }, messages.previousSlice);
    previous.addEventListener('click', () => this.setSlice(this.sliceIndex - 1));
    const next = element('button', { type: 'button' }, messages.nextSlice);
    next.addEventListener('click', () => this.setSlice(this.sliceIndex + 1));
    const windows = new Map<WindowName, HTMLButtonElement>();
    const windowButtons = element('div', { class: 'buttons', role: 'group', 'aria-label': messages.window });
    for (const [name, label] of [
      ['lung', messages.lung],
      ['soft', messages.softTissue],
    ] as const) {
      const button = element('button', { type: 'button', class: 'toggle' }, label);
      button.addEventListener('click', () => this.setWindow(name));
      windows.set(name, button);
      windowButtons.append(button);
    }
    box.append(
      element('div', { class: 'canvas-box' }, this.canvas, status),
      caption,
      element('label', { for: 'film-slice', class: 'visually-hidden' }, messages.slice),
      range,
      element('div', { class: 'buttons' }, previous, next),
      element('div', { class: 'window-row' }, element('span', {}, messages.window), windowButtons),
      element('p', { class: 'hint' }, messages.viewerHelp),
    );
    this.controls = { range, caption, previous, next, windows, status, seriesSelect };
    this.update();
    return box;
  }

  /** Shows one image (a nodule's key image): its series, at its slice. */
  showImage(seriesUid: string, sopUid: string): boolean {
    const seriesIndex = this.series.findIndex((s) => s.seriesInstanceUid === seriesUid);
    const slice = this.series[seriesIndex]?.sopInstanceUids.indexOf(sopUid) ?? -1;
    if (slice < 0) return false;
    this.seriesIndex = seriesIndex;
    this.sliceIndex = slice;
    this.resetZoom();
    this.update();
    return true;
  }

  /** Stops fetching (the session ended). */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) p.controller.abort();
    this.pending.clear();
  }

  private current(): FilmSeries | undefined {
    return this.series[this.seriesIndex];
  }

  private key(seriesUid: string, window: WindowName, index: number): string {
    return `${window}|${seriesUid}|${index}`;
  }

  private currentKey(): string | undefined {
    const series = this.current();
    return series && this.key(series.seriesInstanceUid, this.windowName, this.sliceIndex);
  }

  private showSeries(index: number): void {
    if (!this.series[index] || index === this.seriesIndex) return;
    this.seriesIndex = index;
    this.sliceIndex = Math.floor(this.series[index].sopInstanceUids.length / 2);
    this.resetZoom();
    this.update();
  }

  private setSlice(index: number): void {
    const count = this.current()?.sopInstanceUids.length ?? 0;
    const clamped = Math.max(0, Math.min(count - 1, Math.round(index)));
    if (clamped === this.sliceIndex) return;
    this.direction = clamped > this.sliceIndex ? 1 : -1;
    this.sliceIndex = clamped;
    this.update();
  }

  private setWindow(name: WindowName): void {
    if (name === this.windowName) return;
    this.windowName = name;
    this.update();
  }

  private resetZoom(): void {
    this.zoom = 1;
    this.pan = { x: 0, y: 0 };
  }

  /** Brings the controls, the canvas and the fetching in line with the current slice. */
  private update(): void {
    const series = this.current();
    const m = this.messages;
    if (!series || !m) return;
    const count = series.sopInstanceUids.length;
    const k = this.sliceIndex + 1;
    const c = this.controls;
    if (c) {
      c.range.max = String(count);
      c.range.value = String(k);
      c.range.setAttribute('aria-valuetext', m.sliceOf(k, count));
      c.caption.textContent = m.sliceOf(k, count);
      c.previous.disabled = this.sliceIndex === 0;
      c.next.disabled = this.sliceIndex === count - 1;
      for (const [name, button] of c.windows)
        button.setAttribute('aria-pressed', String(name === this.windowName));
      if (c.seriesSelect) c.seriesSelect.value = String(this.seriesIndex);
    }
    this.canvas.setAttribute('aria-label', m.viewerLabel(k, count));
    this.draw();
    this.pump();
  }

  private resize(): void {
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.round(this.canvas.clientWidth * ratio);
    const height = Math.round(this.canvas.clientHeight * ratio);
    if (width === 0 || height === 0) return;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      [this.canvas.width, this.canvas.height] = [width, height];
    }
    this.draw();
  }

  /** Draws the current slice, or keeps the last one drawn while the current one loads. */
  private draw(): void {
    const key = this.currentKey();
    const shown = (key !== undefined ? this.cache.get(key) : undefined) ?? this.cachedDrawn();
    const status = this.controls?.status;
    if (status && this.messages) {
      const loaded = key !== undefined && this.cache.has(key);
      status.textContent =
        key !== undefined && this.failed.has(key)
          ? this.messages.imageFailed
          : loaded
            ? ''
            : this.messages.loading;
      status.hidden = status.textContent === '';
    }
    const context = this.canvas.getContext('2d');
    if (!context) return;
    const { width, height } = this.canvas;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = '#000';
    context.fillRect(0, 0, width, height);
    if (!shown) return;
    const ratio = globalThis.devicePixelRatio || 1;
    const { bitmap } = shown;
    const scale = Math.min(width / bitmap.width, height / bitmap.height) * this.zoom;
    const x = width / 2 + this.pan.x * ratio - (bitmap.width * scale) / 2;
    const y = height / 2 + this.pan.y * ratio - (bitmap.height * scale) / 2;
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.setTransform(scale, 0, 0, scale, x, y);
    context.drawImage(bitmap, 0, 0);
    if (key !== undefined && this.cache.has(key)) this.drawnKey = key;
  }

  private cachedDrawn(): Cached | undefined {
    return this.drawnKey === undefined ? undefined : this.cache.get(this.drawnKey);
  }

  /** Starts fetching the nearest missing slices, dropping requests now far from the current slice. */
  private pump(): void {
    const series = this.current();
    if (!series || this.stopped) return;
    for (const [key, p] of this.pending) {
      if (
        p.seriesUid !== series.seriesInstanceUid ||
        p.window !== this.windowName ||
        Math.abs(p.index - this.sliceIndex) > PRELOAD_RADIUS
      ) {
        p.controller.abort();
        this.pending.delete(key);
      }
    }
    const count = series.sopInstanceUids.length;
    for (let distance = 0; distance <= PRELOAD_RADIUS && this.pending.size < MAX_IN_FLIGHT; distance += 1) {
      for (const index of distance === 0
        ? [this.sliceIndex]
        : [this.sliceIndex + distance * this.direction, this.sliceIndex - distance * this.direction]) {
        if (index < 0 || index >= count || this.pending.size >= MAX_IN_FLIGHT) continue;
        const key = this.key(series.seriesInstanceUid, this.windowName, index);
        if (this.cache.has(key) || this.pending.has(key) || this.failed.has(key)) continue;
        void this.load(series, index, key);
      }
    }
  }

  private async load(series: FilmSeries, index: number, key: string): Promise<void> {
    const controller = new AbortController();
    const window = this.windowName;
    this.pending.set(key, { controller, seriesUid: series.seriesInstanceUid, window, index });
    try {
      const url = renderedUrl(
        this.studyUid,
        series.seriesInstanceUid,
        series.sopInstanceUids[index]!,
        window,
      );
      const bitmap = await createImageBitmap(await fetchRendered(url, controller.signal));
      if (controller.signal.aborted) {
        bitmap.close();
        return;
      }
      this.cache.set(key, { bitmap, seriesUid: series.seriesInstanceUid, window, index });
      this.evict();
      if (key === this.currentKey()) this.draw();
    } catch (error) {
      if (error instanceof SessionEnded) this.stop();
      else if (!controller.signal.aborted) {
        this.failed.add(key);
        if (key === this.currentKey()) this.draw();
      }
    } finally {
      if (this.pending.get(key)?.controller === controller) this.pending.delete(key);
      this.pump();
    }
  }

  /** Drops the oldest decoded slices beyond the limit, except those around the current slice. */
  private evict(): void {
    if (this.cache.size <= CACHE_LIMIT) return;
    const series = this.current();
    for (const [key, cached] of this.cache) {
      if (this.cache.size <= CACHE_LIMIT) break;
      const near =
        cached.seriesUid === series?.seriesInstanceUid &&
        cached.window === this.windowName &&
        Math.abs(cached.index - this.sliceIndex) <= PRELOAD_RADIUS;
      if (near || key === this.drawnKey) continue;
      cached.bitmap.close();
      this.cache.delete(key);
    }
  }

  /** Touch, pen and mouse on the canvas (pointer events), the wheel and the keyboard. */
  private listen(): void {
    const canvas = this.canvas;
    const pointers = new Map<number, { x: number; y: number }>();
    let drag: { y: number; slice: number } | undefined;
    let pinch:
      | { distance: number; zoom: number; mid: { x: number; y: number }; pan: { x: number; y: number } }
      | undefined;
    let tap: { x: number; y: number; at: number } | undefined;
    let lastTapAt = 0;

    const spread = () => {
      const [a, b] = [...pointers.values()];
      if (!a || !b) return undefined;
      return { distance: Math.hypot(a.x - b.x, a.y - b.y), mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
    };
    const startGesture = () => {
      const [first] = [...pointers.values()];
      drag = pointers.size === 1 && first ? { y: first.y, slice: this.sliceIndex } : undefined;
      const two = pointers.size === 2 ? spread() : undefined;
      pinch = two && {
        distance: Math.max(two.distance, 1),
        zoom: this.zoom,
        mid: two.mid,
        pan: { ...this.pan },
      };
    };
    /** CSS pixels of finger travel per slice: the whole stack in a little under a canvas' height, 4-24 px. */
    const stepPx = () => {
      const count = this.current()?.sopInstanceUids.length ?? 1;
      return Math.max(4, Math.min(24, (canvas.clientHeight * 0.8) / count));
    };

    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      tap = pointers.size === 1 ? { x: event.clientX, y: event.clientY, at: event.timeStamp } : undefined;
      startGesture();
      event.preventDefault();
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (tap && Math.hypot(event.clientX - tap.x, event.clientY - tap.y) > 10) tap = undefined;
      if (pinch) {
        const now = spread();
        if (!now) return;
        this.zoom = Math.max(1, Math.min(MAX_ZOOM, (pinch.zoom * now.distance) / pinch.distance));
        this.pan = {
          x: this.zoom === 1 ? 0 : pinch.pan.x + now.mid.x - pinch.mid.x,
          y: this.zoom === 1 ? 0 : pinch.pan.y + now.mid.y - pinch.mid.y,
        };
        this.draw();
      } else if (drag) {
        // A finger moving up brings the next slices, as a page scrolls.
        this.setSlice(drag.slice + Math.round((drag.y - event.clientY) / stepPx()));
      }
      event.preventDefault();
    });
    const end = (event: PointerEvent) => {
      if (!pointers.delete(event.pointerId)) return;
      if (event.type === 'pointerup' && tap && event.timeStamp - tap.at < 300) {
        if (event.timeStamp - lastTapAt < DOUBLE_TAP_MS) {
          this.resetZoom();
          this.draw();
          lastTapAt = 0;
        } else lastTapAt = event.timeStamp;
      }
      tap = undefined;
      startGesture();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);

    let wheel = 0;
    canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        wheel += event.deltaY;
        const steps = Math.trunc(wheel / 40);
        if (steps !== 0) {
          wheel -= steps * 40;
          this.setSlice(this.sliceIndex + steps);
        }
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (event) => {
      const count = this.current()?.sopInstanceUids.length ?? 0;
      const moves: Record<string, number> = {
        ArrowDown: this.sliceIndex + 1,
        ArrowRight: this.sliceIndex + 1,
        PageDown: this.sliceIndex + 10,
        ArrowUp: this.sliceIndex - 1,
        ArrowLeft: this.sliceIndex - 1,
        PageUp: this.sliceIndex - 10,
        Home: 0,
        End: count - 1,
      };
      const target = moves[event.key];
      if (target === undefined) return;
      event.preventDefault();
      this.setSlice(target);
    });
  }
}
