import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  modelToSourceIjk,
  resampleForModel,
  sourceIjkToLps,
  sourceIjkToModel,
  type ModelInput,
} from '../../../src/inference/resample.js';
import { listFiles } from '../../../src/dicom/part10-files.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../../../src/volume/series-files.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

type Direction = CtVolume['direction'];
const IDENTITY: Direction = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** A volume whose voxel (i, j, k) holds huAt(i, j, k). */
function volumeOf(
  dimensions: Vec3,
  spacingMm: Vec3,
  huAt: (i: number, j: number, k: number) => number,
  geometry: { originLps?: Vec3; direction?: Direction } = {},
): CtVolume {
  const [nx, ny, nz] = dimensions;
  const hu = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1) for (let i = 0; i < nx; i += 1) hu[i + nx * (j + ny * k)] = huAt(i, j, k);
  return {
    dimensions,
    spacingMm,
    originLps: geometry.originLps ?? [0, 0, 0],
    direction: geometry.direction ?? IDENTITY,
    hu,
    paddingVoxels: 0,
  };
}

/** The value at model voxel (x, y, z). */
function at(input: ModelInput, [x, y, z]: Vec3): number {
  const [, , , H, W] = input.shape;
  return input.data[x + W * (y + H * z)]!;
}

function forEachModelVoxel(input: ModelInput, visit: (xyz: Vec3) => void): void {
  const [, , D, H, W] = input.shape;
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1) for (let x = 0; x < W; x += 1) visit([x, y, z]);
}

/** Worst |resampled - expected| over the model grid, with expected computed at the source index. */
function worstError(input: ModelInput, expected: (ijk: Vec3) => number): number {
  let worst = 0;
  forEachModelVoxel(input, (xyz) => {
    worst = Math.max(worst, Math.abs(at(input, xyz) - expected(modelToSourceIjk(input, xyz))));
  });
  return worst;
}

const windowed = ([low, high]: [number, number], hu: number) =>
  (Math.min(high, Math.max(low, hu)) - low) / (high - low);

describe('resampleForModel', () => {
  it('reproduces a 2x2x2 cube exactly at its corners, edge midpoints and centre', () => {
    const corners = [0, 100, 200, 300, 400, 500, 600, 700];
    const volume = volumeOf([2, 2, 2], [1, 1, 1], (i, j, k) => corners[i + 2 * j + 4 * k]!);
    const input = resampleForModel(volume, { spacingMm: 0.5, huWindow: [0, 700] });
    expect(input.shape).toEqual([1, 1, 3, 3, 3]);
    expect(input.stepIjk).toEqual([0.5, 0.5, 0.5]);
    expect(at(input, [0, 0, 0])).toBeCloseTo(0, 6);
    expect(at(input, [2, 2, 2])).toBeCloseTo(1, 6);
    expect(at(input, [1, 0, 0])).toBeCloseTo(50 / 700, 6); // between i = 0 and 1
    expect(at(input, [0, 1, 0])).toBeCloseTo(100 / 700, 6); // between j = 0 and 1
    expect(at(input, [0, 0, 1])).toBeCloseTo(200 / 700, 6); // between k = 0 and 1
    expect(at(input, [1, 1, 1])).toBeCloseTo(350 / 700, 6); // mean of all eight
  });

  // Trilinear interpolation reproduces exactly every function with terms 1, i, j, k, ij, jk, ik, ijk.
  const multilinear = (i: number, j: number, k: number) =>
    -600 + 7 * i - 5 * j + 11 * k + 2 * i * j - i * k + j * k;
  it.each([
    { case: 'down in-plane, up along k', spacing: [0.7, 0.7, 2.5] as Vec3, to: 1.5 },
    { case: 'anisotropic in-plane', spacing: [0.6, 0.9, 1.25] as Vec3, to: 1 },
    { case: 'thin slices', spacing: [0.8, 0.8, 0.5] as Vec3, to: 1.6 },
    { case: 'upsampling everywhere', spacing: [2, 3, 4] as Vec3, to: 0.9 },
  ])('reproduces a multilinear HU field exactly ($case)', ({ spacing, to }) => {
    const volume = volumeOf([23, 19, 11], spacing, multilinear);
    const huWindow: [number, number] = [-1000, 1000];
    const input = resampleForModel(volume, { spacingMm: to, huWindow });
    const [, , D, H, W] = input.shape;
    expect([W, H, D]).toEqual(
      volume.dimensions.map((n, a) => Math.floor(((n - 1) * spacing[a]!) / to + 1e-9) + 1),
    );
    expect(worstError(input, ([i, j, k]) => windowed(huWindow, multilinear(i, j, k)))).toBeLessThan(2e-6);
  });

  it('resamples only the box, starting at its first voxel', () => {
    const ramp = (i: number, j: number, k: number) => 3 * i - 2 * j + 5 * k - 200;
    const volume = volumeOf([40, 30, 20], [0.8, 0.9, 2], ramp);
    const huWindow: [number, number] = [-1000, 1000];
    const input = resampleForModel(volume, { spacingMm: 1.5, huWindow, boxIjk: [5, 7, 3, 30, 21, 15] });
    expect(input.originIjk).toEqual([5, 7, 3]);
    const [, , D, H, W] = input.shape;
    // Every model voxel lies within the box.
    const last = modelToSourceIjk(input, [W - 1, H - 1, D - 1]);
    expect(last[0]).toBeLessThanOrEqual(30);
    expect(last[1]).toBeLessThanOrEqual(21);
    expect(last[2]).toBeLessThanOrEqual(15);
    expect(30 - last[0]).toBeLessThan(input.stepIjk[0]);
    expect(worstError(input, ([i, j, k]) => windowed(huWindow, ramp(i, j, k)))).toBeLessThan(2e-6);
  });

  it('clips HU to the window before scaling', () => {
    const volume = volumeOf([10, 10, 4], [1, 1, 1], (i) => -1200 + 300 * i); // -1200 ... 1500
    const huWindow: [number, number] = [-1000, 400];
    const input = resampleForModel(volume, { spacingMm: 1, huWindow });
    expect(at(input, [0, 0, 0])).toBe(0);
    expect(at(input, [9, 5, 2])).toBe(1);
    expect(at(input, [3, 5, 2])).toBeCloseTo(windowed(huWindow, -300), 6);
    expect(Math.min(...input.data)).toBe(0);
    expect(Math.max(...input.data)).toBe(1);
  });

  it('handles a box one voxel thick and clamps a box that leaves the volume', () => {
    const volume = volumeOf([12, 12, 6], [1, 1, 2], (i, j, k) => 10 * k);
    const thin = resampleForModel(volume, { spacingMm: 1, huWindow: [0, 100], boxIjk: [0, 0, 4, 11, 11, 4] });
    expect(thin.shape).toEqual([1, 1, 1, 12, 12]);
    expect(thin.data.every((v) => Math.abs(v - 0.4) < 1e-6)).toBe(true);
    const clamped = resampleForModel(volume, {
      spacingMm: 2,
      huWindow: [0, 100],
      boxIjk: [-5, -5, -1, 40, 40, 9],
    });
    expect(clamped.originIjk).toEqual([0, 0, 0]);
    expect(clamped.shape).toEqual([1, 1, 6, 6, 6]);
  });

  it('rejects an empty window, a non-positive spacing and an empty box', () => {
    const volume = volumeOf([4, 4, 4], [1, 1, 1], () => 0);
    expect(() => resampleForModel(volume, { spacingMm: 1, huWindow: [100, 100] })).toThrow(RangeError);
    expect(() => resampleForModel(volume, { spacingMm: 0, huWindow: [0, 1] })).toThrow(RangeError);
    expect(() =>
      resampleForModel(volume, { spacingMm: 1, huWindow: [0, 1], boxIjk: [3, 0, 0, 1, 3, 3] }),
    ).toThrow(RangeError);
  });
});

describe('mapping model voxels back to the source', () => {
  // An oblique, left-handed orientation with odd spacing: axis_i and axis_j rotated about z and tilted, axis_k
  // reversed (head to feet).
  const c = Math.cos(0.4);
  const s = Math.sin(0.4);
  const tilt = Math.sin(0.1);
  const axisI: Vec3 = [c, s, 0];
  const axisJRaw: Vec3 = [-s, c, tilt];
  const norm = Math.hypot(...axisJRaw);
  const axisJ = axisJRaw.map((v) => v / norm) as Vec3;
  const axisK: Vec3 = [
    -(axisI[1] * axisJ[2] - axisI[2] * axisJ[1]),
    -(axisI[2] * axisJ[0] - axisI[0] * axisJ[2]),
    -(axisI[0] * axisJ[1] - axisI[1] * axisJ[0]),
  ];
  const direction = [...axisI, ...axisJ, ...axisK] as Direction;
  const spacing: Vec3 = [0.59, 0.83, 3.1];
  const originLps: Vec3 = [-120.5, 33.25, 410];
  const ramp = (i: number, j: number, k: number) => 4 * i + 3 * j - 9 * k - 500;
  const volume = volumeOf([31, 27, 9], spacing, ramp, { originLps, direction });
  const input = resampleForModel(volume, {
    spacingMm: 1.3,
    huWindow: [-1024, 1024],
    boxIjk: [2, 3, 1, 29, 25, 8],
  });

  it('round-trips model index -> source index -> model index', () => {
    for (const xyz of [
      [0, 0, 0],
      [3, 7, 2],
      [11.25, 0.5, 4.75],
      [-2, 40, 1e3],
    ] as Vec3[]) {
      const back = sourceIjkToModel(input, modelToSourceIjk(input, xyz));
      back.forEach((v, a) => expect(v).toBeCloseTo(xyz[a]!, 9));
    }
  });

  it('places model voxels spacingMm apart along the source axes, in LPS', () => {
    const lps = (xyz: Vec3) => sourceIjkToLps(volume, modelToSourceIjk(input, xyz));
    const start = lps([0, 0, 0]);
    // Model voxel (0, 0, 0) is source voxel (2, 3, 1): origin + 2 si axis_i + 3 sj axis_j + 1 sk axis_k.
    start.forEach((v, a) =>
      expect(v).toBeCloseTo(
        originLps[a]! + 2 * spacing[0] * axisI[a]! + 3 * spacing[1] * axisJ[a]! + 1 * spacing[2] * axisK[a]!,
        9,
      ),
    );
    const steps: [Vec3, Vec3][] = [
      [[1, 0, 0], axisI],
      [[0, 1, 0], axisJ],
      [[0, 0, 1], axisK],
    ];
    for (const [unit, axis] of steps) {
      const next = lps(unit);
      next.forEach((v, a) => expect(v - start[a]!).toBeCloseTo(1.3 * axis[a]!, 9));
    }
  });

  it('samples the HU field at the mapped positions', () => {
    expect(worstError(input, ([i, j, k]) => windowed([-1024, 1024], ramp(i, j, k)))).toBeLessThan(2e-6);
  });
});

describe.skipIf(!sampleDir)('resampleForModel on LIDC-IDRI-0001', () => {
  let volume: CtVolume;
  beforeAll(async () => {
    const files = await listFiles([path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001')]);
    const reconstruction = await reconstructSeries(readPart10FilesReusingBuffer(files), {
      expectedSlices: files.length,
      scratchInput: true,
    });
    if (!reconstruction.volume) throw new Error('LIDC-IDRI-0001 did not reconstruct');
    volume = reconstruction.volume;
  });

  it('agrees with a direct per-point trilinear interpolation of the real HU', () => {
    const huWindow: [number, number] = [-1000, 400];
    const box: [number, number, number, number, number, number] = [76, 130, 0, 435, 389, 132];
    const input = resampleForModel(volume, { spacingMm: 1.5, huWindow, boxIjk: box });
    expect(input.shape).toEqual([1, 1, 221, 122, 169]);
    const [nx, ny] = volume.dimensions;
    const huAt = (i: number, j: number, k: number) => volume.hu[i + nx * (j + ny * k)]!;
    const direct = ([i, j, k]: Vec3) => {
      const [i0, j0, k0] = [Math.floor(i), Math.floor(j), Math.floor(k)];
      const [i1, j1, k1] = [Math.min(i0 + 1, box[3]), Math.min(j0 + 1, box[4]), Math.min(k0 + 1, box[5])];
      const [fi, fj, fk] = [i - i0, j - j0, k - k0];
      const lerp = (a: number, b: number, f: number) => a + (b - a) * f;
      const plane = (kk: number) =>
        lerp(lerp(huAt(i0, j0, kk), huAt(i1, j0, kk), fi), lerp(huAt(i0, j1, kk), huAt(i1, j1, kk), fi), fj);
      return windowed(huWindow, lerp(plane(k0), plane(k1), fk));
    };
    const [, , D, H, W] = input.shape;
    let worst = 0;
    for (let n = 0; n < 5000; n += 1) {
      // A fixed, well-spread set of model voxels (a low-discrepancy sequence).
      const xyz: Vec3 = [
        Math.floor(((n * 0.754877666) % 1) * W),
        Math.floor(((n * 0.569840291) % 1) * H),
        Math.floor(((n * 0.618033989) % 1) * D),
      ];
      worst = Math.max(worst, Math.abs(at(input, xyz) - direct(modelToSourceIjk(input, xyz))));
    }
    expect(worst).toBeLessThan(1e-5);
  });
});
