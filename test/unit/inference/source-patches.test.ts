import { describe, expect, it } from 'vitest';
import { sourcePatches, withFineChannel } from '../../../src/inference/source-patches.js';
import type { Vec3 } from '../../../src/volume/volume.js';

/** A volume whose HU is linear in position (mm): hu = 2 x + 3 y + 5 z - 400, so trilinear sampling is exact. */
function linearVolume(dimensions: Vec3, spacingMm: Vec3) {
  const [nx, ny, nz] = dimensions;
  const hu = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1)
      for (let i = 0; i < nx; i += 1)
        hu[i + nx * (j + ny * k)] = 2 * i * spacingMm[0] + 3 * j * spacingMm[1] + 5 * k * spacingMm[2] - 400;
  return { dimensions, spacingMm, hu };
}

describe('sourcePatches', () => {
  const volume = linearVolume([40, 40, 12], [0.7, 0.7, 2.5]);
  const window: [number, number] = [-1000, 400];
  const valueAt = (x: number, y: number, z: number) => (2 * x + 3 * y + 5 * z - 400 - window[0]) / 1400;

  it('samples the source voxels every spacingMm mm around the centre, in mm along each axis', () => {
    const size = 4;
    const centre: Vec3 = [20, 21, 6];
    const patch = sourcePatches({ volume, huWindow: window, spacingMm: 0.75, size }, [centre]);
    expect(patch).toHaveLength(64);
    for (const [t, u, s] of [
      [0, 0, 0],
      [3, 2, 1],
      [1, 3, 2],
    ] as const) {
      const x = centre[0] * 0.7 + (s - 1.5) * 0.75;
      const y = centre[1] * 0.7 + (u - 1.5) * 0.75;
      const z = centre[2] * 2.5 + (t - 1.5) * 0.75;
      expect(patch[s + size * (u + size * t)]).toBeCloseTo(valueAt(x, y, z), 3);
    }
  });

  it('samples a cube that reaches outside the volume like one inside, where its samples are inside', () => {
    const size = 4;
    const centre: Vec3 = [0.5, 20, 6];
    const patch = sourcePatches({ volume, huWindow: window, spacingMm: 0.75, size }, [centre]);
    for (const s of [2, 3]) {
      for (const [t, u] of [
        [0, 0],
        [2, 3],
      ] as const) {
        const x = centre[0] * 0.7 + (s - 1.5) * 0.75;
        const y = centre[1] * 0.7 + (u - 1.5) * 0.75;
        const z = centre[2] * 2.5 + (t - 1.5) * 0.75;
        expect(patch[s + size * (u + size * t)]).toBeCloseTo(valueAt(x, y, z), 3);
      }
    }
    // Sample 0 lies 1.1 voxels before the first: outside, air.
    expect(patch[0]).toBe(0);
  });

  it('gives air (0) outside the volume and clips to the window', () => {
    const outside = sourcePatches({ volume, huWindow: window, spacingMm: 0.75, size: 2 }, [[-10, -10, -10]]);
    expect(Array.from(outside)).toEqual(new Array(8).fill(0));
    const narrow = sourcePatches({ volume, huWindow: [-1000, -990], spacingMm: 0.75, size: 2 }, [
      [20, 20, 6],
    ]);
    expect(Array.from(narrow)).toEqual(new Array(8).fill(1));
  });
});

describe('withFineChannel', () => {
  it('puts each candidate’s fine cube before its grid channels', () => {
    // Cubes of 1 voxel: 2 candidates, a fine value each and 2 grid channels each.
    const fine = Float32Array.from([1, 2]);
    const grid = Float32Array.from([10, 11, 20, 21]);
    expect(Array.from(withFineChannel(fine, grid, 1))).toEqual([1, 10, 11, 2, 20, 21]);
    expect(() => withFineChannel(fine, grid, 2)).toThrow(/whole/);
  });
});
