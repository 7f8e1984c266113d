import { decodeInstance } from '../dicom/pixel-data.js';
import { toHuSlice } from './hu-conversion.js';
import type { HuSlice } from './reconstruct.js';
import { sliceImagesOf } from './slice-image.js';
import type { SlicePool } from './slice-pool.js';

/** A slice's attributes and geometry, without its voxels. */
export type SliceHeader = Omit<HuSlice, 'hu'>;

/**
 * Where a decoded slice's HU went: into slot `slot` of the shared pool, or (when it had no room there:
 * another size, more slices than expected, no pool yet) into an array of its own.
 */
export type DecodedSlice = SliceHeader &
  ({ slot: number; hu?: undefined } | { slot?: undefined; hu: Int16Array });

/**
 * Decodes one DICOM Part 10 instance and converts each of its frames to HU, into consecutive slots of
 * `pool` where they fit. The same code runs in the decoding threads (decode-worker.ts) and in the calling
 * thread. Throws DomainError('INVALID_DICOM') for an unusable instance, before any slot is reserved.
 *
 * `scratchInput`: `bytes` may be changed in place (native pixel data is then converted without a copy).
 */
export async function decodeSlices(
  bytes: Uint8Array,
  pool: SlicePool | undefined,
  scratchInput: boolean,
): Promise<DecodedSlice[]> {
  const images = sliceImagesOf(await decodeInstance(bytes, { scratchInput }));
  const fits = pool !== undefined && images.every((image) => image.pixels.length === pool.share.sliceVoxels);
  const first = fits ? pool.reserve(images.length) : undefined;
  return images.map((image, k): DecodedSlice => {
    if (first === undefined) return toHuSlice(image);
    const { hu: _placed, ...header } = toHuSlice(image, pool!.slot(first + k), pool!.simd);
    return { ...header, slot: first + k };
  });
}
