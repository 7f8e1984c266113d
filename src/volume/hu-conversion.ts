import type { HuSimdKernel } from './hu-simd.js';
import type { HuSlice } from './reconstruct.js';
import type { SliceImage } from './slice-image.js';
import { PADDING_HU } from './volume.js';

/**
 * Converts one slice's stored values to HU (stored * RescaleSlope + RescaleIntercept, rounded, clamped to
 * int16) into `out`; padding (PixelPaddingValue range) becomes PADDING_HU. `simd` (see hu-simd.ts) converts
 * what it can, 8 voxels at a time, with the same results; JavaScript does the rest.
 */
export function toHuSlice(
  slice: SliceImage,
  out: Int16Array = new Int16Array(slice.pixels.length),
  simd?: HuSimdKernel,
): HuSlice {
  const { pixels, rescaleSlope, rescaleIntercept, padding, ...rest } = slice;
  const low = padding?.low ?? Infinity;
  const high = padding?.high ?? -Infinity;
  let paddingVoxels: number;
  const vectorized =
    simd && rescaleSlope === 1 && !(pixels instanceof Int32Array)
      ? simd(pixels, rescaleIntercept, low, high, out)
      : undefined;
  if (vectorized !== undefined) {
    const done = pixels.length & ~7;
    const tail = { ...slice, pixels: pixels.subarray(done) };
    return {
      ...rest,
      hu: out,
      paddingVoxels: vectorized + toHuSlice(tail, out.subarray(done)).paddingVoxels,
    };
  }
  if (rescaleSlope === 1 && Number.isInteger(rescaleIntercept)) {
    // One kernel per array type keeps each loop monomorphic (several times faster in V8).
    if (pixels instanceof Int16Array) paddingVoxels = offsetInt16(pixels, rescaleIntercept, low, high, out);
    else if (pixels instanceof Uint16Array)
      paddingVoxels = offsetUint16(pixels, rescaleIntercept, low, high, out);
    else paddingVoxels = offsetAny(pixels, 1, rescaleIntercept, low, high, out);
  } else {
    paddingVoxels = offsetAny(pixels, rescaleSlope, rescaleIntercept, low, high, out);
  }
  return { ...rest, hu: out, paddingVoxels };
}

function offsetInt16(
  pixels: Int16Array,
  intercept: number,
  low: number,
  high: number,
  out: Int16Array,
): number {
  let padding = 0;
  for (let p = 0; p < pixels.length; p += 1) {
    const v = pixels[p]!;
    if (v >= low && v <= high) {
      out[p] = PADDING_HU;
      padding += 1;
    } else {
      const h = v + intercept;
      out[p] = h < -32768 ? -32768 : h > 32767 ? 32767 : h;
    }
  }
  return padding;
}

function offsetUint16(
  pixels: Uint16Array,
  intercept: number,
  low: number,
  high: number,
  out: Int16Array,
): number {
  let padding = 0;
  for (let p = 0; p < pixels.length; p += 1) {
    const v = pixels[p]!;
    if (v >= low && v <= high) {
      out[p] = PADDING_HU;
      padding += 1;
    } else {
      const h = v + intercept;
      out[p] = h < -32768 ? -32768 : h > 32767 ? 32767 : h;
    }
  }
  return padding;
}

/** General case: any slope, any array type. */
function offsetAny(
  pixels: Int16Array | Uint16Array | Int32Array,
  slope: number,
  intercept: number,
  low: number,
  high: number,
  out: Int16Array,
): number {
  let padding = 0;
  for (let p = 0; p < pixels.length; p += 1) {
    const v = pixels[p]!;
    if (v >= low && v <= high) {
      out[p] = PADDING_HU;
      padding += 1;
    } else {
      const h = Math.round(v * slope + intercept);
      out[p] = h < -32768 ? -32768 : h > 32767 ? 32767 : h;
    }
  }
  return padding;
}
