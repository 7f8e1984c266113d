import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../../src/inference/find-candidates.js';
import { blobness, smallCandidates, symmetricEigenvalues } from '../../../src/inference/small-candidates.js';

const SHAPE: [number, number, number] = [40, 40, 40];
const [D, H, W] = SHAPE;

/** A response grid: Gaussian bumps (sigma in voxels per axis) added at their centres. */
function response(bumps: { at: [number, number, number]; sigma: [number, number, number]; peak: number }[]) {
  const data = new Float32Array(D * H * W);
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) {
        let v = 0;
        for (const { at, sigma, peak } of bumps) {
          const q =
            ((x - at[0]) / sigma[0]) ** 2 + ((y - at[1]) / sigma[1]) ** 2 + ((z - at[2]) / sigma[2]) ** 2;
          v += peak * Math.exp(-q / 2);
        }
        data[x + W * (y + H * z)] = v;
      }
  return data;
}

describe('symmetricEigenvalues', () => {
  it('gives the eigenvalues of a rotated diagonal matrix, descending', () => {
    // R diag(3, -1, -5) Rᵀ with R a rotation of 30° about z.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const a = 3 * c * c + -1 * s * s;
    const b = 3 * s * s + -1 * c * c;
    const d = (3 - -1) * c * s;
    const [l1, l2, l3] = symmetricEigenvalues(a, b, -5, d, 0, 0);
    expect(l1).toBeCloseTo(3, 9);
    expect(l2).toBeCloseTo(-1, 9);
    expect(l3).toBeCloseTo(-5, 9);
    expect(symmetricEigenvalues(2, 7, -4, 0, 0, 0)).toEqual([7, 2, -4]);
  });
});

describe('blobness', () => {
  it('is near 1 at a round blob, near 0 on a vessel-like ridge, 0 in a saddle', () => {
    const blob = response([{ at: [20, 20, 20], sigma: [2, 2, 2], peak: 1 }]);
    expect(blobness(blob, SHAPE, 20, 20, 20)).toBeGreaterThan(0.95);
    const ridge = response([{ at: [20, 20, 20], sigma: [2, 2, 40], peak: 1 }]);
    expect(blobness(ridge, SHAPE, 20, 20, 20)).toBeLessThan(0.01);
    const flat = new Float32Array(D * H * W);
    expect(blobness(flat, SHAPE, 20, 20, 20)).toBe(0);
  });
});

describe('smallCandidates', () => {
  const inLungs = () => true;
  const options = { maxRadiusMm: 2.5, minResponse: 0.1, maxCandidates: 10, spacingMm: 1.5, inLungs };
  const radius = new Float32Array(D * H * W).fill(1.5);

  it('ranks a faint round blob above a brighter vessel, and leaves out what the main search has', () => {
    const data = response([
      { at: [10, 10, 10], sigma: [1.5, 1.5, 1.5], peak: 0.3 },
      { at: [30, 30, 20], sigma: [1.5, 1.5, 6], peak: 0.9 },
      { at: [10, 30, 30], sigma: [1.5, 1.5, 1.5], peak: 0.5 },
    ]);
    const known: Candidate[] = [{ x: 10, y: 30, z: 30, response: 0.5, radiusMm: 4 }];
    const found = smallCandidates({ data, shape: SHAPE }, radius, known, options);
    expect(found.map((c) => [c.x, c.y, c.z])).toEqual([
      [10, 10, 10],
      [30, 30, 20],
    ]);
    expect(found.every((c) => c.source === 'small')).toBe(true);
    // A cap of one keeps the blob, not the stronger vessel.
    const one = smallCandidates({ data, shape: SHAPE }, radius, known, { ...options, maxCandidates: 1 });
    expect(one.map((c) => [c.x, c.y, c.z])).toEqual([[10, 10, 10]]);
  });

  it('skips maxima of the radius the main search keeps uncapped', () => {
    const data = response([{ at: [20, 20, 20], sigma: [1.5, 1.5, 1.5], peak: 0.5 }]);
    const large = new Float32Array(D * H * W).fill(3);
    expect(smallCandidates({ data, shape: SHAPE }, large, [], options)).toEqual([]);
    expect(smallCandidates({ data, shape: SHAPE }, radius, [], options)).toHaveLength(1);
  });
});
