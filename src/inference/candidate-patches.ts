import type { ModelGrid } from './run-heatmap.js';

/** A point of the model grid (voxel coordinates, x along i, y along j, z along k), possibly fractional. */
export interface GridPoint {
  x: number;
  y: number;
  z: number;
}

/**
 * The input of the patch classifier: for each candidate, cubes of `size`³ voxels centred on it, one per
 * scale (channel c samples the model grid every `scales[c]` grid voxels: with the 1.5 mm grid and scales
 * [1, 2, 4], 16³ cubes at 1.5, 3 and 6 mm cover 24, 48 and 96 mm: the nodule, its surroundings, and where
 * it lies in the chest). Layout float32 [N, C, size, size, size] (NCDHW: z slowest, x fastest), values
 * the grid's windowed HU in [0, 1]; outside the grid 0 (the window's lower end, air).
 *
 * A coarse channel samples the grid averaged over `scale`³ voxels (box pyramid), trilinearly at the patch
 * voxel's position, so it sees the local mean rather than aliased single voxels.
 */
export interface PatchLayout {
  size: number;
  scales: number[];
}

export const DEFAULT_PATCH_LAYOUT: PatchLayout = { size: 16, scales: [1, 2, 4] };

/** A grid and its 2×2×2 box-averaged levels (level n: 2^n grid voxels per voxel). */
export interface GridPyramid {
  levels: ModelGrid[];
}

/** The box pyramid of a grid up to `finest * 2^(levels - 1)`; each level halves each axis (rounding up). */
export function gridPyramid(grid: ModelGrid, levels: number): GridPyramid {
  const out: ModelGrid[] = [grid];
  for (let n = 1; n < levels; n += 1) out.push(halve(out[n - 1]!));
  return { levels: out };
}

function halve(grid: ModelGrid): ModelGrid {
  const [D, H, W] = grid.shape;
  const d = Math.ceil(D / 2);
  const h = Math.ceil(H / 2);
  const w = Math.ceil(W / 2);
  const data = new Float32Array(d * h * w);
  const src = grid.data;
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        let sum = 0;
        let count = 0;
        for (let dz = 0; dz < 2; dz += 1) {
          const Z = 2 * z + dz;
          if (Z >= D) continue;
          for (let dy = 0; dy < 2; dy += 1) {
            const Y = 2 * y + dy;
            if (Y >= H) continue;
            const row = W * (Y + H * Z);
            for (let dx = 0; dx < 2; dx += 1) {
              const X = 2 * x + dx;
              if (X >= W) continue;
              sum += src[row + X]!;
              count += 1;
            }
          }
        }
        data[x + w * (y + h * z)] = sum / count;
      }
  return { data, shape: [d, h, w] };
}

/**
 * The patches of `points` (model-grid coordinates) as one float32 array [N, C, size, size, size]; see
 * {@link PatchLayout}. `pyramid` must have a level for every scale (scale 2^n uses level n).
 */
export function extractPatches(
  pyramid: GridPyramid,
  points: GridPoint[],
  layout: PatchLayout = DEFAULT_PATCH_LAYOUT,
): Float32Array {
  const { size, scales } = layout;
  const voxels = size * size * size;
  const out = new Float32Array(points.length * scales.length * voxels);
  const half = (size - 1) / 2;
  for (const [n, point] of points.entries()) {
    for (const [c, scale] of scales.entries()) {
      const level = Math.log2(scale);
      const grid = pyramid.levels[level];
      if (!Number.isInteger(level) || !grid) {
        throw new RangeError(`patch scale ${scale} needs pyramid level ${level}, which is missing`);
      }
      // Grid voxel g of level n covers finest voxels [2^n g, 2^n g + 2^n - 1]: its centre is 2^n g + (2^n - 1)/2.
      const toLevel = (v: number) => (v - (scale - 1) / 2) / scale;
      const base = (n * scales.length + c) * voxels;
      const cx = toLevel(point.x) - half;
      const cy = toLevel(point.y) - half;
      const cz = toLevel(point.z) - half;
      if (!samplePatchInside(grid, cx, cy, cz, size, out, base)) {
        for (let t = 0; t < size; t += 1)
          for (let u = 0; u < size; u += 1) {
            const row = base + size * (u + size * t);
            for (let s = 0; s < size; s += 1) out[row + s] = trilinear(grid, cx + s, cy + u, cz + t);
          }
      }
    }
  }
  return out;
}

/**
 * The fast path: a patch whose samples (first sample at level position (x, y, z), one voxel apart) all lie
 * inside the grid with their neighbours. Every sample then shares one fractional offset, so the 8 trilinear
 * weights are constants and no bounds are checked. Returns false (nothing written) otherwise.
 */
function samplePatchInside(
  grid: ModelGrid,
  x: number,
  y: number,
  z: number,
  size: number,
  out: Float32Array,
  base: number,
): boolean {
  const [D, H, W] = grid.shape;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const z0 = Math.floor(z);
  if (x0 < 0 || y0 < 0 || z0 < 0 || x0 + size >= W || y0 + size >= H || z0 + size >= D) return false;
  const fx = x - x0;
  const fy = y - y0;
  const fz = z - z0;
  const w000 = (1 - fx) * (1 - fy) * (1 - fz);
  const w100 = fx * (1 - fy) * (1 - fz);
  const w010 = (1 - fx) * fy * (1 - fz);
  const w110 = fx * fy * (1 - fz);
  const w001 = (1 - fx) * (1 - fy) * fz;
  const w101 = fx * (1 - fy) * fz;
  const w011 = (1 - fx) * fy * fz;
  const w111 = fx * fy * fz;
  const data = grid.data;
  const plane = W * H;
  for (let t = 0; t < size; t += 1)
    for (let u = 0; u < size; u += 1) {
      let i = x0 + W * (y0 + u) + plane * (z0 + t);
      const row = base + size * (u + size * t);
      for (let s = 0; s < size; s += 1, i += 1) {
        out[row + s] =
          w000 * data[i]! +
          w100 * data[i + 1]! +
          w010 * data[i + W]! +
          w110 * data[i + W + 1]! +
          w001 * data[i + plane]! +
          w101 * data[i + plane + 1]! +
          w011 * data[i + plane + W]! +
          w111 * data[i + plane + W + 1]!;
      }
    }
  return true;
}

/** Trilinear interpolation of a grid at a continuous voxel position; 0 outside it. */
function trilinear(grid: ModelGrid, x: number, y: number, z: number): number {
  const [D, H, W] = grid.shape;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const z0 = Math.floor(z);
  const fx = x - x0;
  const fy = y - y0;
  const fz = z - z0;
  const data = grid.data;
  let sum = 0;
  for (let dz = 0; dz < 2; dz += 1) {
    const Z = z0 + dz;
    if (Z < 0 || Z >= D) continue;
    const wz = dz ? fz : 1 - fz;
    if (wz === 0) continue;
    for (let dy = 0; dy < 2; dy += 1) {
      const Y = y0 + dy;
      if (Y < 0 || Y >= H) continue;
      const wy = dy ? fy : 1 - fy;
      if (wy === 0) continue;
      const row = W * (Y + H * Z);
      for (let dx = 0; dx < 2; dx += 1) {
        const X = x0 + dx;
        if (X < 0 || X >= W) continue;
        const wx = dx ? fx : 1 - fx;
        sum += wx * wy * wz * data[row + X]!;
      }
    }
  }
  return sum;
}
