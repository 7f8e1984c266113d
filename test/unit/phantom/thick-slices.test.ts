import { describe, expect, it } from 'vitest';
import { thickSlices } from '../../../src/phantom/thick-slices.js';
import type { CtVolume } from '../../../src/volume/volume.js';

const volume = (nz: number): CtVolume => ({
  dimensions: [2, 1, nz],
  spacingMm: [0.7, 0.7, 2.5],
  originLps: [10, 20, -100],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  hu: Int16Array.from({ length: 2 * nz }, (_, n) => (n % 2 === 0 ? 10 * Math.floor(n / 2) : -1000)),
  paddingVoxels: 0,
});

describe('thickSlices', () => {
  it('averages groups of slices, doubles the spacing and centres the origin on the first group', () => {
    const thick = thickSlices(volume(5), 2);
    expect(thick.dimensions).toEqual([2, 1, 2]);
    expect(thick.spacingMm).toEqual([0.7, 0.7, 5]);
    expect(thick.originLps).toEqual([10, 20, -98.75]);
    // Column 0 holds 0, 10, 20, 30, 40 HU along k: groups (0, 10) and (20, 30); the fifth slice is dropped.
    expect(Array.from(thick.hu)).toEqual([5, -1000, 25, -1000]);
  });

  it('keeps positions on a tilted k axis and refuses factors that do not group', () => {
    const tilted = { ...volume(4), direction: [1, 0, 0, 0, 1, 0, 0, 0.6, 0.8] as CtVolume['direction'] };
    expect(thickSlices(tilted, 2).originLps.map((v) => Math.round(v * 1000) / 1000)).toEqual([
      10, 20.75, -99,
    ]);
    expect(() => thickSlices(volume(1), 2)).toThrow(RangeError);
    expect(() => thickSlices(volume(4), 1.5)).toThrow(RangeError);
  });
});
