import { DomainError } from '../shared/errors.js';
import { encodeGrayscaleJpeg } from '../volume/grayscale-jpeg.js';
import { encodeGrayscalePng } from '../volume/grayscale-png.js';
import { firstValue, type DicomJsonDataset } from './dicom-json.js';
import type { DecodedPixels } from './pixel-data.js';

/** A VOI window in modality units (HU for CT): centre and width (PS3.3 C.11.2.1.2, linear). */
export interface VoiWindow {
  center: number;
  width: number;
}

/** The lung window, when neither the request nor the instance names one. */
const LUNG_WINDOW: VoiWindow = { center: -600, width: 1500 };

/** Largest rendered side, pixels. */
export const MAX_VIEWPORT = 2048;

/**
 * `window=center,width[,function]` of a WADO-RS rendered request (PS3.18 §8.3.5.1.3); only the linear
 * function. VALIDATION_FAILED naming the parameter for anything else.
 */
export function parseWindow(value: string | undefined): VoiWindow | undefined {
  if (value === undefined || value === '') return undefined;
  const [center, width, fn] = value.split(',').map((v) => v.trim());
  const c = Number(center);
  const w = Number(width);
  if (
    !Number.isFinite(c) ||
    !Number.isFinite(w) ||
    w < 1 ||
    (fn !== undefined && fn.toLowerCase() !== 'linear')
  ) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `window must be center,width[,linear] with width >= 1, not ${JSON.stringify(value)}`,
      {
        context: { attribute: 'window' },
      },
    );
  }
  return { center: c, width: w };
}

/** `viewport=width,height` (or `vw,vh` as in WADO-URI's columns/rows): the largest size to render at. */
export function parseViewport(value: string | undefined): { width: number; height: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const [width, height] = value.split(',').map((v) => Number(v.trim()));
  const ok = (n: number | undefined) => n !== undefined && Number.isInteger(n) && n >= 1 && n <= MAX_VIEWPORT;
  if (!ok(width) || !ok(height ?? width)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `viewport must be width,height of 1-${MAX_VIEWPORT} pixels, not ${JSON.stringify(value)}`,
      {
        context: { attribute: 'viewport' },
      },
    );
  }
  return { width: width!, height: height ?? width! };
}

/** The instance's first WindowCenter/WindowWidth (in modality units), when it has one. */
export function instanceWindow(metadata: DicomJsonDataset | null | undefined): VoiWindow | undefined {
  const center = Number(firstValue(metadata ?? undefined, '00281050'));
  const width = Number(firstValue(metadata ?? undefined, '00281051'));
  return Number.isFinite(center) && Number.isFinite(width) && width >= 1 ? { center, width } : undefined;
}

/** Media types a rendered frame is sent as. */
export type RenderedMediaType = 'image/png' | 'image/jpeg';

/** One frame rendered (see renderFrameGrey) and encoded as PNG (lossless) or JPEG (quality 90). */
export async function renderFrame(
  pixels: DecodedPixels,
  frameIndex: number,
  metadata: DicomJsonDataset | null | undefined,
  options: {
    window?: VoiWindow | undefined;
    viewport?: { width: number; height: number } | undefined;
    mediaType: RenderedMediaType;
  },
): Promise<Uint8Array> {
  const { width, height, grey } = renderFrameGrey(pixels, frameIndex, metadata, options);
  return options.mediaType === 'image/jpeg'
    ? encodeGrayscaleJpeg(width, height, grey)
    : encodeGrayscalePng(width, height, grey);
}

/**
 * One frame as 8-bit grey: stored values through RescaleSlope/Intercept, the VOI window, and MONOCHROME1
 * inverted; scaled down (box average) to fit `viewport` keeping the aspect ratio.
 */
export function renderFrameGrey(
  pixels: DecodedPixels,
  frameIndex: number,
  metadata: DicomJsonDataset | null | undefined,
  options: { window?: VoiWindow | undefined; viewport?: { width: number; height: number } | undefined },
): { width: number; height: number; grey: Uint8Array } {
  const frame = pixels.frames[frameIndex];
  if (!frame) throw new DomainError('NOT_FOUND', `frame ${frameIndex + 1} does not exist`);
  const slope = Number(firstValue(metadata ?? undefined, '00281053') ?? 1);
  const intercept = Number(firstValue(metadata ?? undefined, '00281052') ?? 0);
  const inverted = firstValue(metadata ?? undefined, '00280004') === 'MONOCHROME1';
  const window = options.window ?? instanceWindow(metadata) ?? LUNG_WINDOW;
  const low = window.center - 0.5 - (window.width - 1) / 2;
  const scale = 255 / Math.max(window.width - 1, 1);
  const { rows, columns } = pixels;
  const grey = new Uint8Array(rows * columns);
  for (let p = 0; p < grey.length; p += 1) {
    const value =
      ((frame[p] ?? 0) * (Number.isFinite(slope) ? slope : 1) +
        (Number.isFinite(intercept) ? intercept : 0) -
        low) *
      scale;
    const clamped = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
    grey[p] = inverted ? 255 - clamped : clamped;
  }
  const viewport = options.viewport;
  if (!viewport || (viewport.width >= columns && viewport.height >= rows)) {
    return { width: columns, height: rows, grey };
  }
  const factor = Math.min(viewport.width / columns, viewport.height / rows);
  const width = Math.max(1, Math.round(columns * factor));
  const height = Math.max(1, Math.round(rows * factor));
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const y0 = Math.floor((y * rows) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * rows) / height));
    for (let x = 0; x < width; x += 1) {
      const x0 = Math.floor((x * columns) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * columns) / width));
      let sum = 0;
      for (let yy = y0; yy < y1; yy += 1) for (let xx = x0; xx < x1; xx += 1) sum += grey[yy * columns + xx]!;
      out[y * width + x] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
    }
  }
  return { width, height, grey: out };
}
