import type { NoduleType } from '../phantom/nodule-type.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';

/** A segmented nodule and its Lung-RADS measurements. Positions LPS mm, diameters on the axial plane. */
export interface NoduleMeasurement {
  /** Centroid of the segmentation, LPS mm. */
  centreLps: Vec3;
  /** Centroid as a continuous voxel index of the volume. */
  centreIjk: Vec3;
  /** [iMin, jMin, kMin, iMax, jMax, kMax] of the segmentation, inclusive. */
  boundingBoxIjk: [number, number, number, number, number, number];
  /** The segmentation over `boxIjk` (= boundingBoxIjk): data[i + w*(j + h*k)] relative to the box, 1 = nodule. */
  mask: { boxIjk: [number, number, number, number, number, number]; data: Uint8Array };
  /** Longest in-plane diameter on the slice where it is longest, mm. */
  longAxisMm: number;
  /** Longest diameter perpendicular to the long axis on that slice, mm. */
  shortAxisMm: number;
  /** (long + short) / 2 rounded to 0.1 mm: the Lung-RADS size. */
  meanDiameterMm: number;
  volumeMm3: number;
  meanHu: number;
  type: NoduleType;
  /** Mean axial diameter of the solid component (>= SOLID_HU), mm; 0 for ground glass. */
  solidComponentMm: number;
}

/** Nodule tissue, ground glass included: at least this, HU (LIDC readers outline about this boundary). */
export const NODULE_HU = -800;
/** Solid tissue: at least this, HU. */
export const SOLID_HU = -300;
/** Solid when the solid component's diameter is at least this share of the whole; ground glass below 1.5 mm. */
const SOLID_SHARE = 0.7;
const MIN_SOLID_COMPONENT_MM = 1.5;

export interface MeasureOptions {
  /** Radius estimate of the detector, mm: sets the search region (2.5x) and the vessel-cutting opening. */
  radiusHintMm: number;
  /** Lung mask on the volume's grid: voxels outside (chest wall, mediastinum) are never nodule. */
  lungMask?: Uint8Array;
}

/**
 * Segments the nodule at `seed` and measures it.
 *
 * Segmentation: within a box of 2.5 radius hints (at least 10 mm) around the seed, voxels >= -700 HU (in the
 * lungs when a mask is given) are opened by a small box (a sixth of the radius, 1-2 mm: vessels and
 * thin strands attached to the nodule are cut), the component at the seed (or nearest to it within half the
 * radius) is kept and grown back by the same ellipsoid inside the thresholded voxels.
 *
 * Axial diameters: on each slice, the longest chord between mask pixels; the long axis is the largest over
 * slices; the short axis is the longest extent perpendicular to it on that slice. A chord between the
 * centres of edge pixels is lengthened by one pixel spacing (edge to edge, as a caliper on the image).
 *
 * Type: solid when the solid component (>= -300 HU) has at least 70% of the whole's mean diameter, ground
 * glass when it is under 1.5 mm, part-solid otherwise.
 */
export function measureNodule(
  volume: CtVolume,
  seed: { ijk: Vec3 },
  options: MeasureOptions,
): NoduleMeasurement | undefined {
  const [nx, ny] = volume.dimensions;
  const spacing = volume.spacingMm;
  const reachMm = Math.max(10, 2.5 * options.radiusHintMm);
  const box = [0, 1, 2].map((a) => {
    const n = volume.dimensions[a]!;
    const r = Math.ceil(reachMm / spacing[a]!);
    const c = Math.round(seed.ijk[a]!);
    return [Math.max(0, c - r), Math.min(n - 1, c + r)];
  }) as [[number, number], [number, number], [number, number]];
  const [bw, bh, bd] = box.map(([lo, hi]) => hi - lo + 1) as [number, number, number];
  const local = (i: number, j: number, k: number) =>
    i - box[0][0] + bw * (j - box[1][0] + bh * (k - box[2][0]));
  const size = bw * bh * bd;
  const dense = new Uint8Array(size);
  for (let k = box[2][0]; k <= box[2][1]; k += 1)
    for (let j = box[1][0]; j <= box[1][1]; j += 1)
      for (let i = box[0][0]; i <= box[0][1]; i += 1) {
        const index = i + nx * (j + ny * k);
        if (volume.hu[index]! >= NODULE_HU && (!options.lungMask || options.lungMask[index])) {
          dense[local(i, j, k)] = 1;
        }
      }

  const openingMm = Math.min(2, Math.max(1, options.radiusHintMm / 6));
  const radii = spacing.map((s) => Math.max(0, Math.round(openingMm / s))) as Vec3;
  const core = erode(dense, [bw, bh, bd], radii);
  const start = nearestSet(
    core,
    [bw, bh, bd],
    seed.ijk.map((v, a) => Math.round(v) - box[a]![0]) as Vec3,
    options.radiusHintMm / 2,
    spacing,
  );
  if (start === undefined) return undefined;
  const component = connectedFrom(core, [bw, bh, bd], start);
  const grown = dilate(component, [bw, bh, bd], radii);
  for (let p = 0; p < size; p += 1) grown[p] = grown[p]! & dense[p]!;
  const nodule = connectedFrom(grown, [bw, bh, bd], start);

  // Measurements.
  let count = 0;
  let sumHu = 0;
  const sum = [0, 0, 0];
  const bounds = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (let z = 0; z < bd; z += 1)
    for (let y = 0; y < bh; y += 1)
      for (let x = 0; x < bw; x += 1) {
        if (!nodule[x + bw * (y + bh * z)]) continue;
        const i = x + box[0][0];
        const j = y + box[1][0];
        const k = z + box[2][0];
        count += 1;
        sumHu += volume.hu[i + nx * (j + ny * k)]!;
        sum[0]! += i;
        sum[1]! += j;
        sum[2]! += k;
        bounds[0] = Math.min(bounds[0]!, i);
        bounds[1] = Math.min(bounds[1]!, j);
        bounds[2] = Math.min(bounds[2]!, k);
        bounds[3] = Math.max(bounds[3]!, i);
        bounds[4] = Math.max(bounds[4]!, j);
        bounds[5] = Math.max(bounds[5]!, k);
      }
  if (count === 0) return undefined;
  const boundingBoxIjk = bounds as NoduleMeasurement['boundingBoxIjk'];
  const [i0, j0, k0, i1, j1, k1] = boundingBoxIjk;
  const mw = i1 - i0 + 1;
  const mh = j1 - j0 + 1;
  const md = k1 - k0 + 1;
  const data = new Uint8Array(mw * mh * md);
  const solid = new Uint8Array(mw * mh * md);
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        if (!nodule[local(i, j, k)]) continue;
        const m = i - i0 + mw * (j - j0 + mh * (k - k0));
        data[m] = 1;
        if (volume.hu[i + nx * (j + ny * k)]! >= SOLID_HU) solid[m] = 1;
      }
  const axes = axialAxes(data, [mw, mh, md], spacing);
  const centreIjk = sum.map((s) => s / count) as Vec3;
  const largestSolid = largestComponent(solid, [mw, mh, md]);
  const solidAxes = largestSolid ? axialAxes(largestSolid, [mw, mh, md], spacing) : undefined;
  const meanDiameterMm = Math.round(((axes.long + axes.short) / 2) * 10) / 10;
  const solidComponentMm = solidAxes ? Math.round(((solidAxes.long + solidAxes.short) / 2) * 10) / 10 : 0;
  const type: NoduleType =
    solidComponentMm >= SOLID_SHARE * meanDiameterMm
      ? 'solid'
      : solidComponentMm < MIN_SOLID_COMPONENT_MM
        ? 'ground-glass'
        : 'part-solid';
  return {
    centreLps: ijkToLps(volume, centreIjk),
    centreIjk,
    boundingBoxIjk,
    mask: { boxIjk: boundingBoxIjk, data },
    longAxisMm: Math.round(axes.long * 10) / 10,
    shortAxisMm: Math.round(axes.short * 10) / 10,
    meanDiameterMm,
    volumeMm3: count * spacing[0] * spacing[1] * spacing[2],
    meanHu: sumHu / count,
    type,
    solidComponentMm: type === 'ground-glass' ? 0 : solidComponentMm,
  };
}

function ijkToLps(volume: CtVolume, ijk: Vec3): Vec3 {
  const d = volume.direction;
  const [si, sj, sk] = volume.spacingMm;
  return [0, 1, 2].map(
    (a) => volume.originLps[a]! + ijk[0] * si * d[a]! + ijk[1] * sj * d[3 + a]! + ijk[2] * sk * d[6 + a]!,
  ) as Vec3;
}

/**
 * Long and short axial axes of a mask (mm, edge to edge): the long axis is the longest chord between pixel
 * centres on any slice, plus one pixel; the short axis the largest extent perpendicular to it on that slice.
 */
export function axialAxes(mask: Uint8Array, [w, h, d]: Vec3, spacing: Vec3): { long: number; short: number } {
  const [si, sj] = spacing;
  let best = { long: 0, short: 0 };
  for (let z = 0; z < d; z += 1) {
    // Boundary pixels (a neighbour outside the mask) carry the extremes of every chord.
    const points: [number, number][] = [];
    const all: [number, number][] = [];
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        if (!mask[x + w * (y + h * z)]) continue;
        const p: [number, number] = [x * si, y * sj];
        all.push(p);
        const inside = (X: number, Y: number) =>
          X >= 0 && Y >= 0 && X < w && Y < h && mask[X + w * (Y + h * z)] === 1;
        if (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1)) points.push(p);
      }
    if (all.length === 0) continue;
    let long = 0;
    let direction: [number, number] = [1, 0];
    for (let a = 0; a < points.length; a += 1)
      for (let b = a + 1; b < points.length; b += 1) {
        const dx = points[b]![0] - points[a]![0];
        const dy = points[b]![1] - points[a]![1];
        const length = Math.hypot(dx, dy);
        if (length > long) {
          long = length;
          direction = [dx / length, dy / length];
        }
      }
    // Pixel size along a direction: the caliper adds one pixel (its footprint along that direction).
    const pixelAlong = (u: [number, number]) => Math.abs(u[0]) * si + Math.abs(u[1]) * sj;
    const longMm = long + pixelAlong(direction);
    if (longMm <= best.long) continue;
    // Short axis: per line perpendicular to the long axis (binned by position along it), the extent across.
    const perpendicular: [number, number] = [-direction[1], direction[0]];
    const bin = Math.min(si, sj);
    const extents = new Map<number, [number, number]>();
    for (const [x, y] of all) {
      const along = Math.round((x * direction[0] + y * direction[1]) / bin);
      const across = x * perpendicular[0] + y * perpendicular[1];
      const e = extents.get(along);
      if (!e) extents.set(along, [across, across]);
      else {
        e[0] = Math.min(e[0], across);
        e[1] = Math.max(e[1], across);
      }
    }
    let short = 0;
    for (const [lo, hi] of extents.values()) short = Math.max(short, hi - lo);
    best = { long: longMm, short: Math.min(longMm, short + pixelAlong(perpendicular)) };
  }
  return best;
}

function erode(mask: Uint8Array, shape: Vec3, radii: Vec3): Uint8Array {
  return morph(mask, shape, radii, 0);
}

function dilate(mask: Uint8Array, shape: Vec3, radii: Vec3): Uint8Array {
  return morph(mask, shape, radii, 1);
}

/** Separable morphology with a box of half-sizes `radii` (outside counts as background). */
function morph(mask: Uint8Array, [w, h, d]: Vec3, radii: Vec3, keep: 0 | 1): Uint8Array {
  let current = mask;
  const strides = [1, w, w * h];
  const lengths = [w, h, d];
  for (let axis = 0; axis < 3; axis += 1) {
    const r = radii[axis]!;
    if (r === 0) continue;
    const out = new Uint8Array(current.length);
    const stride = strides[axis]!;
    const length = lengths[axis]!;
    for (let index = 0; index < current.length; index += 1) {
      const position = Math.floor(index / stride) % length;
      let found = false;
      for (let o = -r; o <= r && !found; o += 1) {
        const p = position + o;
        if (p < 0 || p >= length) {
          if (keep === 0) found = true;
          continue;
        }
        if (current[index + o * stride] === keep) found = true;
      }
      out[index] = found ? keep : 1 - keep;
    }
    current = out;
  }
  return current;
}

/** The set voxel nearest to `seed` within `maxMm`, as a local index; undefined when none. */
function nearestSet(
  mask: Uint8Array,
  [w, h, d]: Vec3,
  seed: Vec3,
  maxMm: number,
  spacing: Vec3,
): number | undefined {
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  const s = [clamp(seed[0], w), clamp(seed[1], h), clamp(seed[2], d)];
  if (mask[s[0]! + w * (s[1]! + h * s[2]!)]) return s[0]! + w * (s[1]! + h * s[2]!);
  let best: number | undefined;
  let bestMm = Math.max(maxMm, 2);
  const r = spacing.map((sp) => Math.ceil(bestMm / sp));
  for (let z = Math.max(0, s[2]! - r[2]!); z <= Math.min(d - 1, s[2]! + r[2]!); z += 1)
    for (let y = Math.max(0, s[1]! - r[1]!); y <= Math.min(h - 1, s[1]! + r[1]!); y += 1)
      for (let x = Math.max(0, s[0]! - r[0]!); x <= Math.min(w - 1, s[0]! + r[0]!); x += 1) {
        const index = x + w * (y + h * z);
        if (!mask[index]) continue;
        const mm = Math.hypot((x - s[0]!) * spacing[0], (y - s[1]!) * spacing[1], (z - s[2]!) * spacing[2]);
        if (mm <= bestMm) {
          bestMm = mm;
          best = index;
        }
      }
  return best;
}

/** The 26-connected component of `mask` containing `start`. */
function connectedFrom(mask: Uint8Array, [w, h, d]: Vec3, start: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  if (!mask[start]) return out;
  const stack = [start];
  out[start] = 1;
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % w;
    const y = Math.floor(p / w) % h;
    const z = Math.floor(p / (w * h));
    for (let dz = -1; dz <= 1; dz += 1)
      for (let dy = -1; dy <= 1; dy += 1)
        for (let dx = -1; dx <= 1; dx += 1) {
          const X = x + dx;
          const Y = y + dy;
          const Z = z + dz;
          if (X < 0 || Y < 0 || Z < 0 || X >= w || Y >= h || Z >= d) continue;
          const q = X + w * (Y + h * Z);
          if (mask[q] && !out[q]) {
            out[q] = 1;
            stack.push(q);
          }
        }
  }
  return out;
}

/** The largest 26-connected component of a mask, or undefined when it is empty. */
function largestComponent(mask: Uint8Array, shape: Vec3): Uint8Array | undefined {
  const seen = new Uint8Array(mask.length);
  let best: Uint8Array | undefined;
  let bestCount = 0;
  for (let p = 0; p < mask.length; p += 1) {
    if (!mask[p] || seen[p]) continue;
    const component = connectedFrom(mask, shape, p);
    let count = 0;
    for (let q = 0; q < component.length; q += 1) {
      if (component[q]) {
        seen[q] = 1;
        count += 1;
      }
    }
    if (count > bestCount) {
      bestCount = count;
      best = component;
    }
  }
  return best;
}
