import type { CtVolume } from '../volume/volume.js';
import { PlaneBorderFill } from './plane-border-fill.js';
import { ReachLimitedHullCloser } from './reach-limited-hull.js';

/** The lungs of a CT: a voxel mask on the volume's grid and its extent. */
export interface LungMask {
  /** 1 = lung (including nodules, vessels and masses within or against it), index i + nx*(j + ny*k). */
  mask: Uint8Array;
  /** [iMin, jMin, kMin, iMax, jMax, kMax] of the mask, inclusive; all -1 when empty. */
  boundsIjk: [number, number, number, number, number, number];
  volumeMl: number;
}

/** Air in the body: darker than this, HU. */
const AIR_HU = -400;
/** The grid is coarsened in-plane to about this pixel size for speed, mm. */
const WORK_PIXEL_MM = 1.4;
/** Air regions smaller than this are not lung (bowel gas, noise), mL. */
const MIN_LUNG_ML = 100;
/** A second lung must hold at least this share of the largest (else it is bowel gas or the trachea). */
const SECOND_LUNG_SHARE = 0.15;
/**
 * Per slice, each lung's outline is closed by its convex hull, but only within this distance of the air
 * itself, mm: nodules and masses against the pleura or mediastinum then lie inside the mask, while the
 * heart and the chest wall beyond this reach stay out.
 */
const HULL_REACH_MM = 30;

/**
 * Segments the lungs by thresholding and topology:
 * 1. air (< -400 HU) not connected to the outside of the body, per slice (the outside is flood-filled from
 *    the image border);
 * 2. 3D connected components of that air of at least 100 mL: the largest, and a second one when it holds
 *    at least 15% of the largest (two lungs);
 * 3. per axial slice and per 2D component, the convex hull of the lung within 30 mm of it, then holes
 *    filled: vessels, nodules and juxtapleural masses become lung; the same hulls on sagittal and coronal
 *    planes add masses that lung embraces from above, below or in front (paravertebral, diaphragmatic).
 * Runs on a grid coarsened in-plane to ~1.4 mm and maps back by nearest neighbour (step 4).
 *
 * Speed: flat typed arrays with explicit stacks and queues, no closure or allocation per voxel, one set
 * of buffers per plane size reused by every slice, and the hull work of each 2D component confined to its
 * bounding box, widened by the reach for its distance map (see `ReachLimitedHullCloser`).
 */
export function segmentLungs(volume: CtVolume): LungMask {
  const [nx, ny, nz] = volume.dimensions;
  const [si, sj, sk] = volume.spacingMm;
  const stepI = Math.max(1, Math.round(WORK_PIXEL_MM / si));
  const stepJ = Math.max(1, Math.round(WORK_PIXEL_MM / sj));
  const grid: WorkGrid = {
    stepI,
    stepJ,
    wx: Math.ceil(nx / stepI),
    wy: Math.ceil(ny / stepJ),
    nz,
    pixelMm: [si * stepI, sj * stepJ],
    sliceMm: sk,
  };
  const air = bodyAir(volume, grid);
  const lung = lungComponents(air, grid);
  const work = closeOnPlanes(lung, grid);
  return toVolumeGrid(work, volume, grid);
}

/**
 * The coarsened grid the segmentation works on: wx x wy pixels per slice (every stepI-th column and
 * stepJ-th row of the volume), the volume's nz slices; index x + wx * (y + wy * z).
 */
interface WorkGrid {
  /** Volume columns (i) and rows (j) per work pixel. */
  stepI: number;
  stepJ: number;
  wx: number;
  wy: number;
  nz: number;
  /** Pixel size along x and y, mm. */
  pixelMm: readonly [number, number];
  /** Slice step, mm. */
  sliceMm: number;
}

/**
 * Step 1: air (< AIR_HU) on the work grid, without the air that a 4-connected path of air joins to the
 * border of its slice (the outside of the body). 1 = air inside the body; index x + wx * (y + wy * z).
 */
function bodyAir(volume: CtVolume, grid: WorkGrid): Uint8Array {
  const { stepI, stepJ, wx, wy, nz } = grid;
  const [nx, ny] = volume.dimensions;
  const { hu } = volume;
  const plane = wx * wy;
  const air = new Uint8Array(plane * nz);
  const fill = new PlaneBorderFill(wx, wy);
  for (let k = 0; k < nz; k += 1) {
    const slice = air.subarray(k * plane, (k + 1) * plane);
    // Every stepI-th column of every stepJ-th row of the slice.
    for (let y = 0; y < wy; y += 1) {
      const row = nx * (y * stepJ + ny * k);
      for (let x = 0; x < wx; x += 1) slice[x + wx * y] = hu[row + x * stepI]! < AIR_HU ? 1 : 0;
    }
    const outside = fill.markBorderConnected(slice, 1);
    for (let p = 0; p < plane; p += 1) if (outside[p]) slice[p] = 0;
  }
  return air;
}

/**
 * Step 2: the lungs among the 3D (6-connected) components of body air: the largest of at least
 * MIN_LUNG_ML, and the second largest when it holds SECOND_LUNG_SHARE of it. 1 = lung air; same index as
 * `air`.
 */
function lungComponents(air: Uint8Array, grid: WorkGrid): Uint8Array {
  const { wx, wy, nz, pixelMm, sliceMm } = grid;
  const plane = wx * wy;
  // Label the components in the order of their first voxel (that order breaks ties of size below).
  const labels = new Int32Array(air.length);
  const stack = new Int32Array(air.length);
  const sizes: number[] = [0];
  for (let start = 0; start < air.length; start += 1) {
    if (!air[start] || labels[start]) continue;
    const label = sizes.length;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    labels[start] = label;
    // Depth-first through the 6 neighbours, inlined.
    while (top > 0) {
      const p = stack[--top]!;
      size += 1;
      const x = p % wx;
      const y = ((p - x) / wx) % wy;
      const z = (p - x - wx * y) / plane;
      let q = p - 1;
      if (x > 0 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
      q = p + 1;
      if (x < wx - 1 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
      q = p - wx;
      if (y > 0 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
      q = p + wx;
      if (y < wy - 1 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
      q = p - plane;
      if (z > 0 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
      q = p + plane;
      if (z < nz - 1 && air[q] && !labels[q]) {
        labels[q] = label;
        stack[top++] = q;
      }
    }
    sizes.push(size);
  }
  // Rank by volume, mL (the sort is stable: equal volumes keep label order).
  const voxelMl = (pixelMm[0] * pixelMm[1] * sliceMm) / 1000;
  const ranked = sizes
    .map((size, label) => ({ label, ml: size * voxelMl }))
    .slice(1)
    .filter((c) => c.ml >= MIN_LUNG_ML)
    .sort((a, b) => b.ml - a.ml);
  const isLungLabel = new Uint8Array(sizes.length);
  if (ranked[0]) isLungLabel[ranked[0].label] = 1;
  if (ranked[1] && ranked[1].ml >= SECOND_LUNG_SHARE * ranked[0]!.ml) isLungLabel[ranked[1].label] = 1;
  const lung = new Uint8Array(air.length);
  for (let p = 0; p < lung.length; p += 1) lung[p] = isLungLabel[labels[p]!]!;
  return lung;
}

/**
 * Step 3: the lung closed by reach-limited hulls, per axial slice (then holes filled), and on sagittal and
 * coronal planes (a mass in the paravertebral gutter or on the diaphragm is embraced by lung above, below
 * or in front of it, not on its axial slice). 1 = lung; same index as `lung`.
 */
function closeOnPlanes(lung: Uint8Array, grid: WorkGrid): Uint8Array {
  const { wx, wy, nz, pixelMm, sliceMm } = grid;
  const plane = wx * wy;
  const work = new Uint8Array(plane * nz);

  // Axial slices: hull of each 2D lung component within reach, holes filled.
  const axialCloser = new ReachLimitedHullCloser(wx, wy);
  const axialFill = new PlaneBorderFill(wx, wy);
  const axialReach = [HULL_REACH_MM / pixelMm[0], HULL_REACH_MM / pixelMm[1]] as const;
  for (let k = 0; k < nz; k += 1) {
    const slice = lung.subarray(k * plane, (k + 1) * plane);
    if (slice.indexOf(1) < 0) continue;
    const closed = axialCloser.close(slice, axialReach);
    axialFill.fillHoles(closed);
    work.set(closed, k * plane);
  }

  // Sagittal (x fixed; a = y, b = z) and coronal (y fixed; a = x, b = z) planes: hulls added, no filling.
  for (const fixed of ['x', 'y'] as const) {
    const u = fixed === 'x' ? wy : wx;
    const v = nz;
    const strideA = fixed === 'x' ? wx : 1;
    const strideF = fixed === 'x' ? 1 : wx;
    const count = fixed === 'x' ? wx : wy;
    const reach = [
      HULL_REACH_MM / (fixed === 'x' ? pixelMm[1] : pixelMm[0]),
      HULL_REACH_MM / sliceMm,
    ] as const;
    const closer = new ReachLimitedHullCloser(u, v);
    const planeLung = new Uint8Array(u * v);
    for (let f = 0; f < count; f += 1) {
      let any = 0;
      for (let b = 0; b < v; b += 1) {
        const base = f * strideF + b * plane;
        for (let a = 0; a < u; a += 1) {
          const value = lung[base + a * strideA]!;
          planeLung[a + u * b] = value;
          any |= value;
        }
      }
      if (!any) continue;
      const closed = closer.close(planeLung, reach);
      for (let b = 0; b < v; b += 1) {
        const base = f * strideF + b * plane;
        for (let a = 0; a < u; a += 1) if (closed[a + u * b]) work[base + a * strideA] = 1;
      }
    }
  }
  return work;
}

/** Step 4: the work-grid mask back on the volume's grid (nearest neighbour), with its extent and volume. */
function toVolumeGrid(work: Uint8Array, volume: CtVolume, grid: WorkGrid): LungMask {
  const { stepI, stepJ, wx, wy } = grid;
  const [nx, ny, nz] = volume.dimensions;
  const [si, sj, sk] = volume.spacingMm;
  const plane = wx * wy;
  const mask = new Uint8Array(nx * ny * nz);
  // Work column of each volume column i.
  const columnOf = new Int32Array(nx);
  for (let i = 0; i < nx; i += 1) columnOf[i] = Math.min(wx - 1, Math.floor(i / stepI));
  const bounds: LungMask['boundsIjk'] = [nx, ny, nz, -1, -1, -1];
  let count = 0;
  // One work row, expanded to nx voxels, copied to every volume row j that maps to it.
  const rowVoxels = new Uint8Array(nx);
  for (let k = 0; k < nz; k += 1) {
    let expandedRow = -1;
    let rowCount = 0;
    let rowIMin = nx;
    let rowIMax = -1;
    for (let j = 0; j < ny; j += 1) {
      const row = Math.min(wy - 1, Math.floor(j / stepJ));
      if (row !== expandedRow) {
        expandedRow = row;
        rowCount = 0;
        rowIMin = nx;
        rowIMax = -1;
        const workRow = wx * row + plane * k;
        for (let i = 0; i < nx; i += 1) {
          const value = work[workRow + columnOf[i]!]!;
          rowVoxels[i] = value;
          if (!value) continue;
          rowCount += 1;
          if (i < rowIMin) rowIMin = i;
          rowIMax = i;
        }
      }
      if (rowCount === 0) continue;
      mask.set(rowVoxels, nx * (j + ny * k));
      count += rowCount;
      if (rowIMin < bounds[0]) bounds[0] = rowIMin;
      if (j < bounds[1]) bounds[1] = j;
      if (k < bounds[2]) bounds[2] = k;
      if (rowIMax > bounds[3]) bounds[3] = rowIMax;
      if (j > bounds[4]) bounds[4] = j;
      if (k > bounds[5]) bounds[5] = k;
    }
  }
  if (count === 0) return { mask, boundsIjk: [-1, -1, -1, -1, -1, -1], volumeMl: 0 };
  return { mask, boundsIjk: bounds, volumeMl: (count * si * sj * sk) / 1000 };
}
