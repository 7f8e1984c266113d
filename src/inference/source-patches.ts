import type { CtVolume, Vec3 } from '../volume/volume.js';

/** How a fine patch channel samples the source volume (a patch classifier's `fineSpacingMm`). */
export interface SourceSampling {
  volume: Pick<CtVolume, 'dimensions' | 'spacingMm' | 'hu'>;
  /** HU mapped to [0, 1] (below: 0, above: 1), as the model grid's window. */
  huWindow: [number, number];
  /** Patch voxel size, mm, along the volume's i, j and k axes (the model grid's x, y and z). */
  spacingMm: number;
  /** Cube side, voxels. */
  size: number;
}

/**
 * Cubes of size³ samples of the source volume's own voxels (trilinear, windowed HU in [0, 1]; outside the
 * volume 0, air), centred on each point (continuous source voxel index), `spacingMm` apart along i, j and
 * k. Layout float32 [N, size, size, size], x fastest, as candidate-patches.ts writes its cubes.
 *
 * Why: the model grid is 1.5 mm, so a 3-6 mm nodule is 2-4 of its voxels, and the box pyramid blurs it
 * further. Sampled at 0.75 mm from the original voxels (0.6-0.8 mm in-plane), its edge and core survive.
 */
export function sourcePatches(sampling: SourceSampling, centresIjk: Vec3[]): Float32Array {
  const { volume, size, spacingMm } = sampling;
  const [low, high] = sampling.huWindow;
  const [nx, ny, nz] = volume.dimensions;
  const hu = volume.hu;
  const voxels = size * size * size;
  const out = new Float32Array(centresIjk.length * voxels);
  const half = (size - 1) / 2;
  const step = volume.spacingMm.map((s) => spacingMm / s) as Vec3;
  const scale = 1 / (high - low);
  const plane = nx * ny;
  // Per-axis tables of the lower voxel and its weight. Inside the volume (with the upper neighbours) the
  // 8-corner sum reads the voxels directly; a cube that reaches outside takes the checked path, where a
  // corner outside the volume counts as the window's lower end.
  const ti = { index: new Int32Array(size), weight: new Float32Array(size) };
  const tj = { index: new Int32Array(size), weight: new Float32Array(size) };
  const tk = { index: new Int32Array(size), weight: new Float32Array(size) };
  const tables = [ti, tj, tk];
  const window = (value: number) => (value <= low ? 0 : value >= high ? 1 : (value - low) * scale);
  const at = (i: number, j: number, k: number) =>
    i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz ? low : hu[i + nx * j + plane * k]!;
  for (const [n, centre] of centresIjk.entries()) {
    let inside = true;
    for (let a = 0; a < 3; a += 1) {
      const table = tables[a]!;
      const limit = volume.dimensions[a]! - 1;
      for (let s = 0; s < size; s += 1) {
        const position = centre[a]! + (s - half) * step[a]!;
        const lower = Math.floor(position);
        table.index[s] = lower;
        table.weight[s] = position - lower;
        if (lower < 0 || lower + 1 > limit) inside = false;
      }
    }
    const base = n * voxels;
    for (let t = 0; t < size; t += 1) {
      const k = tk.index[t]!;
      const wk = tk.weight[t]!;
      for (let u = 0; u < size; u += 1) {
        const j = tj.index[u]!;
        const wj = tj.weight[u]!;
        const row = base + size * (u + size * t);
        if (inside) {
          const w00 = (1 - wj) * (1 - wk);
          const w10 = wj * (1 - wk);
          const w01 = (1 - wj) * wk;
          const w11 = wj * wk;
          const line = nx * j + plane * k;
          for (let s = 0; s < size; s += 1) {
            const wi = ti.weight[s]!;
            const v = line + ti.index[s]!;
            const lowerI =
              w00 * hu[v]! + w10 * hu[v + nx]! + w01 * hu[v + plane]! + w11 * hu[v + nx + plane]!;
            const upperI =
              w00 * hu[v + 1]! +
              w10 * hu[v + 1 + nx]! +
              w01 * hu[v + 1 + plane]! +
              w11 * hu[v + 1 + nx + plane]!;
            out[row + s] = window(lowerI + (upperI - lowerI) * wi);
          }
          continue;
        }
        for (let s = 0; s < size; s += 1) {
          const i = ti.index[s]!;
          const wi = ti.weight[s]!;
          const c00 = at(i, j, k) * (1 - wi) + at(i + 1, j, k) * wi;
          const c10 = at(i, j + 1, k) * (1 - wi) + at(i + 1, j + 1, k) * wi;
          const c01 = at(i, j, k + 1) * (1 - wi) + at(i + 1, j, k + 1) * wi;
          const c11 = at(i, j + 1, k + 1) * (1 - wi) + at(i + 1, j + 1, k + 1) * wi;
          out[row + s] = window((c00 * (1 - wj) + c10 * wj) * (1 - wk) + (c01 * (1 - wj) + c11 * wj) * wk);
        }
      }
    }
  }
  return out;
}

/**
 * The patch tensor of a classifier with a fine channel: for each of the N candidates, its fine cube first,
 * then its C grid channels ([N, C, S³] as extractPatches writes them): [N, 1 + C, S³].
 */
export function withFineChannel(fine: Float32Array, grid: Float32Array, size: number): Float32Array {
  const voxels = size * size * size;
  const count = fine.length / voxels;
  const channels = grid.length / voxels / count;
  if (!Number.isInteger(count) || !Number.isInteger(channels)) {
    throw new RangeError(`${fine.length} fine and ${grid.length} grid values are not whole ${size}³ cubes`);
  }
  const out = new Float32Array(fine.length + grid.length);
  for (let n = 0; n < count; n += 1) {
    const base = n * (1 + channels) * voxels;
    out.set(fine.subarray(n * voxels, (n + 1) * voxels), base);
    out.set(grid.subarray(n * channels * voxels, (n + 1) * channels * voxels), base + voxels);
  }
  return out;
}
