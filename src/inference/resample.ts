import { voxelToLpsAffine, type CtVolume, type Vec3 } from '../volume/volume.js';

/** An inclusive box of voxel indices of the source volume: [iMin, jMin, kMin, iMax, jMax, kMax]. */
export type BoxIjk = [number, number, number, number, number, number];

export interface ResampleOptions {
  /** Isotropic voxel size of the model grid, mm. */
  spacingMm: number;
  /**
   * Part of the source volume to resample (inclusive voxel indices, rounded to whole voxels and clipped to the
   * volume); default: the whole volume.
   */
  boxIjk?: BoxIjk;
  /** HU window [low, high]: HU are clipped to it and scaled to [0, 1]. */
  huWindow: [number, number];
}

/**
 * A CT volume (or a box of it) on the model's grid, and the way back to the source voxels.
 *
 * - Layout: `data[x + W * (y + H * z)]`, shape [1, 1, D, H, W] (the ONNX NCDHW order), where x (W) runs
 *   along the source's i axis (columns), y (H) along j (rows) and z (D) along k (slices, feet to head for
 *   axial CT). The grid keeps the source's axes (no reorientation): only the spacing changes.
 * - Values: trilinear interpolation of HU, then (clip(HU, low, high) - low) / (high - low), in [0, 1].
 * - Geometry: model voxel (x, y, z) lies at the source's continuous voxel index
 *   `originIjk + [x * stepIjk[0], y * stepIjk[1], z * stepIjk[2]]` (see `modelToSourceIjk`).
 */
export interface ModelInput {
  data: Float32Array;
  /** [1, 1, D, H, W]. */
  shape: [1, 1, number, number, number];
  /** Voxel size of the model grid along all three axes, mm. */
  spacingMm: number;
  /** Source continuous voxel index (i, j, k) of model voxel (0, 0, 0). */
  originIjk: Vec3;
  /** Source voxels per model voxel along i, j, k (spacingMm / source spacing). */
  stepIjk: Vec3;
}

/**
 * Resamples a CT volume (or the box `boxIjk` of it) to the model's isotropic grid with trilinear
 * interpolation and scales HU into the model's window (see `ModelInput` for layout and geometry).
 *
 * The grid starts at the box's first voxel centre and covers the box with whole steps of `spacingMm`,
 * so no model voxel lies outside the box (up to one model voxel at the far end is not covered).
 * Trilinear interpolation is a tensor product, so it runs as three 1-D linear passes (i, then j, then k)
 * with per-axis index and weight tables: ~15 M multiply-adds for a chest CT at 1.5 mm.
 */
export function resampleForModel(volume: CtVolume, options: ResampleOptions): ModelInput {
  const [nx, ny, nz] = volume.dimensions;
  const { spacingMm, huWindow } = options;
  const [low, high] = huWindow;
  if (!(spacingMm > 0)) throw new RangeError(`model spacing must be positive, got ${spacingMm} mm`);
  if (!(high > low)) throw new RangeError(`HU window [${low}, ${high}] is empty`);
  const box = clampBox(options.boxIjk ?? [0, 0, 0, nx - 1, ny - 1, nz - 1], volume.dimensions);
  const stepIjk = volume.spacingMm.map((s) => spacingMm / s) as Vec3;
  const axes = [0, 1, 2].map((a) => axisTable(box[a]!, box[a + 3]!, stepIjk[a]!));
  const [ax, ay, az] = axes as [AxisTable, AxisTable, AxisTable];
  const W = ax.size;
  const H = ay.size;
  const D = az.size;
  const plane = H * W;
  const scale = 1 / (high - low);
  const data = new Float32Array(D * plane);
  // Source slices resampled in-plane (passes along i and j), cached by slice index: the pass along k reads
  // two of them per model slice, and consecutive model slices share them. Small reused buffers keep the
  // memory touched (and the page faults of fresh memory, costly on virtual machines) to the output.
  const rows = new Float32Array((box[4] - box[1] + 1) * W);
  const planes = [new Float32Array(plane), new Float32Array(plane)];
  const planeSlice = [-1, -1];
  const inPlane = (k: number): Float32Array => {
    const cached = planeSlice.indexOf(k);
    if (cached >= 0) return planes[cached]!;
    // Slices are asked for in increasing order: the lower-index one is no longer needed.
    const slot = planeSlice[0]! < planeSlice[1]! ? 0 : 1;
    planeSlice[slot] = k;
    resampleSlice(volume.hu, nx, ny, k, box, ax, ay, rows, planes[slot]!);
    return planes[slot]!;
  };
  for (let z = 0; z < D; z += 1) {
    const w = az.weight[z]!;
    const lower = inPlane(az.lower[z]!);
    const upper = w > 0 ? inPlane(az.upper[z]!) : lower;
    const out = z * plane;
    for (let n = 0; n < plane; n += 1) {
      const a = lower[n]!;
      const value = a + (upper[n]! - a) * w;
      data[out + n] = value <= low ? 0 : value >= high ? 1 : (value - low) * scale;
    }
  }

  return {
    data,
    shape: [1, 1, D, H, W],
    spacingMm,
    originIjk: [box[0], box[1], box[2]],
    stepIjk,
  };
}

/** The source volume's continuous voxel index (i, j, k) of model voxel (x, y, z) (continuous too). */
export function modelToSourceIjk(input: Pick<ModelInput, 'originIjk' | 'stepIjk'>, xyz: Vec3): Vec3 {
  return [
    input.originIjk[0] + xyz[0] * input.stepIjk[0],
    input.originIjk[1] + xyz[1] * input.stepIjk[1],
    input.originIjk[2] + xyz[2] * input.stepIjk[2],
  ];
}

/** The model grid's continuous index (x, y, z) of the source volume's continuous voxel index (i, j, k). */
export function sourceIjkToModel(input: Pick<ModelInput, 'originIjk' | 'stepIjk'>, ijk: Vec3): Vec3 {
  return [
    (ijk[0] - input.originIjk[0]) / input.stepIjk[0],
    (ijk[1] - input.originIjk[1]) / input.stepIjk[1],
    (ijk[2] - input.originIjk[2]) / input.stepIjk[2],
  ];
}

/** LPS mm of a (continuous) voxel index (i, j, k) of `volume`. */
export function sourceIjkToLps(
  volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>,
  ijk: Vec3,
): Vec3 {
  const m = voxelToLpsAffine(volume);
  const [i, j, k] = ijk;
  return [
    m[0]! * i + m[1]! * j + m[2]! * k + m[3]!,
    m[4]! * i + m[5]! * j + m[6]! * k + m[7]!,
    m[8]! * i + m[9]! * j + m[10]! * k + m[11]!,
  ];
}

/** For each model voxel along one axis: the two source voxels around it and the weight of the upper one. */
interface AxisTable {
  size: number;
  lower: Int32Array;
  upper: Int32Array;
  weight: Float32Array;
}

/** Linear passes along i then j over source slice k of the box: `out[x + W * y]`, HU. */
function resampleSlice(
  hu: Int16Array,
  nx: number,
  ny: number,
  k: number,
  box: BoxIjk,
  ax: AxisTable,
  ay: AxisTable,
  rows: Float32Array,
  out: Float32Array,
): void {
  const W = ax.size;
  for (let j = box[1]; j <= box[4]; j += 1) {
    const source = nx * (j + ny * k);
    const row = (j - box[1]) * W;
    for (let x = 0; x < W; x += 1) {
      const a = hu[source + ax.lower[x]!]!;
      rows[row + x] = a + (hu[source + ax.upper[x]!]! - a) * ax.weight[x]!;
    }
  }
  for (let y = 0; y < ay.size; y += 1) {
    const a = (ay.lower[y]! - box[1]) * W;
    const b = (ay.upper[y]! - box[1]) * W;
    const w = ay.weight[y]!;
    const target = y * W;
    for (let x = 0; x < W; x += 1) {
      const va = rows[a + x]!;
      out[target + x] = va + (rows[b + x]! - va) * w;
    }
  }
}

function axisTable(min: number, max: number, step: number): AxisTable {
  // The small tolerance keeps an exact fit (e.g. 10 voxels of 0.5 mm at 1 mm: 6 model voxels) from losing
  // its last voxel to rounding.
  const size = Math.floor((max - min) / step + 1e-9) + 1;
  const lower = new Int32Array(size);
  const upper = new Int32Array(size);
  const weight = new Float32Array(size);
  for (let n = 0; n < size; n += 1) {
    const position = Math.min(max, min + n * step);
    const below = Math.min(Math.floor(position), max);
    lower[n] = below;
    upper[n] = Math.min(below + 1, max);
    weight[n] = position - below;
  }
  return { size, lower, upper, weight };
}

function clampBox(box: BoxIjk, dimensions: Vec3): BoxIjk {
  const clamped = box.map((value, a) =>
    Math.min(dimensions[a % 3]! - 1, Math.max(0, Math.round(value))),
  ) as BoxIjk;
  for (let a = 0; a < 3; a += 1) {
    if (clamped[a]! > clamped[a + 3]!) {
      throw new RangeError(`box [${box.join(', ')}] is empty within a ${dimensions.join('x')} volume`);
    }
  }
  return clamped;
}
