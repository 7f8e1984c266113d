import { DomainError } from '../shared/errors.js';
import type { Vec3 } from '../volume/volume.js';

/**
 * Matching a study's nodules to the same patient's earlier study, and growth between the two
 * (Lung-RADS v2022).
 *
 * Frames and units: every position is in the LPS patient frame of its own study, in mm; diameters in mm,
 * volumes in mm³, intervals in whole calendar days. The prior's frame is mapped into the current's by a
 * pure translation (see {@link matchToPrior}); rotation and breathing deformation are not modelled, and
 * the distance gate absorbs them.
 */

import type { NoduleType } from '../phantom/nodule-type.js';

export type { NoduleType };

export interface StudyNodule {
  /** Unique within its study. */
  id: string;
  /** Centre in the study's LPS patient frame, mm. */
  centreLps: Vec3;
  /** Mean of long and short axis diameters, mm (Lung-RADS v2022 size), >= 0. */
  meanDiameterMm: number;
  /** Segmented volume, mm³, >= 0. */
  volumeMm3: number;
  /** Mean diameter of a part-solid nodule's solid component, mm, >= 0; absent or null when not measured. */
  solidComponentMm?: number | null;
  type: NoduleType;
}

/** Axis-aligned bounding box in the study's LPS patient frame, mm; min <= max on every axis. */
export interface LpsBox {
  min: Vec3;
  max: Vec3;
}

export interface StudyNodules {
  /** Calendar date of the study, YYYY-MM-DD. */
  studyDate: string;
  /** Bounding box of the segmented lungs, when a lung mask exists. */
  lungBoxLps?: LpsBox | undefined;
  nodules: readonly StudyNodule[];
}

export interface PriorMatchingOptions {
  /** Floor of the acceptance distance after alignment, mm. Default 10. */
  matchDistanceFloorMm?: number;
  /** Acceptance distance as a fraction of the larger of the two mean diameters. Default 0.5. */
  matchDistanceDiameterFraction?: number;
  /**
   * Farthest apart (after the lung-box translation, if any) two nodules may be to count as an alignment
   * pair, mm. Default 40.
   */
  alignmentPairMaxDistanceMm?: number;
  /** Fewest mutually-nearest pairs for a translation from nodules. Default 3. */
  minAlignmentPairs?: number;
  /** Size change, mm, to exceed to count as growth (or decrease). Default 1.5 (Lung-RADS v2022). */
  growthThresholdMm?: number;
}

/**
 * How the prior-to-current translation was found:
 * - `lung-boxes`: difference of the lung bounding-box centres (fewer than the minimum nodule pairs);
 * - `lung-boxes+nodule-pairs`: lung-box translation refined by the median residual of nodule pairs;
 * - `nodule-pairs`: median displacement of nodule pairs (no lung boxes);
 * - `identity`: neither was available; the two frames are assumed to coincide.
 */
export type AlignmentMethod = 'lung-boxes' | 'lung-boxes+nodule-pairs' | 'nodule-pairs' | 'identity';

export interface PriorAlignment {
  /** Added to a prior LPS position to give the position in the current study's LPS frame, mm. */
  translationMm: Vec3;
  method: AlignmentMethod;
  /** Mutually-nearest nodule pairs found for the alignment (used only when >= minAlignmentPairs). */
  nodulePairCount: number;
}

interface ComparisonBase {
  currentId: string;
}

export interface NewNodule extends ComparisonBase {
  status: 'new';
}

export interface MatchedNodule extends ComparisonBase {
  /**
   * `growing` when the mean diameter grew by more than the threshold (Lung-RADS v2022: > 1.5 mm), or, for a
   * part-solid nodule measured in both studies, its solid component did. Lung-RADS has no "shrinking": a
   * decrease is `stable` with `decreased: true`.
   */
  status: 'growing' | 'stable';
  priorId: string;
  /** Distance between the current centre and the aligned prior centre, mm. */
  distanceMm: number;
  /** Which measurements exceeded the growth threshold; empty unless growing. */
  growthBasis: ('mean-diameter' | 'solid-component')[];
  /** Mean diameter fell by more than the growth threshold. */
  decreased: boolean;
  /** Current minus prior mean diameter, mm. */
  diameterChangeMm: number;
  /** Current minus prior solid component, mm; null unless both are part-solid with it measured. */
  solidComponentChangeMm: number | null;
  /** A part-solid nodule whose prior had no solid component (ground-glass, or a measured 0 mm). */
  newSolidComponent: boolean;
  /** Current minus prior volume, mm³. */
  volumeChangeMm3: number;
  /** Volume change relative to the prior volume, %; null when the prior volume is 0. */
  volumeChangePercent: number | null;
  /** Days from the prior to the current study. */
  intervalDays: number;
  /** See {@link volumeDoublingTimeDays}; null unless the volume grew. */
  volumeDoublingTimeDays: number | null;
}

export type NoduleComparison = NewNodule | MatchedNodule;

export interface ResolvedNodule {
  priorId: string;
  /** The prior nodule's centre mapped into the current study's LPS frame, mm. */
  alignedCentreLps: Vec3;
}

export interface PriorMatchResult {
  /** Days from the prior to the current study (> 0). */
  intervalDays: number;
  /**
   * The interval is longer than 12 calendar months. Lung-RADS v2022 defines growth "within a 12-month
   * period"; growth over a longer interval is still reported as `growing`, and this flag lets the reader
   * decide (e.g. slow growth of a solid nodule across several exams).
   */
  beyondTwelveMonths: boolean;
  alignment: PriorAlignment;
  /** One entry per current nodule, in input order. */
  nodules: NoduleComparison[];
  /** Prior nodules matched by no current nodule, in input order. */
  resolved: ResolvedNodule[];
}

const DEFAULTS: Required<PriorMatchingOptions> = {
  matchDistanceFloorMm: 10,
  matchDistanceDiameterFraction: 0.5,
  alignmentPairMaxDistanceMm: 40,
  minAlignmentPairs: 3,
  growthThresholdMm: 1.5,
};

/** Far below measurement precision; keeps 8.8 - 7.3 (= 1.5000000000000009) from counting as > 1.5. */
const SIZE_EPSILON_MM = 1e-6;
const MS_PER_DAY = 86_400_000;

/**
 * Volume doubling time, days: `intervalDays × ln 2 / ln(v2 / v1)`.
 *
 * @param v1 prior volume, mm³ (>= 0)
 * @param v2 current volume, mm³ (>= 0)
 * @param intervalDays days between the two measurements (> 0)
 * @returns null when the volume did not grow (v2 <= v1) or either volume is 0; never Infinity or NaN.
 * @throws DomainError VALIDATION_FAILED for negative or non-finite volumes or a non-positive interval.
 */
export function volumeDoublingTimeDays(v1: number, v2: number, intervalDays: number): number | null {
  requireNonNegative(v1, 'prior volume');
  requireNonNegative(v2, 'current volume');
  if (!Number.isFinite(intervalDays) || intervalDays <= 0) {
    throw validation(`interval must be a positive number of days, got ${intervalDays}`);
  }
  if (v1 === 0 || v2 === 0 || v2 <= v1) return null;
  const vdt = (intervalDays * Math.LN2) / Math.log(v2 / v1);
  return Number.isFinite(vdt) && vdt > 0 ? vdt : null;
}

/**
 * Matches the current study's nodules to the prior study's and computes their growth.
 *
 * 1. Alignment (the patient lies differently in each scan): a translation `t`, prior LPS + t = current LPS.
 *    With both lung boxes, `t` starts as the difference of the box centres. The box centre moves with the
 *    depth of inspiration, so when at least `minAlignmentPairs` mutually-nearest nodule pairs (each within
 *    `alignmentPairMaxDistanceMm` after the box translation) exist, `t` is refined by the per-axis median of
 *    their residual displacement; without boxes, that median alone is `t`. Otherwise `t` is the identity.
 *    The per-axis median tolerates a minority of wrong pairs (a new nodule next to a resolved one).
 * 2. Matching: one-to-one assignment (Hungarian algorithm) that first maximises the number of pairs within
 *    the acceptance distance max(`matchDistanceFloorMm`, `matchDistanceDiameterFraction` × larger mean
 *    diameter), then minimises their total distance. A prior nodule is never matched twice.
 * 3. Growth (Lung-RADS v2022): see {@link MatchedNodule.status}; intervals beyond 12 months are flagged,
 *    not suppressed (see {@link PriorMatchResult.beyondTwelveMonths}).
 *
 * @throws DomainError VALIDATION_FAILED for an unparseable date, a prior not earlier than the current study,
 *   negative or non-finite sizes or coordinates, an inverted lung box, or duplicate nodule ids.
 */
export function matchToPrior(
  current: StudyNodules,
  prior: StudyNodules,
  options: PriorMatchingOptions = {},
): PriorMatchResult {
  const opts = { ...DEFAULTS, ...options };
  validateStudy(current, 'current');
  validateStudy(prior, 'prior');
  const currentDate = parseStudyDate(current.studyDate, 'current');
  const priorDate = parseStudyDate(prior.studyDate, 'prior');
  if (priorDate >= currentDate) {
    throw validation(
      `prior study (${prior.studyDate}) must be earlier than the current (${current.studyDate})`,
    );
  }
  const intervalDays = Math.round((currentDate - priorDate) / MS_PER_DAY);

  const alignment = estimateAlignment(current, prior, opts);
  const alignedPrior = prior.nodules.map((n) => add(n.centreLps, alignment.translationMm));
  const pairs = assign(current.nodules, prior.nodules, alignedPrior, opts);

  const priorMatched = new Set<number>();
  const nodules = current.nodules.map((cur, i): NoduleComparison => {
    const j = pairs.get(i);
    if (j === undefined) return { currentId: cur.id, status: 'new' };
    priorMatched.add(j);
    const before = prior.nodules[j]!;
    return compare(cur, before, distance(cur.centreLps, alignedPrior[j]!), intervalDays, opts);
  });
  const resolved = prior.nodules.flatMap((n, j) =>
    priorMatched.has(j) ? [] : [{ priorId: n.id, alignedCentreLps: alignedPrior[j]! }],
  );

  return {
    intervalDays,
    beyondTwelveMonths: currentDate > addCalendarMonths(priorDate, 12),
    alignment,
    nodules,
    resolved,
  };
}

function compare(
  cur: StudyNodule,
  before: StudyNodule,
  distanceMm: number,
  intervalDays: number,
  opts: Required<PriorMatchingOptions>,
): MatchedNodule {
  const threshold = opts.growthThresholdMm + SIZE_EPSILON_MM;
  const diameterChangeMm = cur.meanDiameterMm - before.meanDiameterMm;
  const curSolid = cur.type === 'part-solid' ? (cur.solidComponentMm ?? null) : null;
  const priorSolid = before.type === 'part-solid' ? (before.solidComponentMm ?? null) : null;
  const solidComponentChangeMm = curSolid !== null && priorSolid !== null ? curSolid - priorSolid : null;
  const priorHadNoSolid = before.type === 'ground-glass' || priorSolid === 0;
  const newSolidComponent = curSolid !== null && curSolid > 0 && priorHadNoSolid;

  const growthBasis: MatchedNodule['growthBasis'] = [];
  if (diameterChangeMm > threshold) growthBasis.push('mean-diameter');
  if (solidComponentChangeMm !== null && solidComponentChangeMm > threshold)
    growthBasis.push('solid-component');

  const volumeChangeMm3 = cur.volumeMm3 - before.volumeMm3;
  return {
    currentId: cur.id,
    status: growthBasis.length > 0 ? 'growing' : 'stable',
    priorId: before.id,
    distanceMm,
    growthBasis,
    decreased: -diameterChangeMm > threshold,
    diameterChangeMm,
    solidComponentChangeMm,
    newSolidComponent,
    volumeChangeMm3,
    volumeChangePercent: before.volumeMm3 === 0 ? null : (volumeChangeMm3 / before.volumeMm3) * 100,
    intervalDays,
    volumeDoublingTimeDays: volumeDoublingTimeDays(before.volumeMm3, cur.volumeMm3, intervalDays),
  };
}

function estimateAlignment(
  current: StudyNodules,
  prior: StudyNodules,
  opts: Required<PriorMatchingOptions>,
): PriorAlignment {
  const fromBoxes =
    current.lungBoxLps && prior.lungBoxLps
      ? sub(boxCentre(current.lungBoxLps), boxCentre(prior.lungBoxLps))
      : null;
  const start: Vec3 = fromBoxes ?? [0, 0, 0];
  const shiftedPrior = prior.nodules.map((n) => add(n.centreLps, start));
  const residuals = mutualNearestPairs(
    current.nodules.map((n) => n.centreLps),
    shiftedPrior,
    opts.alignmentPairMaxDistanceMm,
  ).map(([i, j]) => sub(current.nodules[i]!.centreLps, shiftedPrior[j]!));
  const nodulePairCount = residuals.length;

  if (nodulePairCount >= Math.max(1, opts.minAlignmentPairs)) {
    const median: Vec3 = [0, 1, 2].map((axis) => medianOf(residuals.map((r) => r[axis]!))) as Vec3;
    return {
      translationMm: add(start, median),
      method: fromBoxes ? 'lung-boxes+nodule-pairs' : 'nodule-pairs',
      nodulePairCount,
    };
  }
  return { translationMm: start, method: fromBoxes ? 'lung-boxes' : 'identity', nodulePairCount };
}

/** Index pairs [current, prior] where each is the other's nearest, within maxDistanceMm. */
function mutualNearestPairs(
  a: readonly Vec3[],
  b: readonly Vec3[],
  maxDistanceMm: number,
): [number, number][] {
  const nearestInB = a.map((p) => nearestIndex(p, b));
  const nearestInA = b.map((p) => nearestIndex(p, a));
  const pairs: [number, number][] = [];
  nearestInB.forEach((j, i) => {
    if (j >= 0 && nearestInA[j] === i && distance(a[i]!, b[j]!) <= maxDistanceMm) pairs.push([i, j]);
  });
  return pairs;
}

function nearestIndex(p: Vec3, points: readonly Vec3[]): number {
  let best = -1;
  let bestDistance = Infinity;
  points.forEach((q, k) => {
    const d = distance(p, q);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  });
  return best;
}

/**
 * Maximum-cardinality, minimum-total-distance assignment of current to prior nodules within the acceptance
 * distance. Admissible pairs cost `distance - K` with K larger than any sum of admissible distances, the rest
 * cost 0, so the Hungarian minimum first maximises the number of admissible pairs.
 */
function assign(
  current: readonly StudyNodule[],
  prior: readonly StudyNodule[],
  alignedPrior: readonly Vec3[],
  opts: Required<PriorMatchingOptions>,
): Map<number, number> {
  const distances = current.map((c) => alignedPrior.map((p) => distance(c.centreLps, p)));
  const admissible = current.map((c, i) =>
    prior.map((p, j) => {
      const limit = Math.max(
        opts.matchDistanceFloorMm,
        opts.matchDistanceDiameterFraction * Math.max(c.meanDiameterMm, p.meanDiameterMm),
      );
      return distances[i]![j]! <= limit;
    }),
  );
  let big = 1;
  distances.forEach((row, i) => row.forEach((d, j) => (big += admissible[i]![j]! ? d : 0)));
  const cost = distances.map((row, i) => row.map((d, j) => (admissible[i]![j]! ? d - big : 0)));

  const pairs = new Map<number, number>();
  const transpose = current.length > prior.length;
  const matrix = transpose ? prior.map((_, j) => current.map((_, i) => cost[i]![j]!)) : cost;
  hungarian(matrix).forEach((col, row) => {
    const [i, j] = transpose ? [col, row] : [row, col];
    if (admissible[i]![j]!) pairs.set(i, j);
  });
  return pairs;
}

/**
 * Minimum-cost assignment for an n × m matrix with n <= m (Kuhn-Munkres with potentials, O(n² m)).
 * Returns, for each row, its column.
 */
function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  const m = n === 0 ? 0 : cost[0]!.length;
  // 1-based; column 0 is the virtual start.
  const u = new Array<number>(n + 1).fill(0);
  const v = new Array<number>(m + 1).fill(0);
  const rowOfCol = new Array<number>(m + 1).fill(0);
  const way = new Array<number>(m + 1).fill(0);
  for (let row = 1; row <= n; row++) {
    rowOfCol[0] = row;
    let col0 = 0;
    const minv = new Array<number>(m + 1).fill(Infinity);
    const used = new Array<boolean>(m + 1).fill(false);
    do {
      used[col0] = true;
      const row0 = rowOfCol[col0]!;
      let delta = Infinity;
      let col1 = 0;
      for (let col = 1; col <= m; col++) {
        if (used[col]) continue;
        const reduced = cost[row0 - 1]![col - 1]! - u[row0]! - v[col]!;
        if (reduced < minv[col]!) {
          minv[col] = reduced;
          way[col] = col0;
        }
        if (minv[col]! < delta) {
          delta = minv[col]!;
          col1 = col;
        }
      }
      for (let col = 0; col <= m; col++) {
        if (used[col]) {
          u[rowOfCol[col]!]! += delta;
          v[col]! -= delta;
        } else {
          minv[col]! -= delta;
        }
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    do {
      const col1 = way[col0]!;
      rowOfCol[col0] = rowOfCol[col1]!;
      col0 = col1;
    } while (col0 !== 0);
  }
  const colOfRow = new Array<number>(n).fill(-1);
  for (let col = 1; col <= m; col++) {
    if (rowOfCol[col]! > 0) colOfRow[rowOfCol[col]! - 1] = col - 1;
  }
  return colOfRow;
}

function validateStudy(study: StudyNodules, which: 'current' | 'prior'): void {
  const ids = new Set<string>();
  for (const n of study.nodules) {
    if (ids.has(n.id)) throw validation(`${which} study has duplicate nodule id ${n.id}`);
    ids.add(n.id);
    requireFiniteVec(n.centreLps, `${which} nodule ${n.id} centre`);
    requireNonNegative(n.meanDiameterMm, `${which} nodule ${n.id} mean diameter`);
    requireNonNegative(n.volumeMm3, `${which} nodule ${n.id} volume`);
    if (n.solidComponentMm !== undefined && n.solidComponentMm !== null) {
      requireNonNegative(n.solidComponentMm, `${which} nodule ${n.id} solid component`);
    }
  }
  const box = study.lungBoxLps;
  if (box) {
    requireFiniteVec(box.min, `${which} lung box min`);
    requireFiniteVec(box.max, `${which} lung box max`);
    if (box.min.some((v, axis) => v > box.max[axis]!)) throw validation(`${which} lung box has min > max`);
  }
}

/** Milliseconds since the epoch of a YYYY-MM-DD calendar date at 00:00 UTC. */
function parseStudyDate(date: string, which: 'current' | 'prior'): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (match) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const ms = Date.UTC(year, month - 1, day);
    const parsed = new Date(ms);
    if (
      parsed.getUTCFullYear() === year &&
      parsed.getUTCMonth() === month - 1 &&
      parsed.getUTCDate() === day
    ) {
      return ms;
    }
  }
  throw validation(`${which} study date must be a calendar date YYYY-MM-DD, got ${JSON.stringify(date)}`);
}

/** Same day of the month, `months` later, clamped to the month's last day (29 Feb + 12 months = 28 Feb). */
function addCalendarMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const target = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), target + 1, 0)).getUTCDate();
  return Date.UTC(d.getUTCFullYear(), target, Math.min(d.getUTCDate(), lastDay));
}

function requireNonNegative(value: number, what: string): void {
  if (!Number.isFinite(value) || value < 0)
    throw validation(`${what} must be a finite number >= 0, got ${value}`);
}

function requireFiniteVec(v: Vec3, what: string): void {
  if (v.length !== 3 || !v.every(Number.isFinite))
    throw validation(`${what} must be three finite numbers (mm)`);
}

function validation(message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', message);
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const distance = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const boxCentre = (box: LpsBox): Vec3 => [
  (box.min[0] + box.max[0]) / 2,
  (box.min[1] + box.max[1]) / 2,
  (box.min[2] + box.max[2]) / 2,
];
