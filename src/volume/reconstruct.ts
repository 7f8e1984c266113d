import type { QualityIssue } from './quality-issue.js';
import type { SliceImage } from './slice-image.js';
import { cross, dot, norm, normalize, scale, sub } from './vec3.js';
import type { CtVolume, Vec3 } from './volume.js';

export type Reconstruction =
  | { ok: true; volume: CtVolume; issues: QualityIssue[]; geometry: SliceGeometry }
  | { ok: false; issues: QualityIssue[] };

/** What the slice positions say about the series, for the quality gate and reports. */
export interface SliceGeometry {
  /** Distances between consecutive sorted slices along the normal, mm. */
  stepsMm: number[];
  medianStepMm: number;
  /** Angle between the slice stacking direction and the slice normal, degrees (gantry tilt). */
  tiltDegrees: number;
  /** Extent covered by slice centres along the normal, mm. */
  extentMm: number;
}

/** Relative deviation of a slice step from the median beyond which spacing counts as uneven. */
const UNEVEN_TOLERANCE = 0.01;
/** A step larger than this many median steps is a gap (missing slices). */
const GAP_FACTOR = 1.5;
/** Positions closer than this along the normal are the same position, mm. */
const SAME_POSITION_MM = 0.01;
/** Gantry tilt above this is rejected (it is not resampled), degrees. */
const MAX_TILT_DEGREES = 0.1;

const reject = (code: QualityIssue['code'], message: string): Reconstruction => ({
  ok: false,
  issues: [{ code, severity: 'reject', message }],
});

/**
 * Builds an HU volume from the slices of one series. Slices are ordered by their position along the slice
 * normal (cross product of the ImageOrientationPatient row and column directions), never by InstanceNumber
 * or file order. Uneven spacing and gaps are reported and resampled linearly onto the median step; mixed
 * sizes, orientations or spacings, duplicate positions and gantry tilt are rejected with the reason.
 */
export function reconstructVolume(slices: readonly HuSlice[]): Reconstruction {
  const reference = slices[0];
  if (!reference) return reject('no-images', 'the series has no images');
  const { rows, columns } = reference;
  if (slices.some((s) => s.rows !== rows || s.columns !== columns)) {
    return reject('mixed-sizes', 'images of different sizes in one series');
  }
  const rowDir = normalize(reference.rowDirection);
  const colDir = normalize(reference.columnDirection);
  const differs = (a: Vec3, b: Vec3) => Math.max(...sub(normalize(a), b).map(Math.abs)) > 1e-3;
  if (slices.some((s) => differs(s.rowDirection, rowDir) || differs(s.columnDirection, colDir))) {
    return reject('mixed-orientations', 'images with different orientations in one series');
  }
  const [rowSpacing, columnSpacing] = reference.pixelSpacingMm;
  if (
    slices.some(
      (s) =>
        Math.abs(s.pixelSpacingMm[0] - rowSpacing) > 1e-4 ||
        Math.abs(s.pixelSpacingMm[1] - columnSpacing) > 1e-4,
    )
  ) {
    return reject('mixed-spacing', 'images with different pixel spacing in one series');
  }

  const normal = normalize(cross(rowDir, colDir));
  const sorted = slices
    .map((slice) => ({ slice, d: dot(slice.positionLps, normal) }))
    .sort((a, b) => a.d - b.d);
  const steps = sorted.slice(1).map((s, k) => s.d - sorted[k]!.d);
  const duplicates = steps.filter((step) => step < SAME_POSITION_MM).length;
  if (duplicates > 0) {
    return reject('duplicate-positions', `${duplicates} image(s) share a position with another image`);
  }

  const issues: QualityIssue[] = [];
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const stack = sub(last.slice.positionLps, first.slice.positionLps);
  const along = dot(stack, normal);
  const across = norm(sub(stack, scale(normal, along)));
  const tiltDegrees = sorted.length > 1 ? (Math.atan2(across, along) * 180) / Math.PI : 0;
  const medianStep = median(steps) ?? reference.sliceThicknessMm ?? 1;
  const geometry: SliceGeometry = { stepsMm: steps, medianStepMm: medianStep, tiltDegrees, extentMm: along };
  if (Math.abs(tiltDegrees) > MAX_TILT_DEGREES) {
    return {
      ok: false,
      issues: [
        {
          code: 'gantry-tilt',
          severity: 'reject',
          message: `gantry tilt of ${tiltDegrees.toFixed(2)}° is not supported`,
        },
      ],
    };
  }

  const gaps = steps.filter((step) => step > GAP_FACTOR * medianStep);
  if (gaps.length > 0) {
    const missing = gaps.reduce((n, step) => n + Math.round(step / medianStep) - 1, 0);
    issues.push({
      code: 'missing-slices',
      // Part of the lungs is not imaged: not a complete screening exam until the slices arrive.
      severity: 'incomplete',
      message: `${gaps.length} gap(s) in the slice positions (about ${missing} slice(s) missing); interpolated`,
    });
  }
  const uneven = steps.some((step) => Math.abs(step - medianStep) > UNEVEN_TOLERANCE * medianStep);
  if (uneven && gaps.length === 0) {
    const [min, max] = [Math.min(...steps), Math.max(...steps)];
    issues.push({
      code: 'uneven-spacing',
      severity: 'caveat',
      message: `slice spacing varies from ${min.toFixed(3)} to ${max.toFixed(3)} mm; resampled to ${medianStep.toFixed(3)} mm`,
    });
  }

  const sliceSize = rows * columns;
  const nz = uneven ? Math.round(along / medianStep) + 1 : sorted.length;
  const step = uneven ? along / (nz - 1) : medianStep;
  let paddingVoxels = 0;
  let hu: Int16Array;
  if (!uneven) {
    paddingVoxels = sorted.reduce((n, { slice }) => n + slice.paddingVoxels, 0);
    const inPlace = sortInPlace(
      sorted.map(({ slice }) => slice.hu),
      sliceSize,
    );
    hu = inPlace ?? new Int16Array(sliceSize * nz);
    if (!inPlace) sorted.forEach(({ slice }, k) => hu.set(slice.hu, k * sliceSize));
  } else {
    hu = new Int16Array(sliceSize * nz);
    paddingVoxels = resampleAlongNormal(sorted, hu, sliceSize, nz, step);
  }

  return {
    ok: true,
    issues,
    geometry,
    volume: {
      dimensions: [columns, rows, nz],
      spacingMm: [columnSpacing, rowSpacing, step],
      originLps: first.slice.positionLps,
      direction: [...rowDir, ...colDir, ...normal] as CtVolume['direction'],
      hu,
      paddingVoxels,
    },
  };
}

/** A slice converted to HU: what reconstruction keeps, so the decoded file can be released at once. */
export type HuSlice = Omit<SliceImage, 'pixels' | 'rescaleSlope' | 'rescaleIntercept' | 'padding'> & {
  /** HU (rounded, clamped to int16), row-major; padding voxels hold PADDING_HU. */
  hu: Int16Array;
  paddingVoxels: number;
};

/**
 * When the slices' HU arrays are consecutive slots of one buffer (see SlicePool), puts them in sorted order
 * in place, so the buffer itself becomes the volume: no second copy of the voxels (peak memory ~1x).
 * Returns undefined when the slices do not share such a buffer.
 */
function sortInPlace(ordered: Int16Array[], sliceSize: number): Int16Array | undefined {
  const first = ordered[0];
  if (!first || ordered.length < 2) return undefined;
  const buffer = first.buffer;
  const base = Math.min(...ordered.map((a) => a.byteOffset));
  const slots = ordered.map((a) => (a.byteOffset - base) / (2 * sliceSize));
  const valid =
    ordered.every((a) => a.buffer === buffer && a.length === sliceSize) &&
    new Set(slots).size === slots.length &&
    slots.every((s) => Number.isInteger(s) && s < ordered.length);
  if (!valid) return undefined;
  const volume = new Int16Array(buffer, base, sliceSize * ordered.length);
  // Slot slots[k] holds the slice that belongs at k: follow each permutation cycle with one spare slice.
  const spare = new Int16Array(sliceSize);
  const done = new Uint8Array(ordered.length);
  for (let start = 0; start < ordered.length; start += 1) {
    if (done[start] || slots[start] === start) continue;
    spare.set(volume.subarray(start * sliceSize, (start + 1) * sliceSize));
    let k = start;
    for (;;) {
      done[k] = 1;
      const from = slots[k]!;
      if (from === start) {
        volume.set(spare, k * sliceSize);
        break;
      }
      volume.copyWithin(k * sliceSize, from * sliceSize, (from + 1) * sliceSize);
      k = from;
    }
  }
  return volume;
}

/** Linear interpolation between the two nearest slices onto an even grid along the normal. */
function resampleAlongNormal(
  sorted: { slice: HuSlice; d: number }[],
  hu: Int16Array,
  sliceSize: number,
  nz: number,
  step: number,
): number {
  const converted = sorted.map(({ slice }) => ({ out: slice.hu, padding: slice.paddingVoxels }));
  const d0 = sorted[0]!.d;
  let paddingVoxels = 0;
  let lower = 0;
  for (let k = 0; k < nz; k += 1) {
    const target = d0 + k * step;
    while (lower < sorted.length - 2 && sorted[lower + 1]!.d <= target) lower += 1;
    const a = converted[lower]!;
    const b = converted[Math.min(lower + 1, sorted.length - 1)]!;
    const span = sorted[Math.min(lower + 1, sorted.length - 1)]!.d - sorted[lower]!.d;
    const t = span > 0 ? Math.min(1, Math.max(0, (target - sorted[lower]!.d) / span)) : 0;
    const out = hu.subarray(k * sliceSize, (k + 1) * sliceSize);
    for (let p = 0; p < sliceSize; p += 1) out[p] = Math.round(a.out[p]! * (1 - t) + b.out[p]! * t);
    paddingVoxels += t < 0.5 ? a.padding : b.padding;
  }
  return paddingVoxels;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
