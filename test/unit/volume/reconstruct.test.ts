import { describe, expect, it } from 'vitest';
import { reconstructVolume, type HuSlice } from '../../../src/volume/reconstruct.js';
import { asNdarray } from '../../../src/volume/volume.js';
import type { Vec3 } from '../../../src/volume/volume.js';

/** A 2x2 slice at `position` whose four voxels all hold `value`. */
function slice(position: Vec3, value: number, overrides: Partial<HuSlice> = {}): HuSlice {
  return {
    sopInstanceUid: `2.25.${value + 5000}`,
    frameNumber: 1,
    instanceNumber: undefined,
    positionLps: position,
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    pixelSpacingMm: [0.5, 0.5],
    rows: 2,
    columns: 2,
    sliceThicknessMm: 1,
    modality: 'CT',
    imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    hu: new Int16Array(4).fill(value),
    paddingVoxels: 0,
    ...overrides,
  };
}

const stack = (zs: number[], at: (z: number) => Vec3 = (z) => [0, 0, z]) =>
  zs.map((z) => slice(at(z), z * 10));

describe('reconstructVolume', () => {
  it('orders slices along the normal, whatever their arrival order', () => {
    const result = reconstructVolume(stack([3, 1, 2, 0]));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.volume.dimensions).toEqual([2, 2, 4]);
    expect(result.volume.spacingMm).toEqual([0.5, 0.5, 1]);
    expect(result.volume.originLps).toEqual([0, 0, 0]);
    expect(Array.from(result.volume.hu.filter((_, i) => i % 4 === 0))).toEqual([0, 10, 20, 30]);
    expect(result.issues).toEqual([]);
    // The ndarray view is indexed (k, j, i) over the same memory.
    const view = asNdarray(result.volume);
    expect(view.shape).toEqual([4, 2, 2]);
    expect(view.get(2, 1, 1)).toBe(20);
  });

  it('follows a slice normal that points down (feet-first stacking) by its direction, not by z', () => {
    const flipped = stack([0, 1, 2], (z) => [0, 0, -z]).map((s) => ({
      ...s,
      columnDirection: [0, -1, 0] as Vec3,
    }));
    const result = reconstructVolume(flipped);
    expect(result.ok && result.volume.direction).toEqual([1, 0, 0, 0, -1, 0, 0, 0, -1]);
    expect(result.ok && result.volume.originLps).toEqual([0, 0, -0]);
  });

  it.each([
    ['duplicate-positions', stack([0, 1, 1, 2])],
    ['mixed-orientations', [...stack([0, 1]), slice([0, 0, 2], 1, { rowDirection: [0.8, 0.6, 0] })]],
    ['mixed-sizes', [...stack([0, 1]), slice([0, 0, 2], 1, { rows: 3, hu: new Int16Array(6) })]],
    ['mixed-spacing', [...stack([0, 1]), slice([0, 0, 2], 1, { pixelSpacingMm: [0.6, 0.6] })]],
    ['gantry-tilt', stack([0, 1, 2, 3], (z) => [0, z * 0.2, z])],
    ['no-images', []],
  ])('rejects %s', (code, slices) => {
    const result = reconstructVolume(slices);
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([expect.objectContaining({ code, severity: 'reject' })]);
  });

  it('reports uneven spacing and resamples linearly onto an even grid near the median step', () => {
    const result = reconstructVolume(stack([0, 1, 2, 3.5, 4.5, 5.5]));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.issues.map((i) => i.code)).toEqual(['uneven-spacing']);
    // 5.5 mm at a median step of 1 mm: 7 slices, 5.5/6 mm apart.
    expect(result.volume.dimensions[2]).toBe(7);
    expect(result.volume.spacingMm[2]).toBeCloseTo(5.5 / 6, 9);
    // k = 3 is z = 2.75, between z = 2 (HU 20) and z = 3.5 (HU 35): 20 + 15 * 0.75 / 1.5 = 27.5 -> 28
    expect(result.volume.hu[3 * 4]).toBe(28);
    expect(result.volume.hu[6 * 4]).toBe(55);
  });

  it('reports a gap as missing slices', () => {
    const result = reconstructVolume(stack([0, 1, 2, 5, 6, 7]));
    expect(result.issues.map((i) => i.code)).toEqual(['missing-slices']);
    expect(result.ok && result.volume.dimensions[2]).toBe(8);
  });
});
