import { describe, expect, it } from 'vitest';
import { extractPatches, gridPyramid } from '../../../src/inference/candidate-patches.js';
import { findCandidates } from '../../../src/inference/find-candidates.js';
import type { ModelGrid } from '../../../src/inference/run-heatmap.js';

/** A grid whose value encodes its coordinates: v = x + 100 y + 10000 z (linear, so trilinear sampling is exact). */
function coordinateGrid(shape: [number, number, number]): ModelGrid {
  const [D, H, W] = shape;
  const data = new Float32Array(D * H * W);
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) data[x + W * (y + H * z)] = x + 100 * y + 10_000 * z;
  return { data, shape };
}

describe('extractPatches', () => {
  const grid = coordinateGrid([40, 40, 40]);
  const pyramid = gridPyramid(grid, 3);
  const layout = { size: 4, scales: [1, 2, 4] };
  const at = (patches: Float32Array, c: number, t: number, u: number, s: number) =>
    patches[((c * 4 + t) * 4 + u) * 4 + s]!;

  it('centres every scale on the point: grid voxels 1, 2 and 4 apart', () => {
    const patches = extractPatches(pyramid, [{ x: 20, y: 21, z: 22 }], layout);
    expect(patches).toHaveLength(3 * 64);
    // Patch voxel s lies (s - 1.5) * scale grid voxels from the point along x (and likewise y, z).
    for (const [c, scale] of [1, 2, 4].entries()) {
      for (const [t, u, s] of [
        [0, 0, 0],
        [3, 2, 1],
        [1, 3, 2],
      ] as const) {
        const x = 20 + (s - 1.5) * scale;
        const y = 21 + (u - 1.5) * scale;
        const z = 22 + (t - 1.5) * scale;
        expect(at(patches, c, t, u, s)).toBeCloseTo(x + 100 * y + 10_000 * z, 1);
      }
    }
  });

  it('reads 0 (air) outside the grid and puts points in order', () => {
    const patches = extractPatches(
      pyramid,
      [
        { x: 0, y: 0, z: 0 },
        { x: 20, y: 20, z: 20 },
      ],
      { size: 4, scales: [1] },
    );
    expect(at(patches, 0, 0, 0, 0)).toBe(0); // (-1.5, -1.5, -1.5): outside
    expect(patches[64 + 0]).toBeCloseTo(18.5 + 1850 + 185_000, 1);
  });

  it('averages a coarse level over the voxels it covers', () => {
    const spike: ModelGrid = { data: new Float32Array(8 * 8 * 8), shape: [8, 8, 8] };
    spike.data[3 + 8 * (3 + 8 * 3)] = 8;
    const level1 = gridPyramid(spike, 2).levels[1]!;
    expect(level1.shape).toEqual([4, 4, 4]);
    expect(level1.data[1 + 4 * (1 + 4 * 1)]).toBe(1);
    expect(level1.data.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('refuses a scale the pyramid lacks', () => {
    expect(() => extractPatches(gridPyramid(grid, 2), [{ x: 1, y: 1, z: 1 }], layout)).toThrow(/level 2/);
  });
});

describe('findCandidates keepAllFromRadiusMm', () => {
  it('caps only the small maxima, so a faint large blob is never pushed out by bright small ones', () => {
    const grid: ModelGrid = { data: new Float32Array(30 * 30 * 30), shape: [30, 30, 30] };
    const radius = new Float32Array(grid.data.length).fill(1);
    const set = (x: number, y: number, z: number, v: number, r: number) => {
      grid.data[x + 30 * (y + 30 * z)] = v;
      radius[x + 30 * (y + 30 * z)] = r;
    };
    for (let n = 0; n < 5; n += 1) set(3 + 5 * n, 5, 5, 0.9, 1); // five bright small maxima
    set(15, 20, 20, 0.2, 9); // one faint large blob
    const options = { minResponse: 0.1, maxCandidates: 3, spacingMm: 1.5, inLungs: () => true };
    const capped = findCandidates(grid, radius, options);
    expect(capped.map((c) => c.radiusMm)).toEqual([1, 1, 1]);
    const exempt = findCandidates(grid, radius, { ...options, keepAllFromRadiusMm: 2.5 });
    expect(exempt.map((c) => c.radiusMm).sort()).toEqual([1, 1, 1, 9]);
  });
});
