import { mulberry32 } from '../phantom/insert-nodule.js';
import { DomainError } from '../shared/errors.js';
import { norm, sub } from '../volume/vec3.js';
import type { Vec3 } from '../volume/volume.js';

/** A detector's mark: a point (LPS mm) with a score (higher = more suspicious). */
export interface ScoredDetection {
  centreLps: Vec3;
  score: number;
}

/** A reference nodule or an irrelevant finding: a sphere of `diameterMm` around `centreLps` (LPS mm). */
export interface SizedFinding {
  centreLps: Vec3;
  diameterMm: number;
  id?: string;
}

/** Everything scored about one scan; all positions in the scan's LPS frame. */
export interface ScanToScore {
  scanId: string;
  detections: readonly ScoredDetection[];
  /** The reference standard: each counts once towards sensitivity. */
  nodules: readonly SizedFinding[];
  /** Findings where a detection is neither a hit nor a false positive. */
  irrelevant: readonly SizedFinding[];
}

/** The false-positive rates (per scan) whose mean sensitivity is LUNA16's CPM. */
export const LUNA16_FP_RATES: readonly number[] = [0.125, 0.25, 0.5, 1, 2, 4, 8];

export interface FrocOptions {
  /**
   * A detection closer than max(diameter / 2, this) to an irrelevant finding is ignored, mm (default 1.5:
   * point marks carry diameter 0, and LIDC nodules < 3 mm are at most 3 mm across). LUNA16's script gives
   * findings of unknown size (diameter -1) a 10 mm diameter; pass 5 for that behaviour.
   */
  minIrrelevantRadiusMm?: number;
  /** Only the highest-scoring detections of each scan are scored (LUNA16: 100). Default 100. */
  maxDetectionsPerScan?: number;
  /** Bootstrap rounds for the CPM's confidence interval (default 1000; 0 skips it). */
  bootstrapRounds?: number;
  /** Seed of the bootstrap's random numbers (mulberry32): the same seed gives the same interval. Default 1. */
  seed?: number;
  /** Coverage of the interval (default 0.95). */
  confidence?: number;
  /** FP rates the CPM averages over (default {@link LUNA16_FP_RATES}). */
  fpRates?: readonly number[];
}

/** What happened to one reference nodule. */
export interface NoduleOutcome {
  scanId: string;
  /** Index in the scan's `nodules`. */
  nodule: number;
  id: string | undefined;
  diameterMm: number;
  hit: boolean;
  /** The best score among the detections that hit it. */
  bestScore: number | undefined;
  /** Distance from the nodule's centre to the best-scoring hit, mm. */
  distanceMm: number | undefined;
  /** How many detections hit it (all but the best are ignored, neither hits nor false positives). */
  hits: number;
}

/** One scan's detections sorted into hits (best per nodule), false positives and ignored ones. */
export interface ScanMatch {
  scanId: string;
  nodules: number;
  /** The best score on each hit nodule. */
  hitScores: number[];
  falsePositiveScores: number[];
  /** Detections ignored because they lie in an irrelevant finding. */
  ignoredIrrelevant: number;
  /** Detections ignored because another detection scored higher on the same nodule. */
  duplicateHits: number;
  /** Detections dropped by `maxDetectionsPerScan`. */
  droppedBeyondMax: number;
  perNodule: NoduleOutcome[];
}

/** One operating point: the detections scoring >= threshold. */
export interface FrocPoint {
  threshold: number;
  /** False positives per scan. */
  fpPerScan: number;
  /** Fraction of reference nodules hit (NaN when there are none). */
  sensitivity: number;
}

export interface FrocResult {
  scans: number;
  nodules: number;
  hits: number;
  falsePositives: number;
  ignoredIrrelevant: number;
  duplicateHits: number;
  droppedBeyondMax: number;
  /** Operating points from the highest threshold (+Infinity: nothing detected) down to the lowest score. */
  curve: FrocPoint[];
  /** Sensitivity at each FP rate, interpolated as LUNA16's script does ({@link sensitivityAtFpRate}). */
  sensitivities: { fpPerScan: number; sensitivity: number }[];
  /** Competition performance metric: the mean of `sensitivities`. */
  cpm: number;
  /**
   * Bootstrap interval of the CPM (scans resampled with replacement; percentiles taken as LUNA16's script
   * does, sorted[floor(a n)] and sorted[floor((1 - a) n)], a = (1 - confidence) / 2). Rounds that drew no
   * nodule have no CPM and are left out (`rounds` counts the rest). Undefined when no round has a CPM.
   */
  cpmInterval: { lower: number; upper: number; confidence: number; rounds: number } | undefined;
  perNodule: NoduleOutcome[];
}

/**
 * Sorts one scan's detections as LUNA16 does: a detection whose centre lies closer than a nodule's radius
 * (diameter / 2, strict) to the nodule's centre hits it (one detection may hit several nodules); each hit
 * nodule counts once, with its best score, and the other detections on it are ignored. A detection that
 * hits no nodule but lies closer than max(diameter / 2, minIrrelevantRadiusMm) to an irrelevant finding is
 * ignored. Every other detection is a false positive.
 */
export function matchScan(scan: ScanToScore, options: FrocOptions = {}): ScanMatch {
  const minIrrelevantRadius = options.minIrrelevantRadiusMm ?? 1.5;
  const maxDetections = options.maxDetectionsPerScan ?? 100;
  for (const detection of scan.detections) {
    if (!Number.isFinite(detection.score) || !detection.centreLps.every(Number.isFinite)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `detection with a non-finite score or position in ${scan.scanId}`,
        {
          context: { scanId: scan.scanId },
        },
      );
    }
  }
  const detections = scan.detections
    .map((detection, order) => ({ detection, order }))
    .sort((a, b) => b.detection.score - a.detection.score || a.order - b.order)
    .slice(0, maxDetections)
    .map(({ detection }) => detection);

  const onNodule = new Set<ScoredDetection>();
  const hitScores: number[] = [];
  let duplicateHits = 0;
  const perNodule = scan.nodules.map((nodule, index): NoduleOutcome => {
    const radius = nodule.diameterMm / 2;
    let best: { score: number; distance: number } | undefined;
    let hits = 0;
    for (const detection of detections) {
      const distance = norm(sub(detection.centreLps, nodule.centreLps));
      if (distance >= radius) continue;
      onNodule.add(detection);
      hits++;
      if (!best || detection.score > best.score) best = { score: detection.score, distance };
    }
    if (best) hitScores.push(best.score);
    duplicateHits += Math.max(0, hits - 1);
    return {
      scanId: scan.scanId,
      nodule: index,
      id: nodule.id,
      diameterMm: nodule.diameterMm,
      hit: best !== undefined,
      bestScore: best?.score,
      distanceMm: best?.distance,
      hits,
    };
  });

  const falsePositiveScores: number[] = [];
  let ignoredIrrelevant = 0;
  for (const detection of detections) {
    if (onNodule.has(detection)) continue;
    const irrelevant = scan.irrelevant.some(
      (finding) =>
        norm(sub(detection.centreLps, finding.centreLps)) <
        Math.max(finding.diameterMm / 2, minIrrelevantRadius),
    );
    if (irrelevant) ignoredIrrelevant++;
    else falsePositiveScores.push(detection.score);
  }
  return {
    scanId: scan.scanId,
    nodules: scan.nodules.length,
    hitScores,
    falsePositiveScores,
    ignoredIrrelevant,
    duplicateHits,
    droppedBeyondMax: scan.detections.length - detections.length,
    perNodule,
  };
}

/** Candidates of all scans, sorted by score (high first), for curves over any weighting of the scans. */
interface PooledCandidates {
  scores: Float64Array;
  scan: Int32Array;
  isHit: Uint8Array;
  nodulesPerScan: Float64Array;
}

function pool(matches: readonly ScanMatch[]): PooledCandidates {
  const entries: { score: number; scan: number; hit: number }[] = [];
  matches.forEach((match, scan) => {
    for (const score of match.hitScores) entries.push({ score, scan, hit: 1 });
    for (const score of match.falsePositiveScores) entries.push({ score, scan, hit: 0 });
  });
  entries.sort((a, b) => b.score - a.score);
  return {
    scores: Float64Array.from(entries, (e) => e.score),
    scan: Int32Array.from(entries, (e) => e.scan),
    isHit: Uint8Array.from(entries, (e) => e.hit),
    nodulesPerScan: Float64Array.from(matches, (m) => m.nodules),
  };
}

/** The FROC curve when scan s counts weights[s] times (1 for all: the plain curve; bootstrap draws otherwise). */
function curveOf(pooled: PooledCandidates, weights: ArrayLike<number>, scans: number): FrocPoint[] {
  let nodules = 0;
  for (let s = 0; s < pooled.nodulesPerScan.length; s++) nodules += weights[s]! * pooled.nodulesPerScan[s]!;
  const curve: FrocPoint[] = [{ threshold: Infinity, fpPerScan: 0, sensitivity: nodules > 0 ? 0 : NaN }];
  let hits = 0;
  let falsePositives = 0;
  const { scores } = pooled;
  for (let n = 0; n < scores.length;) {
    const threshold = scores[n]!;
    let added = false;
    for (; n < scores.length && scores[n] === threshold; n++) {
      const weight = weights[pooled.scan[n]!]!;
      if (weight === 0) continue;
      added = true;
      if (pooled.isHit[n] === 1) hits += weight;
      else falsePositives += weight;
    }
    if (added)
      curve.push({
        threshold,
        fpPerScan: falsePositives / scans,
        sensitivity: nodules > 0 ? hits / nodules : NaN,
      });
  }
  return curve;
}

/**
 * The CPM of the curve {@link curveOf} would build, computed while walking the candidates (no curve kept):
 * the bootstrap's inner loop. `rates` must be ascending and positive.
 */
function streamedCpm(
  pooled: PooledCandidates,
  weights: ArrayLike<number>,
  scans: number,
  rates: readonly number[],
): number {
  let nodules = 0;
  for (let s = 0; s < pooled.nodulesPerScan.length; s++) nodules += weights[s]! * pooled.nodulesPerScan[s]!;
  if (nodules === 0) return NaN;
  let sum = 0;
  let pending = 0;
  let prevFp = 0;
  let prevSensitivity = 0;
  let hits = 0;
  let falsePositives = 0;
  const { scores } = pooled;
  for (let n = 0; n < scores.length && pending < rates.length;) {
    const threshold = scores[n]!;
    let added = false;
    for (; n < scores.length && scores[n] === threshold; n++) {
      const weight = weights[pooled.scan[n]!]!;
      if (weight === 0) continue;
      added = true;
      if (pooled.isHit[n] === 1) hits += weight;
      else falsePositives += weight;
    }
    if (!added) continue;
    const fp = falsePositives / scans;
    const sensitivity = hits / nodules;
    // Every rate passed by this point lies between the previous point (the last at or below it) and this one.
    for (; pending < rates.length && fp > rates[pending]!; pending++) {
      sum += prevSensitivity + ((sensitivity - prevSensitivity) * (rates[pending]! - prevFp)) / (fp - prevFp);
    }
    prevFp = fp;
    prevSensitivity = sensitivity;
  }
  sum += (rates.length - pending) * prevSensitivity;
  return sum / rates.length;
}

/** The FROC curve over scans already matched by {@link matchScan}. */
export function frocCurve(matches: readonly ScanMatch[]): FrocPoint[] {
  return curveOf(pool(matches), new Float64Array(matches.length).fill(1), matches.length);
}

/**
 * Sensitivity at an FP rate by linear interpolation between the curve's operating points, as numpy.interp
 * does in LUNA16's script: beyond the last point the last sensitivity holds; where several points share an
 * FP rate the highest sensitivity (the last) is taken.
 */
export function sensitivityAtFpRate(curve: readonly FrocPoint[], fpPerScan: number): number {
  let last = -1;
  for (let n = 0; n < curve.length && curve[n]!.fpPerScan <= fpPerScan; n++) last = n;
  if (last < 0) return curve[0]?.sensitivity ?? NaN;
  const a = curve[last]!;
  const b = curve[last + 1];
  if (!b) return a.sensitivity;
  return (
    a.sensitivity +
    ((b.sensitivity - a.sensitivity) * (fpPerScan - a.fpPerScan)) / (b.fpPerScan - a.fpPerScan)
  );
}

/**
 * LUNA16 scoring of a detector over scans: FROC curve, sensitivity at 1/8 ... 8 FP per scan, their mean
 * (CPM) with a seeded bootstrap interval, and what happened to each reference nodule.
 */
export function scoreFroc(scans: readonly ScanToScore[], options: FrocOptions = {}): FrocResult {
  if (scans.length === 0) throw new DomainError('VALIDATION_FAILED', 'FROC scoring needs at least one scan');
  const rates = options.fpRates ?? LUNA16_FP_RATES;
  if (rates.length === 0 || !rates.every((rate) => rate > 0 && Number.isFinite(rate))) {
    throw new DomainError('VALIDATION_FAILED', 'FROC scoring needs positive, finite FP rates');
  }
  const rounds = options.bootstrapRounds ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const matches = scans.map((scan) => matchScan(scan, options));
  const pooled = pool(matches);
  const ones = new Float64Array(scans.length).fill(1);
  const curve = curveOf(pooled, ones, scans.length);
  const sensitivities = rates.map((fpPerScan) => ({
    fpPerScan,
    sensitivity: sensitivityAtFpRate(curve, fpPerScan),
  }));

  let cpmInterval: FrocResult['cpmInterval'];
  if (rounds > 0) {
    const random = mulberry32(options.seed ?? 1);
    const ascendingRates = [...rates].sort((a, b) => a - b);
    const weights = new Float64Array(scans.length);
    const cpms: number[] = [];
    for (let round = 0; round < rounds; round++) {
      weights.fill(0);
      for (let draw = 0; draw < scans.length; draw++) weights[Math.floor(random() * scans.length)]! += 1;
      const cpm = streamedCpm(pooled, weights, scans.length, ascendingRates);
      if (Number.isFinite(cpm)) cpms.push(cpm);
    }
    if (cpms.length > 0) {
      cpms.sort((a, b) => a - b);
      const tail = (1 - confidence) / 2;
      const at = (q: number) => cpms[Math.min(cpms.length - 1, Math.floor(q * cpms.length))]!;
      cpmInterval = { lower: at(tail), upper: at(1 - tail), confidence, rounds: cpms.length };
    }
  }

  const total = (pick: (m: ScanMatch) => number) => matches.reduce((sum, m) => sum + pick(m), 0);
  return {
    scans: scans.length,
    nodules: total((m) => m.nodules),
    hits: total((m) => m.hitScores.length),
    falsePositives: total((m) => m.falsePositiveScores.length),
    ignoredIrrelevant: total((m) => m.ignoredIrrelevant),
    duplicateHits: total((m) => m.duplicateHits),
    droppedBeyondMax: total((m) => m.droppedBeyondMax),
    curve,
    sensitivities,
    cpm: sensitivities.reduce((sum, s) => sum + s.sensitivity, 0) / sensitivities.length,
    cpmInterval,
    perNodule: matches.flatMap((m) => m.perNodule),
  };
}
