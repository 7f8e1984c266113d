import { describe, expect, it } from 'vitest';
import { toHuSlice } from '../../../src/volume/hu-conversion.js';
import type { SliceImage } from '../../../src/volume/slice-image.js';
import { createSlicePool } from '../../../src/volume/slice-pool.js';

/** A slice of random stored values (every bit pattern), `voxels` long (not a multiple of 8: a tail). */
function slice(
  pixels: Int16Array | Uint16Array,
  rescaleIntercept: number,
  padding: SliceImage['padding'],
  rescaleSlope = 1,
): SliceImage {
  for (let i = 0; i < pixels.length; i += 1) pixels[i] = Math.floor(Math.random() * 65536);
  // Padding values where a range is given, so that both branches are taken often.
  if (padding) for (let i = 0; i < pixels.length; i += 7) pixels[i] = padding.low;
  return {
    sopInstanceUid: '2.25.1',
    frameNumber: 1,
    instanceNumber: 1,
    positionLps: [0, 0, 0],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    pixelSpacingMm: [1, 1],
    rows: 1,
    columns: pixels.length,
    rescaleSlope,
    rescaleIntercept,
    padding,
    sliceThicknessMm: 1,
    modality: 'CT',
    imageType: [],
    pixels,
  };
}

const VOXELS = 4099;

describe('HU conversion with WebAssembly SIMD', () => {
  const pool = createSlicePool(VOXELS, 1);

  it('is available here, in the slice pool', () => {
    expect(pool.simd).toBeDefined();
  });

  it.each([
    ['int16', -1024, { low: -2000, high: -2000 }],
    ['int16', 32767, { low: -32768, high: -30000 }],
    ['int16', -32768, undefined],
    ['int16', 0, { low: 5, high: 3 }],
    ['uint16', -1024, { low: 0, high: 0 }],
    ['uint16', -70000, { low: 60000, high: 70000 }],
    ['uint16', 40000, undefined],
    ['uint16', -32768, { low: -5, high: 10 }],
    ['int16', 40000, { low: 0, high: 1 }], // intercept beyond int16: JavaScript does it all
    ['int16', -1024.5, undefined], // non-integer intercept: JavaScript
  ] as const)(
    '%s, intercept %d, padding %o: the same values and padding count as JavaScript',
    (type, intercept, padding) => {
      const pixels = type === 'int16' ? new Int16Array(VOXELS) : new Uint16Array(VOXELS);
      const image = slice(pixels, intercept, padding && { ...padding });
      const reference = toHuSlice(image);
      const vectorized = toHuSlice(image, pool.slot(0), pool.simd);
      expect(vectorized.paddingVoxels).toBe(reference.paddingVoxels);
      expect(
        Buffer.from(vectorized.hu.buffer, vectorized.hu.byteOffset, vectorized.hu.byteLength).equals(
          Buffer.from(reference.hu.buffer),
        ),
      ).toBe(true);
    },
  );

  it('leaves slopes other than 1 to JavaScript, with the same result', () => {
    const image = slice(new Int16Array(VOXELS), -1024, undefined, 0.5);
    expect(Array.from(toHuSlice(image, pool.slot(0), pool.simd).hu)).toEqual(Array.from(toHuSlice(image).hu));
  });
});

describe('createSlicePool', () => {
  it('hands out consecutive slots until capacity, then none', () => {
    const pool = createSlicePool(16, 3, { headroomBytes: 352 });
    expect([pool.reserve(2), pool.reserve(2), pool.reserve(1)]).toEqual([0, undefined, undefined]);
    expect(pool.slot(1).byteOffset).toBe(352 + 32);
    expect(pool.slot(1).length).toBe(16);
  });
});
