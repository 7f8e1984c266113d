import { describe, expect, it } from 'vitest';
import {
  candidateFeatures,
  CANDIDATE_FEATURE_NAMES,
  symmetricEigenvalues3,
} from '../../../src/inference/candidate-features.js';
import { findCandidates } from '../../../src/inference/find-candidates.js';
import type { ModelGrid } from '../../../src/inference/run-heatmap.js';
import { tissueCandidates } from '../../../src/inference/tissue-candidates.js';

const SPACING = 1.5;
/** Lung-like grid (normalised: 0 = -1000 HU, 1 = 400 HU): parenchyma -850 HU. */
function lungGrid(shape: [number, number, number]): ModelGrid {
  return { data: new Float32Array(shape[0] * shape[1] * shape[2]).fill(150 / 1400), shape };
}
/** Paints soft tissue (0 HU) where `inside(x, y, z)`. */
function paint(grid: ModelGrid, inside: (x: number, y: number, z: number) => boolean) {
  const [D, H, W] = grid.shape;
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) if (inside(x, y, z)) grid.data[x + W * (y + H * z)] = 1000 / 1400;
}

describe('findCandidates', () => {
  it('keeps local maxima in the lungs, strongest first, one per blob', () => {
    const grid = lungGrid([20, 20, 20]);
    grid.data.fill(0);
    const set = (x: number, y: number, z: number, v: number) => (grid.data[x + 20 * (y + 20 * z)] = v);
    set(5, 5, 5, 0.5);
    set(6, 5, 5, 0.5); // a plateau: one maximum
    set(14, 14, 14, 0.9);
    set(15, 15, 15, 0.4); // within the radius of the stronger one
    set(10, 3, 10, 0.05); // below minResponse
    set(3, 15, 10, 0.7); // outside the lungs
    const found = findCandidates(grid, undefined, {
      minResponse: 0.1,
      maxCandidates: 10,
      spacingMm: SPACING,
      defaultRadiusMm: 4,
      inLungs: (x) => x >= 5,
    });
    expect(found.map((c) => [c.x, c.y, c.z, c.response])).toEqual([
      [14, 14, 14, expect.closeTo(0.9, 5)],
      [5, 5, 5, 0.5],
    ]);
  });
});

describe('candidate features', () => {
  it('computes symmetric eigenvalues', () => {
    const values = symmetricEigenvalues3(2, 3, 4, 1, 0, 0).sort((a, b) => a - b);
    expect(values[0]).toBeCloseTo((5 - Math.sqrt(5)) / 2, 10);
    expect(values[1]).toBeCloseTo((5 + Math.sqrt(5)) / 2, 10);
    expect(values[2]).toBeCloseTo(4, 10);
  });

  it('tells a blob from a vessel and from tissue at the lung edge', () => {
    const grid = lungGrid([40, 40, 40]);
    paint(grid, (x, y, z) => Math.hypot(x - 10, y - 10, z - 20) <= 4); // sphere r = 6 mm
    paint(grid, (x, y) => Math.hypot(x - 30, y - 30) <= 4); // vessel along z
    const inLungs = (x: number) => x < 36;
    const [blob, vessel, edge] = [
      { x: 10, y: 10, z: 20, response: 1, radiusMm: 6 },
      { x: 30, y: 30, z: 20, response: 0.8, radiusMm: 6 },
      { x: 35, y: 10, z: 20, response: 0.3, radiusMm: 6 },
    ];
    const F = CANDIDATE_FEATURE_NAMES.length;
    const features = candidateFeatures([blob, vessel, edge], {
      input: grid,
      huWindow: [-1000, 400],
      spacingMm: SPACING,
      inLungs,
      positionInLungs: (c) => [c.z / 40, Math.abs(c.x - 20) / 20],
    });
    const get = (row: number, name: (typeof CANDIDATE_FEATURE_NAMES)[number]) =>
      features[row * F + CANDIDATE_FEATURE_NAMES.indexOf(name)]!;
    expect(get(0, 'hessianRatio31')).toBeGreaterThan(0.8);
    expect(get(1, 'hessianRatio31')).toBeLessThan(0.2);
    expect(get(0, 'coreHu')).toBeCloseTo(0, 0);
    expect(get(0, 'contrastHu')).toBeGreaterThan(800);
    expect(get(0, 'lungFraction')).toBe(1);
    expect(get(2, 'lungFraction')).toBeLessThan(0.7);
    // Positions come from the context, in the contract's order.
    expect([get(0, 'heightInLungs'), get(0, 'lateralInLungs')]).toEqual([0.5, 0.5]);
    expect(get(2, 'lateralInLungs')).toBeCloseTo(0.75, 6);
  });
});

describe('tissueCandidates', () => {
  it('finds a mass against the lung edge and drops thin vessels', () => {
    const grid = lungGrid([50, 50, 50]);
    // A hemisphere of radius 12 mm (8 voxels) on the wall at x = 40 (outside the lungs beyond it).
    paint(grid, (x, y, z) => x >= 40 || Math.hypot(x - 40, y - 25, z - 25) <= 8);
    paint(grid, (x, y) => Math.hypot(x - 10, y - 10) <= 1); // vessel 3 mm across
    const inLungs = (x: number, y: number, z: number) => x < 40 || Math.hypot(x - 40, y - 25, z - 25) <= 8;
    const found = tissueCandidates(grid, new Float32Array(grid.data.length), {
      spacingMm: SPACING,
      threshold: 500 / 1400,
      openingVoxels: 2,
      minDiameterMm: 8,
      inLungs,
    });
    expect(found).toHaveLength(1);
    expect(Math.abs(found[0]!.y - 25)).toBeLessThanOrEqual(1);
    expect(found[0]!.x).toBeGreaterThanOrEqual(34);
    expect(found[0]!.radiusMm).toBeGreaterThan(6);
  });
});
