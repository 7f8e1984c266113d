import type { NoduleType } from '../phantom/nodule-type.js';
import type { CaliperAxes } from '../shared/caliper-axes.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';

/** A segmented nodule and its Lung-RADS measurements. Positions LPS mm, diameters on the axial plane. */
export interface NoduleMeasurement {
  /**
   * Centre of the segmentation, LPS mm: its centroid, or where that falls outside the lung mask (a crescent
   * along the pleura), the segmented voxel nearest to the centroid, so a finding never lies outside the lungs.
   */
  centreLps: Vec3;
  /** The same centre as a continuous voxel index (i, j, k) of the volume. */
  centreIjk: Vec3;
  /** [iMin, jMin, kMin, iMax, jMax, kMax] of the segmentation, inclusive. */
  boundingBoxIjk: [number, number, number, number, number, number];
  /** The segmentation over `boxIjk` (= boundingBoxIjk): data[i + w*(j + h*k)] relative to the box, 1 = nodule. */
  mask: { boxIjk: [number, number, number, number, number, number]; data: Uint8Array };
  /** Longest in-plane diameter on the slice where it is longest, mm. */
  longAxisMm: number;
  /** Longest diameter perpendicular to the long axis on that slice, mm. */
  shortAxisMm: number;
  /** Where the two axes lie (LPS mm); absent only where a caller has no mask to measure on. */
  axesLps?: CaliperAxes;
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
  /**
   * Radius estimate of the detector, mm: sets the first search region (2.5x, at least 10 mm), the
   * vessel-cutting opening (a sixth, 1-2 mm) and how far from the seed the nodule may start (half). Lesions
   * larger than the first region are still measured whole: the region grows (see {@link measureNodule}).
   */
  radiusHintMm: number;
  /** Lung mask on the volume's grid: voxels outside (chest wall, mediastinum) are never nodule. */
  lungMask?: Uint8Array;
}

/** Largest reach of the search region (half its width along each axis, from the seed) for a large lesion, mm. */
export const MAX_SEARCH_REACH_MM = 100;
/**
 * Largest search region, voxels (a 100 mm reach at 0.7 x 0.7 x 2.5 mm is 6.6 million): bounds the time and
 * memory of one measurement; on thin-slice scans the region stops growing below MAX_SEARCH_REACH_MM instead.
 */
const MAX_SEARCH_VOXELS = 8_000_000;
/**
 * The region grows (its reach doubles) while at least this share of the rays from the seed (by solid angle)
 * leave it still inside the segmentation: a lesion larger than the region. A vessel running out of it takes
 * about 1% of the rays.
 */
const CLIPPED_SHARE = 0.1;
/** Large-lesion opening: a ball of a third of the lesion's radius (the rays' lower quartile), at most 10 mm. */
const MASS_OPENING_SHARE = 1 / 3;
const MAX_MASS_OPENING_MM = 10;
/** The opened lesion is grown back by this much within the thresholded voxels, mm. */
const MASS_MARGIN_MM = 1;
/** Rays within this factor of the median extent shape the envelope; longer ones are leaks. */
const ENVELOPE_INLIER = 1.3;
/** The segmentation is cut this far past the envelope (and at the envelope where a ray reaches past it). */
const ENVELOPE_TOLERANCE = 1.05;

/**
 * Segments the nodule at `seed` and measures it.
 *
 * Frames and units: `seed.ijk`, `centreIjk` and the boxes are voxel indices (i, j, k) of `volume` (linear
 * index i + nx*(j + ny*k)); distances, radii and diameters are mm, measured on the voxel grid scaled by
 * `spacingMm` (the volume's axes are orthonormal, so these are patient distances); `centreLps` is patient
 * LPS mm; volumes mm^3; attenuation HU.
 *
 * Segmentation: within a box reaching 2.5 radius hints (at least 10 mm) from the seed along each axis,
 * voxels >= NODULE_HU (in the lungs when a mask is given) are opened by a small box (a sixth of the radius,
 * 1-2 mm: vessels and thin strands attached to the nodule are cut), the component at the seed (or nearest to
 * it within half the radius) is kept and grown back by the same box inside the thresholded voxels.
 *
 * Large lesions (and leaks) reach the box: the hint was too small to hold them. Then, from the voxel that
 * component grew from, 2048 rays of equal solid angle measure extents, and:
 * 1. the thresholded voxels are opened by a ball of a third of the lesion's radius (the lower quartile of
 *    the rays' extents through them; at most 10 mm; a Euclidean opening, on a grid coarsened in-plane to
 *    at least 1 mm), the component at the start is kept and grown back by 1 mm within the thresholded
 *    voxels: strands and bridges narrower than the ball (vessels, fissures, pleura) are cut, a mass keeps
 *    its shape;
 * 2. while at least 10% of the rays leave the box still inside that segmentation, the box's reach doubles
 *    (up to 100 mm, and at most 8 million voxels: this bounds the time) and step 1 is redone;
 * 3. a shape prior cuts what stays attached over a broad contact (mediastinum, aorta, diaphragm or chest
 *    wall, which the lung mask's hull takes in next to a juxtapleural mass, at the mass's own density): a
 *    smooth envelope is fitted to the rays' extents (degree-2 spherical harmonics, least squares over the
 *    rays within 1.3 times the median extent) and the segmentation is cut 5% past it, and at it in the
 *    directions whose extent reaches past that.
 * A segmentation that does not reach its box (every nodule the hint's box holds) is measured as it is, so
 * such nodules measure exactly as before large lesions were handled.
 *
 * Axial diameters: on each slice, the longest chord between mask pixels; the long axis is the largest over
 * slices; the short axis is the longest extent perpendicular to it on that slice. A chord between the
 * centres of edge pixels is lengthened by one pixel spacing (edge to edge, as a caliper on the image).
 *
 * Centre: the centroid of the segmentation; where that falls outside the lung mask (a crescent along the
 * pleura), the segmented voxel nearest to it.
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
  let reachMm = Math.max(10, 2.5 * options.radiusHintMm);
  let segmented = segmentWithin(volume, seed.ijk, options, reachMm);
  if (!segmented) return undefined;
  if (touchesOpenFace(segmented, volume.dimensions)) {
    const { openingMm } = segmented;
    const maxReachMm = Math.min(MAX_SEARCH_REACH_MM, reachForVoxels(volume, seed.ijk, MAX_SEARCH_VOXELS));
    let lesion =
      openLesion(segmented, startIjk(segmented), openingMm, volume.dimensions, spacing) ?? segmented;
    let rays = castRays(lesion, volume.dimensions, spacing);
    while (rays.clippedShare >= CLIPPED_SHARE && reachMm < maxReachMm) {
      reachMm = Math.min(2 * reachMm, maxReachMm);
      const region = thresholdRegion(volume, seed.ijk, options.lungMask, reachMm);
      const larger = openLesion(region, startIjk(lesion), openingMm, volume.dimensions, spacing);
      if (!larger) break;
      lesion = larger;
      rays = castRays(lesion, volume.dimensions, spacing);
    }
    cutToEnvelope(lesion, rays.extentMm, spacing);
    segmented = lesion;
  }
  const { box, nodule } = segmented;
  const [bw, bh, bd] = segmented.shape;
  const local = (i: number, j: number, k: number) =>
    i - box[0][0] + bw * (j - box[1][0] + bh * (k - box[2][0]));

  // Measurements.
  let count = 0;
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
  const segmentation = new Uint8Array(mw * mh * md);
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        if (nodule[local(i, j, k)]) segmentation[i - i0 + mw * (j - j0 + mh * (k - k0))] = 1;
      }
  // The lesion is what lies inside its edge at half contrast (see halfContrastMask), not the whole of the
  // segmentation, whose -800 HU boundary takes in the scanner's blur around it (about 1 mm on each side).
  const data = halfContrastMask(volume, segmentation, boundingBoxIjk, options.lungMask);
  const solid = new Uint8Array(mw * mh * md);
  let inside = 0;
  let insideHu = 0;
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        const m = i - i0 + mw * (j - j0 + mh * (k - k0));
        if (!data[m]) continue;
        const hu = volume.hu[i + nx * (j + ny * k)]!;
        inside += 1;
        insideHu += hu;
        if (hu >= SOLID_HU) solid[m] = 1;
      }
  const axes = axialAxes(data, [mw, mh, md], spacing);
  let centreIjk = sum.map((s) => s / count) as Vec3;
  if (options.lungMask) {
    const [ci, cj, ck] = centreIjk.map(Math.round) as Vec3;
    if (!options.lungMask[ci + nx * (cj + ny * ck)]) {
      centreIjk = nearestIn(data, [mw, mh, md], centreIjk, [i0, j0, k0], spacing);
    }
  }
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
    ...(axes.ends && { axesLps: axesInPatient(volume, axes.ends, [i0, j0, k0]) }),
    meanDiameterMm,
    volumeMm3: inside * spacing[0] * spacing[1] * spacing[2],
    meanHu: insideHu / inside,
    type,
    solidComponentMm: type === 'ground-glass' ? 0 : solidComponentMm,
  };
}

/** A segmentation in a search box of the volume. */
interface Segmentation {
  /** [[iLo, iHi], [jLo, jHi], [kLo, kHi]]: the box, voxel indices of the volume, inclusive. */
  box: [[number, number], [number, number], [number, number]];
  /** Box size (w, h, d), voxels; the masks below are indexed x + w*(y + h*z) relative to the box. */
  shape: Vec3;
  /** 1 = nodule. */
  nodule: Uint8Array;
  /** The voxels >= NODULE_HU (in the lungs when a mask is given). */
  dense: Uint8Array;
  /** Local index of the voxel the nodule was grown from. */
  start: number;
  /** Half-size of the vessel-cutting opening's box, mm. */
  openingMm: number;
}

/** The voxels >= NODULE_HU (in the lungs when a mask is given) in the box reaching `reachMm` from the seed. */
function thresholdRegion(
  volume: CtVolume,
  seedIjk: Vec3,
  lungMask: Uint8Array | undefined,
  reachMm: number,
): Pick<Segmentation, 'box' | 'shape' | 'dense'> {
  const [nx, ny] = volume.dimensions;
  const box = searchBox(volume, seedIjk, reachMm);
  const [bw, bh, bd] = box.map(([lo, hi]) => hi - lo + 1) as Vec3;
  const dense = new Uint8Array(bw * bh * bd);
  for (let k = box[2][0]; k <= box[2][1]; k += 1)
    for (let j = box[1][0]; j <= box[1][1]; j += 1) {
      const row = nx * (j + ny * k);
      const out = bw * (j - box[1][0] + bh * (k - box[2][0])) - box[0][0];
      for (let i = box[0][0]; i <= box[0][1]; i += 1) {
        const index = i + row;
        if (volume.hu[index]! >= NODULE_HU && (!lungMask || lungMask[index])) dense[i + out] = 1;
      }
    }
  return { box, shape: [bw, bh, bd], dense };
}

/** The single-pass segmentation (threshold, opening, component at the seed) in a box of `reachMm`. */
function segmentWithin(
  volume: CtVolume,
  seedIjk: Vec3,
  options: MeasureOptions,
  reachMm: number,
): Segmentation | undefined {
  const region = thresholdRegion(volume, seedIjk, options.lungMask, reachMm);
  const { box, shape, dense } = region;
  const openingMm = Math.min(2, Math.max(1, options.radiusHintMm / 6));
  const radii = volume.spacingMm.map((s) => Math.max(0, Math.round(openingMm / s))) as Vec3;
  const core = erode(dense, shape, radii);
  const start = nearestSet(
    core,
    shape,
    seedIjk.map((v, a) => Math.round(v) - box[a]![0]) as Vec3,
    options.radiusHintMm / 2,
    volume.spacingMm,
  );
  if (start === undefined) return undefined;
  const grown = dilate(connectedFrom(core, shape, start), shape, radii);
  for (let p = 0; p < grown.length; p += 1) grown[p] = grown[p]! & dense[p]!;
  return { ...region, nodule: connectedFrom(grown, shape, start), start, openingMm };
}

/** Voxel index ranges (inclusive) within `reachMm` of the seed along each axis, clipped to the volume. */
function searchBox(volume: CtVolume, seedIjk: Vec3, reachMm: number): Segmentation['box'] {
  return [0, 1, 2].map((a) => {
    const n = volume.dimensions[a]!;
    const r = Math.ceil(reachMm / volume.spacingMm[a]!);
    const c = Math.round(seedIjk[a]!);
    return [Math.max(0, c - r), Math.min(n - 1, c + r)];
  }) as Segmentation['box'];
}

/** The largest reach (mm, multiple of 1 mm) whose search box holds at most `maxVoxels`. */
function reachForVoxels(volume: CtVolume, seedIjk: Vec3, maxVoxels: number): number {
  const voxels = (reach: number) =>
    searchBox(volume, seedIjk, reach).reduce((n, [lo, hi]) => n * (hi - lo + 1), 1);
  let lo = 10;
  let hi = MAX_SEARCH_REACH_MM;
  if (voxels(hi) <= maxVoxels) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (voxels(mid) <= maxVoxels) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Whether the segmentation reaches a face of its box that is not the volume's edge. */
function touchesOpenFace(segmented: Segmentation, dimensions: Vec3): boolean {
  const { box, shape, nodule } = segmented;
  const [w, h, d] = shape;
  const open = (a: number, side: 0 | 1) => (side === 0 ? box[a]![0] > 0 : box[a]![1] < dimensions[a]! - 1);
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        if (!nodule[x + w * (y + h * z)]) continue;
        if (
          (x === 0 && open(0, 0)) ||
          (x === w - 1 && open(0, 1)) ||
          (y === 0 && open(1, 0)) ||
          (y === h - 1 && open(1, 1)) ||
          (z === 0 && open(2, 0)) ||
          (z === d - 1 && open(2, 1))
        ) {
          return true;
        }
      }
  return false;
}

/** Voxel index (i, j, k) of the volume of a segmentation's start voxel. */
function startIjk({ box, shape, start }: Segmentation): Vec3 {
  const [w, h] = shape;
  return [
    box[0][0] + (start % w),
    box[1][0] + (Math.floor(start / w) % h),
    box[2][0] + Math.floor(start / (w * h)),
  ];
}

/**
 * The large-lesion segmentation (step 1 of measureNodule) in a thresholded region, from the voxel `fromIjk`:
 * the lesion's radius is the lower quartile of the rays' extents through the thresholded voxels; they are
 * opened by a ball of a third of it (at most MAX_MASS_OPENING_MM), the component at `fromIjk` (or the opened
 * voxel nearest to it) is kept and grown back by MASS_MARGIN_MM within them. Undefined where that ball would
 * not exceed the vessel-cutting opening (`openingMm`: a small nodule) or nothing is left.
 */
function openLesion(
  region: Pick<Segmentation, 'box' | 'shape' | 'dense'>,
  fromIjk: Vec3,
  openingMm: number,
  dimensions: Vec3,
  spacing: Vec3,
): Segmentation | undefined {
  const { box, shape, dense } = region;
  const [w, h] = shape;
  const origin = fromIjk.map((v, a) => v - box[a]![0]) as Vec3;
  const start = origin[0] + w * (origin[1] + h * origin[2]);
  const through = { ...region, nodule: dense, start, openingMm };
  const sorted = Float64Array.from(castRays(through, dimensions, spacing).extentMm).sort();
  const radiusMm = sorted[Math.floor(RAY_COUNT / 4)]!;
  const ballMm = Math.min(MAX_MASS_OPENING_MM, MASS_OPENING_SHARE * radiusMm);
  if (!(ballMm > openingMm)) return undefined;
  // A ball of 4 mm or more is applied on a grid coarsened in-plane to at least 1 mm (4x fewer voxels at
  // 0.7 mm pixels); smaller ones (nodules of about 25 mm and less) on the volume's grid.
  const f = ballMm >= 4 ? Math.max(1, Math.ceil(1 / Math.max(spacing[0], spacing[1]))) : 1;
  const coarse = coarsen(dense, shape, f);
  const coarseSpacing: Vec3 = [spacing[0] * f, spacing[1] * f, spacing[2]];
  const core = ballErode(coarse.mask, coarse.shape, coarseSpacing, ballMm);
  const coarseOrigin: Vec3 = [Math.floor(origin[0] / f), Math.floor(origin[1] / f), origin[2]];
  const coreStart = nearestSet(core, coarse.shape, coarseOrigin, radiusMm, coarseSpacing);
  if (coreStart === undefined) return undefined;
  const openedCoarse = ballDilate(
    connectedFrom(core, coarse.shape, coreStart),
    coarse.shape,
    coarseSpacing,
    ballMm,
  );
  const opened = refine(openedCoarse, coarse.shape, shape, f);
  const grown = dilate(opened, shape, spacing.map((s) => Math.round(MASS_MARGIN_MM / s)) as Vec3);
  for (let p = 0; p < grown.length; p += 1) grown[p] = grown[p]! & dense[p]!;
  const [cw, ch] = coarse.shape;
  const coreIjk = [
    (coreStart % cw) * f,
    (Math.floor(coreStart / cw) % ch) * f,
    Math.floor(coreStart / (cw * ch)),
  ];
  const coreFine = coreIjk[0]! + w * (coreIjk[1]! + h * coreIjk[2]!);
  const from = grown[start] ? start : coreFine;
  return { ...region, nodule: connectedFrom(grown, shape, from), start: from, openingMm };
}

// Ray directions of equal solid angle: bins uniform in the k component (cos of the polar angle) and in the
// azimuth about k, in the voxel grid scaled to mm.
const RAY_Z_BINS = 32;
const RAY_AZIMUTH_BINS = 64;
const RAY_COUNT = RAY_Z_BINS * RAY_AZIMUTH_BINS;
const RAY_DIRECTIONS: Float64Array = (() => {
  const out = new Float64Array(3 * RAY_COUNT);
  for (let zb = 0; zb < RAY_Z_BINS; zb += 1)
    for (let ab = 0; ab < RAY_AZIMUTH_BINS; ab += 1) {
      const z = -1 + ((zb + 0.5) * 2) / RAY_Z_BINS;
      const phi = -Math.PI + ((ab + 0.5) * 2 * Math.PI) / RAY_AZIMUTH_BINS;
      const s = Math.sqrt(1 - z * z);
      const b = 3 * (zb * RAY_AZIMUTH_BINS + ab);
      out[b] = s * Math.cos(phi);
      out[b + 1] = s * Math.sin(phi);
      out[b + 2] = z;
    }
  return out;
})();

/** The ray bin of a direction (dx, dy, dz) of length `length`, mm. */
function rayBin(dx: number, dy: number, dz: number, length: number): number {
  const zb = Math.min(RAY_Z_BINS - 1, Math.floor(((dz / length + 1) / 2) * RAY_Z_BINS));
  const ab = Math.min(
    RAY_AZIMUTH_BINS - 1,
    Math.floor(((Math.atan2(dy, dx) + Math.PI) / (2 * Math.PI)) * RAY_AZIMUTH_BINS),
  );
  return zb * RAY_AZIMUTH_BINS + ab;
}

/**
 * Extent of the segmentation from its start voxel along each ray, mm (distance to the first sample outside
 * it, in steps of half the finest spacing, less half a step), and the share of rays that leave the box still
 * inside it through a face that is not the volume's edge (where a larger box would see more).
 */
function castRays(
  segmented: Segmentation,
  dimensions: Vec3,
  spacing: Vec3,
): { extentMm: Float64Array; clippedShare: number } {
  const { box, shape, nodule, start } = segmented;
  const [w, h, d] = shape;
  const origin = [start % w, Math.floor(start / w) % h, Math.floor(start / (w * h))];
  const stepMm = Math.min(spacing[0], spacing[1], spacing[2]) / 2;
  const maxMm = Math.hypot(w * spacing[0], h * spacing[1], d * spacing[2]);
  // A face is open where the box stops short of the volume's edge.
  const openLo = [0, 1, 2].map((a) => box[a]![0] > 0);
  const openHi = [0, 1, 2].map((a) => box[a]![1] < dimensions[a]! - 1);
  const extentMm = new Float64Array(RAY_COUNT);
  let clipped = 0;
  for (let r = 0; r < RAY_COUNT; r += 1) {
    const u = [0, 1, 2].map((a) => RAY_DIRECTIONS[3 * r + a]! / spacing[a]!);
    let inside = 0;
    for (let t = stepMm; t <= maxMm; t += stepMm) {
      const x = Math.round(origin[0]! + t * u[0]!);
      const y = Math.round(origin[1]! + t * u[1]!);
      const z = Math.round(origin[2]! + t * u[2]!);
      if (x < 0 || y < 0 || z < 0 || x >= w || y >= h || z >= d) {
        const open =
          (x < 0 && openLo[0]) ||
          (y < 0 && openLo[1]) ||
          (z < 0 && openLo[2]) ||
          (x >= w && openHi[0]) ||
          (y >= h && openHi[1]) ||
          (z >= d && openHi[2]);
        if (open) clipped += 1;
        break;
      }
      if (!nodule[x + w * (y + h * z)]) break;
      inside = t;
    }
    extentMm[r] = inside + stepMm / 2;
  }
  return { extentMm, clippedShare: clipped / RAY_COUNT };
}

/** The degree <= 2 real spherical-harmonic basis (9 functions) at a unit direction. */
function harmonics(x: number, y: number, z: number): number[] {
  return [1, x, y, z, x * y, x * z, y * z, x * x - y * y, 3 * z * z - 1];
}

/**
 * A smooth envelope of the rays' extents, mm per ray: the least-squares degree-2 spherical-harmonic fit
 * (a sphere, shifted and stretched: an off-centre, ellipsoid-like lesion) over the rays within
 * ENVELOPE_INLIER times the median extent (longer rays run into leaks and do not pull it out).
 */
function envelope(extentMm: Float64Array): Float64Array {
  const n = 9;
  const medianMm = Float64Array.from(extentMm).sort()[RAY_COUNT >> 1]!;
  const ata = new Float64Array(n * n);
  const atb = new Float64Array(n);
  const rows: number[][] = [];
  for (let r = 0; r < RAY_COUNT; r += 1) {
    const row = harmonics(RAY_DIRECTIONS[3 * r]!, RAY_DIRECTIONS[3 * r + 1]!, RAY_DIRECTIONS[3 * r + 2]!);
    rows.push(row);
    if (extentMm[r]! > ENVELOPE_INLIER * medianMm) continue;
    for (let a = 0; a < n; a += 1) {
      atb[a]! += row[a]! * extentMm[r]!;
      for (let b = 0; b < n; b += 1) ata[a * n + b]! += row[a]! * row[b]!;
    }
  }
  const c = solve(ata, atb, n);
  return Float64Array.from(rows, (row) =>
    Math.max(
      0,
      row.reduce((v, f, a) => v + c[a]! * f, 0),
    ),
  );
}

/**
 * Cuts the segmentation (in place) ENVELOPE_TOLERANCE past the envelope of its rays, and at the envelope in
 * the directions whose extent reaches past that (leaks), then keeps the component at the start voxel.
 */
function cutToEnvelope(segmented: Segmentation, extentMm: Float64Array, spacing: Vec3): void {
  const { shape, nodule, start } = segmented;
  const [w, h, d] = shape;
  const fit = envelope(extentMm);
  const limitMm = Float64Array.from(fit, (f, r) =>
    extentMm[r]! > ENVELOPE_TOLERANCE * f ? f : ENVELOPE_TOLERANCE * f,
  );
  const minLimitMm = Math.min(...limitMm);
  const ox = start % w;
  const oy = Math.floor(start / w) % h;
  const oz = Math.floor(start / (w * h));
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        const p = x + w * (y + h * z);
        if (!nodule[p]) continue;
        const dx = (x - ox) * spacing[0];
        const dy = (y - oy) * spacing[1];
        const dz = (z - oz) * spacing[2];
        const length = Math.hypot(dx, dy, dz);
        if (length > minLimitMm && length > limitMm[rayBin(dx, dy, dz, length)]!) nodule[p] = 0;
      }
  segmented.nodule = connectedFrom(nodule, shape, start);
}

/** Solves the symmetric system `a x = b` (n x n, row-major) by Gaussian elimination with pivoting. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c += 1) {
    let pivot = c;
    for (let r = c + 1; r < n; r += 1) if (Math.abs(m[r * n + c]!) > Math.abs(m[pivot * n + c]!)) pivot = r;
    if (pivot !== c) {
      for (let k = 0; k < n; k += 1) [m[c * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[c * n + k]!];
      [x[c], x[pivot]] = [x[pivot]!, x[c]!];
    }
    const diag = m[c * n + c]!;
    if (Math.abs(diag) < 1e-12) continue;
    for (let r = c + 1; r < n; r += 1) {
      const f = m[r * n + c]! / diag;
      if (f === 0) continue;
      for (let k = c; k < n; k += 1) m[r * n + k]! -= f * m[c * n + k]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = n - 1; c >= 0; c -= 1) {
    let v = x[c]!;
    for (let k = c + 1; k < n; k += 1) v -= m[c * n + k]! * x[k]!;
    const diag = m[c * n + c]!;
    x[c] = Math.abs(diag) < 1e-12 ? 0 : v / diag;
  }
  return x;
}

/** The mask on a grid coarsened by `f` in-plane: a coarse voxel is set when all the voxels it covers are. */
function coarsen(mask: Uint8Array, [w, h, d]: Vec3, f: number): { mask: Uint8Array; shape: Vec3 } {
  if (f === 1) return { mask, shape: [w, h, d] };
  const cw = Math.ceil(w / f);
  const ch = Math.ceil(h / f);
  const out = new Uint8Array(cw * ch * d).fill(1);
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1) {
      const row = w * (y + h * z);
      const coarseRow = cw * (Math.floor(y / f) + ch * z);
      for (let x = 0; x < w; x += 1) if (!mask[x + row]) out[Math.floor(x / f) + coarseRow] = 0;
    }
  return { mask: out, shape: [cw, ch, d] };
}

/** A coarse mask (see `coarsen`) back on the full grid: each voxel takes its coarse voxel's value. */
function refine(coarse: Uint8Array, [cw, ch]: Vec3, [w, h, d]: Vec3, f: number): Uint8Array {
  if (f === 1) return coarse;
  const out = new Uint8Array(w * h * d);
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1) {
      const row = w * (y + h * z);
      const coarseRow = cw * (Math.floor(y / f) + ch * z);
      for (let x = 0; x < w; x += 1) out[x + row] = coarse[Math.floor(x / f) + coarseRow]!;
    }
  return out;
}

/** Voxels whose ball of `radiusMm` (voxel centres, mm) holds only set voxels of `mask` (outside the box is unset). */
function ballErode(mask: Uint8Array, shape: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  const background = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p += 1) background[p] = mask[p] ? 0 : 1;
  const d2 = distanceSquared(background, shape, spacing);
  const [w, h, d] = shape;
  const r2 = radiusMm * radiusMm;
  const out = new Uint8Array(mask.length);
  for (let z = 0; z < d; z += 1) {
    const fz = spacing[2] * Math.min(z + 1, d - z);
    for (let y = 0; y < h; y += 1) {
      const fy = Math.min(fz, spacing[1] * Math.min(y + 1, h - y));
      for (let x = 0; x < w; x += 1) {
        const face = Math.min(fy, spacing[0] * Math.min(x + 1, w - x));
        const p = x + w * (y + h * z);
        if (mask[p] && d2[p]! > r2 && face > radiusMm) out[p] = 1;
      }
    }
  }
  return out;
}

/** Voxels within `radiusMm` (voxel centres, mm) of a set voxel of `mask`. */
function ballDilate(mask: Uint8Array, shape: Vec3, spacing: Vec3, radiusMm: number): Uint8Array {
  const d2 = distanceSquared(mask, shape, spacing);
  const r2 = radiusMm * radiusMm;
  const out = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p += 1) if (d2[p]! <= r2) out[p] = 1;
  return out;
}

/**
 * Squared Euclidean distance (mm^2, voxel centres) from every voxel to the nearest set voxel of `features`
 * (Infinity where there is none): separable lower envelopes of parabolas (Felzenszwalb and Huttenlocher).
 */
function distanceSquared(features: Uint8Array, [w, h, d]: Vec3, spacing: Vec3): Float64Array {
  const out = new Float64Array(features.length);
  for (let p = 0; p < out.length; p += 1) out[p] = features[p] ? 0 : Infinity;
  const lengths = [w, h, d];
  const strides = [1, w, w * h];
  const longest = Math.max(w, h, d);
  const f = new Float64Array(longest);
  const v = new Int32Array(longest);
  const zs = new Float64Array(longest + 1);
  for (let axis = 0; axis < 3; axis += 1) {
    const n = lengths[axis]!;
    const stride = strides[axis]!;
    const s2 = spacing[axis]! * spacing[axis]!;
    for (let block = 0; block < out.length; block += stride * n)
      for (let offset = 0; offset < stride; offset += 1) {
        const base = block + offset;
        let any = false;
        for (let q = 0; q < n; q += 1) {
          f[q] = out[base + q * stride]!;
          if (f[q]! < Infinity) any = true;
        }
        if (!any) continue;
        // Lower envelope of the parabolas f(q) + s2 (p - q)^2 over the finite f(q).
        let k = -1;
        for (let q = 0; q < n; q += 1) {
          if (f[q] === Infinity) continue;
          let x = -Infinity;
          while (k >= 0) {
            const r = v[k]!;
            x = (f[q]! + s2 * q * q - (f[r]! + s2 * r * r)) / (2 * s2 * (q - r));
            if (x > zs[k]!) break;
            k -= 1;
          }
          k += 1;
          v[k] = q;
          zs[k] = k === 0 ? -Infinity : x;
          zs[k + 1] = Infinity;
        }
        let j = 0;
        for (let p = 0; p < n; p += 1) {
          while (zs[j + 1]! < p) j += 1;
          const r = v[j]!;
          out[base + p * stride] = f[r]! + s2 * (p - r) * (p - r);
        }
      }
  }
  return out;
}

/** The set voxel of `mask` (box at `origin`, voxel indices) nearest to `ijk` (mm distances), as voxel indices. */
function nearestIn(mask: Uint8Array, [w, h, d]: Vec3, ijk: Vec3, origin: Vec3, spacing: Vec3): Vec3 {
  let best: Vec3 = ijk;
  let bestMm = Infinity;
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        if (!mask[x + w * (y + h * z)]) continue;
        const i = x + origin[0];
        const j = y + origin[1];
        const k = z + origin[2];
        const mm = Math.hypot(
          (i - ijk[0]) * spacing[0],
          (j - ijk[1]) * spacing[1],
          (k - ijk[2]) * spacing[2],
        );
        if (mm < bestMm) {
          bestMm = mm;
          best = [i, j, k];
        }
      }
  return best;
}

/** The axes' end points of axialAxes (voxels of a box whose first voxel is `origin`), LPS mm. */
function axesInPatient(
  volume: CtVolume,
  ends: NonNullable<AxialAxes['ends']>,
  [i0, j0, k0]: Vec3,
): CaliperAxes {
  const point = ([x, y]: Vec2): Vec3 => ijkToLps(volume, [i0 + x, j0 + y, k0 + ends.z]);
  return {
    long: [point(ends.long[0]), point(ends.long[1])],
    short: [point(ends.short[0]), point(ends.short[1])],
  };
}

function ijkToLps(volume: CtVolume, ijk: Vec3): Vec3 {
  const d = volume.direction;
  const [si, sj, sk] = volume.spacingMm;
  return [0, 1, 2].map(
    (a) => volume.originLps[a]! + ijk[0] * si * d[a]! + ijk[1] * sj * d[3 + a]! + ijk[2] * sk * d[6 + a]!,
  ) as Vec3;
}

/** The axial axes of a mask: lengths (mm) and, for a non-empty mask, where a caliper would put its ends. */
export interface AxialAxes {
  long: number;
  short: number;
  /**
   * The slice z of the mask and the axes' end points on it, (x, y) in voxels of the mask's box (continuous:
   * voxel centres at integers), edge to edge: each end lies half a pixel beyond the outermost pixel centre.
   */
  ends?: { z: number; long: [Vec2, Vec2]; short: [Vec2, Vec2] };
}

type Vec2 = [number, number];

/**
 * Long and short axial axes of a mask (mm, edge to edge): the long axis is the longest chord between pixel
 * centres on any slice, plus one pixel; the short axis the largest extent perpendicular to it on that slice.
 */
export function axialAxes(mask: Uint8Array, [w, h, d]: Vec3, spacing: Vec3): AxialAxes {
  const [si, sj] = spacing;
  let best: AxialAxes = { long: 0, short: 0 };
  for (let z = 0; z < d; z += 1) {
    // Boundary pixels (a neighbour outside the mask) carry the extremes of every chord.
    const points: [number, number][] = [];
    const all: [number, number][] = [];
    const plane = w * h * z;
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        const q = x + w * y + plane;
        if (!mask[q]) continue;
        const p: [number, number] = [x * si, y * sj];
        all.push(p);
        const edge =
          x === 0 ||
          x === w - 1 ||
          y === 0 ||
          y === h - 1 ||
          mask[q - 1] !== 1 ||
          mask[q + 1] !== 1 ||
          mask[q - w] !== 1 ||
          mask[q + w] !== 1;
        if (edge) points.push(p);
      }
    if (all.length === 0) continue;
    let long = 0;
    let longSquared = 0;
    let direction: [number, number] = [1, 0];
    let longFrom = 0;
    const n = points.length;
    const px = Float64Array.from(points, (p) => p[0]);
    const py = Float64Array.from(points, (p) => p[1]);
    for (let a = 0; a < n; a += 1) {
      const ax = px[a]!;
      const ay = py[a]!;
      for (let b = a + 1; b < n; b += 1) {
        const dx = px[b]! - ax;
        const dy = py[b]! - ay;
        // Math.hypot only for candidates (the squared length within rounding of the best).
        if (dx * dx + dy * dy < longSquared * (1 - 1e-9)) continue;
        const length = Math.hypot(dx, dy);
        if (length > long) {
          long = length;
          longSquared = length * length;
          direction = [dx / length, dy / length];
          longFrom = a;
        }
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
    let short = -1;
    let shortAt: [number, number, number] = [0, 0, 0];
    for (const [along, [lo, hi]] of extents) {
      if (hi - lo > short) {
        short = hi - lo;
        shortAt = [along * bin, lo, hi];
      }
    }
    const shortMm = Math.min(longMm, short + pixelAlong(perpendicular));
    // End points in mm of the box (pixel centre (x, y) at (x*si, y*sj)), then in voxels.
    const halfLong = pixelAlong(direction) / 2;
    const start: Vec2 = [px[longFrom]! - direction[0] * halfLong, py[longFrom]! - direction[1] * halfLong];
    const end: Vec2 = [start[0] + direction[0] * longMm, start[1] + direction[1] * longMm];
    const [along, lo] = shortAt;
    const halfShort = (shortMm - short) / 2;
    const at = (a: number, b: number): Vec2 => [
      a * direction[0] + b * perpendicular[0],
      a * direction[1] + b * perpendicular[1],
    ];
    const shortStart = at(along, lo - halfShort);
    const shortEnd = at(along, lo - halfShort + shortMm);
    const voxels = ([x, y]: Vec2): Vec2 => [x / si, y / sj];
    best = {
      long: longMm,
      short: shortMm,
      ends: {
        z,
        long: [voxels(start), voxels(end)],
        short: [voxels(shortStart), voxels(shortEnd)],
      },
    };
  }
  return best;
}

function erode(mask: Uint8Array, shape: Vec3, radii: Vec3): Uint8Array {
  return morph(mask, shape, radii, 0);
}

function dilate(mask: Uint8Array, shape: Vec3, radii: Vec3): Uint8Array {
  return morph(mask, shape, radii, 1);
}

/**
 * Separable morphology with a box of half-sizes `radii` (outside counts as background): per line along each
 * axis, a running count of set voxels in the window (linear in the voxels, whatever the radius).
 */
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
    const prefix = new Int32Array(length + 1);
    for (let block = 0; block < current.length; block += stride * length)
      for (let offset = 0; offset < stride; offset += 1) {
        const base = block + offset;
        for (let p = 0; p < length; p += 1) prefix[p + 1] = prefix[p]! + (current[base + p * stride] ? 1 : 0);
        for (let p = 0; p < length; p += 1) {
          const lo = p - r;
          const hi = p + r;
          let set: boolean;
          if (keep === 0) set = lo >= 0 && hi < length && prefix[hi + 1]! - prefix[lo]! === 2 * r + 1;
          else set = prefix[Math.min(length - 1, hi) + 1]! - prefix[Math.max(0, lo)]! > 0;
          if (set) out[base + p * stride] = 1;
        }
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
function connectedFrom(mask: Uint8Array, shape: Vec3, start: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  if (mask[start]) fill(mask, shape, start, out, 1);
  return out;
}

/**
 * Flood fill: writes `label` into `out` over the 26-connected component of `mask` at `start` (voxels whose
 * `out` is still 0); returns its size in voxels.
 */
function fill(
  mask: Uint8Array,
  [w, h, d]: Vec3,
  start: number,
  out: Uint8Array | Int32Array,
  label: number,
): number {
  let stack = new Int32Array(1024);
  let top = 0;
  stack[top++] = start;
  out[start] = label;
  let count = 1;
  const plane = w * h;
  while (top > 0) {
    const p = stack[--top]!;
    const x = p % w;
    const y = Math.floor(p / w) % h;
    const z = Math.floor(p / plane);
    const z0 = z > 0 ? -1 : 0;
    const z1 = z < d - 1 ? 1 : 0;
    const y0 = y > 0 ? -1 : 0;
    const y1 = y < h - 1 ? 1 : 0;
    const x0 = x > 0 ? -1 : 0;
    const x1 = x < w - 1 ? 1 : 0;
    for (let dz = z0; dz <= z1; dz += 1)
      for (let dy = y0; dy <= y1; dy += 1) {
        const row = p + dz * plane + dy * w;
        for (let dx = x0; dx <= x1; dx += 1) {
          const q = row + dx;
          if (mask[q] && !out[q]) {
            out[q] = label;
            count += 1;
            if (top === stack.length) {
              const larger = new Int32Array(2 * stack.length);
              larger.set(stack);
              stack = larger;
            }
            stack[top++] = q;
          }
        }
      }
  }
  return count;
}

/** The largest 26-connected component of a mask (the first in index order among equals), or undefined when it is empty. */
function largestComponent(mask: Uint8Array, shape: Vec3): Uint8Array | undefined {
  const labels = new Int32Array(mask.length);
  let bestLabel = 0;
  let bestCount = 0;
  let label = 0;
  for (let p = 0; p < mask.length; p += 1) {
    if (!mask[p] || labels[p]) continue;
    label += 1;
    const count = fill(mask, shape, p, labels, label);
    if (count > bestCount) {
      bestCount = count;
      bestLabel = label;
    }
  }
  if (bestLabel === 0) return undefined;
  const best = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p += 1) if (labels[p] === bestLabel) best[p] = 1;
  return best;
}

/** Parenchyma around the lesion is sampled this far (mm) outside its bounding box. */
const PARENCHYMA_MARGIN_MM = 4;

/**
 * The part of a segmentation (`mask`, indexed over `boxIjk`) inside the lesion's edge at half contrast:
 * voxels at or above the HU halfway between the lesion's tissue (the 75th percentile of its voxels: the
 * solid attenuation of a solid nodule, the glass of a ground-glass or part-solid one) and the parenchyma
 * around it (the median of the lung voxels outside the segmentation within 4 mm of its box), the component
 * with the most voxels. A blurred step edge crosses half contrast where the true edge lies, which is what
 * a reader's caliper on a lung window follows; the -800 HU segmentation boundary lies outside it. Never
 * lower than NODULE_HU; the whole segmentation where nothing is left.
 */
function halfContrastMask(
  volume: CtVolume,
  mask: Uint8Array,
  boxIjk: NoduleMeasurement['boundingBoxIjk'],
  lungMask: Uint8Array | undefined,
): Uint8Array {
  const [nx, ny, nz] = volume.dimensions;
  const [i0, j0, k0, i1, j1, k1] = boxIjk;
  const mw = i1 - i0 + 1;
  const mh = j1 - j0 + 1;
  const tissue: number[] = [];
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1)
        if (mask[i - i0 + mw * (j - j0 + mh * (k - k0))]) tissue.push(volume.hu[i + nx * (j + ny * k)]!);
  const pad = volume.spacingMm.map((s) => Math.ceil(PARENCHYMA_MARGIN_MM / s));
  const around: number[] = [];
  for (let k = Math.max(0, k0 - pad[2]!); k <= Math.min(nz - 1, k1 + pad[2]!); k += 1)
    for (let j = Math.max(0, j0 - pad[1]!); j <= Math.min(ny - 1, j1 + pad[1]!); j += 1)
      for (let i = Math.max(0, i0 - pad[0]!); i <= Math.min(nx - 1, i1 + pad[0]!); i += 1) {
        const index = i + nx * (j + ny * k);
        if (lungMask && !lungMask[index]) continue;
        const inBox = i >= i0 && i <= i1 && j >= j0 && j <= j1 && k >= k0 && k <= k1;
        if (inBox && mask[i - i0 + mw * (j - j0 + mh * (k - k0))]) continue;
        around.push(volume.hu[index]!);
      }
  if (tissue.length === 0 || around.length === 0) return mask;
  const quantile = (values: number[], q: number) => {
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
  };
  const edgeHu = Math.max(NODULE_HU, (quantile(tissue, 0.75) + quantile(around, 0.5)) / 2);
  const kept = new Uint8Array(mask.length);
  let any = false;
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        const m = i - i0 + mw * (j - j0 + mh * (k - k0));
        if (mask[m] && volume.hu[i + nx * (j + ny * k)]! >= edgeHu) {
          kept[m] = 1;
          any = true;
        }
      }
  if (!any) return mask;
  return largestComponent(kept, [mw, mh, k1 - k0 + 1]) ?? mask;
}
