import * as ort from 'onnxruntime-node';
import { DomainError } from '../shared/errors.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';
import { CANDIDATE_FEATURE_NAMES, candidateFeatures } from './candidate-features.js';
import { findCandidates, type Candidate } from './find-candidates.js';
import { segmentLungs } from './lung-segmentation.js';
import { measureNodule, type NoduleMeasurement } from './nodule-measurement.js';
import { modelKey } from './model-manifest.js';
import type { LoadedDetector } from './model-registry.js';
import { modelToSourceIjk, resampleForModel } from './resample.js';
import { runHeatmap, type ModelGrid } from './run-heatmap.js';
import { tissueCandidates } from './tissue-candidates.js';

/** One detected nodule: the measurement of its segmentation plus the detector's score. */
export interface DetectedNodule extends NoduleMeasurement {
  score: number;
  /** The candidate the detector found (model-grid scale), before segmentation. */
  candidate: { centreIjk: Vec3; radiusMm: number; response: number };
}

export interface Detection {
  nodules: DetectedNodule[];
  /** Candidates scored by the classifier (or by the heatmap alone). */
  candidatesScored: number;
  /** Detector parameters that identify a run (with the models' sha256): same parameters, same findings. */
  parameters: Record<string, unknown>;
  timingsMs: Record<string, number>;
}

export interface DetectOptions {
  /** Voxels per inference call (memory budget, see runHeatmap); default 12 M (~1.5 GB peak for our model). */
  maxTileVoxels?: number;
  /** Operating point; default: the detector's threshold. */
  threshold?: number;
  /** Progress for heartbeats: stage name and fraction done. */
  onProgress?: (stage: string, fraction: number) => void;
  /** Scores every candidate and returns them too (training and FROC evaluation). */
  keepAllCandidates?: boolean;
}

/** Candidate with its features and score, for training and evaluation. */
export interface ScoredCandidate {
  centreIjk: Vec3;
  centreLps: Vec3;
  radiusMm: number;
  response: number;
  features: number[];
  score: number;
}

const DEFAULT_MAX_TILE_VOXELS = 12_000_000;
/** Tissue candidates: voxels denser than this (HU) in the lungs, opened by OPENING_MM, at least this diameter. */
const TISSUE_HU = -500;
const OPENING_MM = 3;
/** Largest radius hint of the second measurement, mm (nodules are at most 30 mm; masses are measured once more at 20). */
const MAX_REMEASURE_RADIUS_MM = 20;
const MIN_TISSUE_DIAMETER_MM = 8;
/** Margin around the lungs' bounding box given to the model, mm (its filters reach beyond the lungs). */
const LUNG_BOX_MARGIN_MM = 10;

/**
 * The detection pipeline on one CT volume:
 * 1. lung segmentation (candidates outside the lungs are dropped; the model sees the lungs' bounding box);
 * 2. resampling to the heatmap model's isotropic spacing and HU window;
 * 3. the heatmap model (sliding-window within the memory budget);
 * 4. candidates = local maxima of the heatmap in the lungs, plus compact tissue components (masses against
 *    the chest wall, see tissue-candidates.ts); features; the classifier's score (false-positive reduction);
 * 5. candidates at or above the operating point are segmented and measured on the original voxels.
 * Positions are LPS mm and voxel indices of `volume`.
 */
export async function detectNodules(
  volume: CtVolume,
  detector: LoadedDetector,
  options: DetectOptions = {},
): Promise<Detection & { candidates?: ScoredCandidate[] }> {
  const timingsMs: Record<string, number> = {};
  const time = async <T>(stage: string, work: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    timingsMs[stage] = Math.round(performance.now() - started);
    return result;
  };
  const contract = detector.heatmap.entry.contract;
  assertContract(volume, detector);
  const threshold = options.threshold ?? detector.entry.threshold;
  const parameters = {
    detector: modelKey(detector.entry),
    heatmap: { model: modelKey(detector.heatmap.entry), sha256: detector.heatmap.entry.sha256 },
    classifier: detector.classifier && {
      model: modelKey(detector.classifier.entry),
      sha256: detector.classifier.entry.sha256,
    },
    threshold,
    maxCandidates: detector.entry.maxCandidates,
    maxFindings: detector.entry.maxFindings,
  };

  const lungs = await time('lungMask', () => segmentLungs(volume));
  options.onProgress?.('lung-mask', 1);
  if (lungs.volumeMl < 1) {
    return { nodules: [], candidatesScored: 0, parameters, timingsMs };
  }
  const box = paddedBox(volume, lungs.boundsIjk, LUNG_BOX_MARGIN_MM);
  const input = await time('resample', () =>
    resampleForModel(volume, { spacingMm: contract.spacingMm, boxIjk: box, huWindow: contract.huWindow }),
  );
  const grid: ModelGrid = { data: input.data, shape: [input.shape[2], input.shape[3], input.shape[4]] };
  const heatmap = await time('heatmap', () =>
    runHeatmap(detector.heatmap, grid, {
      maxTileVoxels: options.maxTileVoxels ?? DEFAULT_MAX_TILE_VOXELS,
      onTile: (done, total) => options.onProgress?.('heatmap', done / total),
    }),
  );
  const [nx, ny, nz] = volume.dimensions;
  const inLungs = (x: number, y: number, z: number) => {
    const [i, j, k] = modelToSourceIjk(input, [x, y, z]).map(Math.round) as Vec3;
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return false;
    return lungs.mask[i + nx * (j + ny * k)] === 1;
  };
  const candidates = await time('candidates', () => {
    const blobs = findCandidates({ data: heatmap.response, shape: grid.shape }, heatmap.radiusMm, {
      minResponse: contract.minResponse,
      maxCandidates: detector.entry.maxCandidates,
      spacingMm: contract.spacingMm,
      inLungs,
    });
    const [low, high] = contract.huWindow;
    const masses = tissueCandidates(grid, heatmap.response, {
      spacingMm: contract.spacingMm,
      threshold: (TISSUE_HU - low) / (high - low),
      openingVoxels: Math.max(1, Math.round(OPENING_MM / contract.spacingMm)),
      minDiameterMm: MIN_TISSUE_DIAMETER_MM,
      inLungs,
    });
    // A tissue candidate at a blob candidate already found is the same object.
    for (const mass of masses) {
      const known = blobs.some(
        (c) => Math.hypot(c.x - mass.x, c.y - mass.y, c.z - mass.z) * contract.spacingMm < mass.radiusMm / 2,
      );
      if (!known) blobs.push(mass);
    }
    return blobs;
  });
  const positionInLungs = lungPosition(volume, lungs.boundsIjk, (c: Candidate) =>
    ijkToLps(volume, modelToSourceIjk(input, [c.x, c.y, c.z])),
  );
  const scores = await time('classifier', () =>
    scoreCandidates(detector, candidates, {
      input: grid,
      huWindow: contract.huWindow,
      spacingMm: contract.spacingMm,
      inLungs,
      positionInLungs,
    }),
  );
  options.onProgress?.('classifier', 1);

  const toIjk = (c: Candidate) => modelToSourceIjk(input, [c.x, c.y, c.z]);
  const order = candidates.map((_, n) => n).sort((a, b) => scores.values[b]! - scores.values[a]!);
  const nodules: DetectedNodule[] = [];
  await time('measure', () => {
    for (const n of order) {
      if (scores.values[n]! < threshold || nodules.length >= detector.entry.maxFindings) break;
      const candidate = candidates[n]!;
      const ijk = toIjk(candidate).map(Math.round) as Vec3;
      let measured = measureNodule(
        volume,
        { ijk },
        { radiusHintMm: candidate.radiusMm, lungMask: lungs.mask },
      );
      if (!measured) continue;
      // The blob filter's radius is a rough size: measure again with the measured one, so the result does
      // not depend on which candidate (blob or tissue) found the nodule.
      // Bounded: a segmentation that leaked into vessels must not make the second one slower and larger.
      const measuredRadiusMm = Math.min(
        measured.meanDiameterMm / 2,
        2 * candidate.radiusMm,
        MAX_REMEASURE_RADIUS_MM,
      );
      if (Math.abs(measuredRadiusMm - candidate.radiusMm) > 0.25 * candidate.radiusMm) {
        measured =
          measureNodule(volume, { ijk }, { radiusHintMm: measuredRadiusMm, lungMask: lungs.mask }) ??
          measured;
      }
      // Two candidates on one nodule (e.g. its solid core and its ground glass): keep the higher score.
      const same = nodules.some(
        (other) =>
          Math.hypot(...(other.centreLps.map((v, a) => v - measured.centreLps[a]!) as Vec3)) <
          Math.max(other.meanDiameterMm, measured.meanDiameterMm) / 2,
      );
      if (same) continue;
      nodules.push({
        ...measured,
        score: scores.values[n]!,
        candidate: {
          centreIjk: toIjk(candidate),
          radiusMm: candidate.radiusMm,
          response: candidate.response,
        },
      });
    }
  });
  options.onProgress?.('measure', 1);
  const result: Detection & { candidates?: ScoredCandidate[] } = {
    nodules,
    candidatesScored: candidates.length,
    parameters,
    timingsMs,
  };
  if (options.keepAllCandidates) {
    const F = CANDIDATE_FEATURE_NAMES.length;
    result.candidates = candidates.map((c, n) => {
      const centreIjk = toIjk(c);
      return {
        centreIjk,
        centreLps: ijkToLps(volume, centreIjk),
        radiusMm: c.radiusMm,
        response: c.response,
        features: Array.from(scores.features.subarray(n * F, (n + 1) * F)),
        score: scores.values[n]!,
      };
    });
  }
  return result;
}

async function scoreCandidates(
  detector: LoadedDetector,
  candidates: Candidate[],
  context: Parameters<typeof candidateFeatures>[1],
): Promise<{ values: Float32Array; features: Float32Array }> {
  const features = candidateFeatures(candidates, context);
  if (!detector.classifier || candidates.length === 0) {
    return { values: Float32Array.from(candidates, (c) => c.response), features };
  }
  const { contract } = detector.classifier.entry;
  const F = CANDIDATE_FEATURE_NAMES.length;
  if (contract.featureNames.join() !== CANDIDATE_FEATURE_NAMES.join()) {
    throw new DomainError(
      'MODEL_INVALID',
      `classifier ${modelKey(detector.classifier.entry)} expects features [${contract.featureNames.join(', ')}], ` +
        `nodus computes [${CANDIDATE_FEATURE_NAMES.join(', ')}]`,
    );
  }
  const outputs = await detector.classifier.session.run({
    [contract.inputName]: new ort.Tensor('float32', features, [candidates.length, F]),
  });
  const score = outputs[contract.outputName];
  if (!score || score.type !== 'float32' || score.size !== candidates.length) {
    throw new DomainError(
      'MODEL_CONTRACT_VIOLATED',
      `classifier output ${contract.outputName} is not float32 [N]`,
    );
  }
  const values = Float32Array.from(score.data as Float32Array);
  score.dispose();
  return { values, features };
}

/** The input contract, checked before any work: axial CT whose voxels the model's spacing can resample. */
function assertContract(volume: CtVolume, detector: LoadedDetector): void {
  const [nx, ny, nz] = volume.dimensions;
  const problems: string[] = [];
  if (nx < 16 || ny < 16 || nz < 8) problems.push(`volume ${nx}x${ny}x${nz} is too small (at least 16x16x8)`);
  if (volume.spacingMm.some((s) => !(s > 0) || s > 10))
    problems.push(`spacing ${volume.spacingMm.join(' x ')} mm is outside (0, 10]`);
  const axisK = volume.direction.slice(6, 9);
  if (Math.abs(axisK[2]!) < 0.9) problems.push('the slices are not axial (slice normal far from the z axis)');
  if (problems.length > 0) {
    throw new DomainError(
      'MODEL_CONTRACT_VIOLATED',
      `volume breaks the input contract of ${modelKey(detector.entry)}: ${problems.join('; ')}`,
    );
  }
}

/**
 * [heightInLungs, lateralInLungs] of a candidate: its LPS position relative to the box of the lungs' voxels
 * (z from the bases = 0 to the apices = 1; |x - midline| over half the width). Unclamped: a candidate just
 * outside the box gives slightly below 0 or above 1.
 */
function lungPosition<C>(
  volume: CtVolume,
  bounds: [number, number, number, number, number, number],
  toLps: (candidate: C) => Vec3,
): (candidate: C) => [number, number] {
  const corners: Vec3[] = [];
  for (const i of [bounds[0], bounds[3]])
    for (const j of [bounds[1], bounds[4]])
      for (const k of [bounds[2], bounds[5]]) corners.push(ijkToLps(volume, [i, j, k]));
  const extent = (axis: number) => {
    const values = corners.map((c) => c[axis]!);
    return [Math.min(...values), Math.max(...values)] as const;
  };
  const [xMin, xMax] = extent(0);
  const [zMin, zMax] = extent(2);
  const midline = (xMin + xMax) / 2;
  const halfWidth = Math.max(1, (xMax - xMin) / 2);
  const height = Math.max(1, zMax - zMin);
  return (candidate) => {
    const [x, , z] = toLps(candidate);
    return [(z - zMin) / height, Math.abs(x - midline) / halfWidth];
  };
}

function paddedBox(
  volume: CtVolume,
  bounds: [number, number, number, number, number, number],
  marginMm: number,
): [number, number, number, number, number, number] {
  const [nx, ny, nz] = volume.dimensions;
  const pad = volume.spacingMm.map((s) => Math.ceil(marginMm / s)) as Vec3;
  return [
    Math.max(0, bounds[0] - pad[0]),
    Math.max(0, bounds[1] - pad[1]),
    Math.max(0, bounds[2] - pad[2]),
    Math.min(nx - 1, bounds[3] + pad[0]),
    Math.min(ny - 1, bounds[4] + pad[1]),
    Math.min(nz - 1, bounds[5] + pad[2]),
  ];
}

/** LPS mm of a (continuous) voxel index of `volume`. */
export function ijkToLps(volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>, ijk: Vec3): Vec3 {
  const d = volume.direction;
  const [si, sj, sk] = volume.spacingMm;
  const [i, j, k] = ijk;
  return [0, 1, 2].map(
    (a) => volume.originLps[a]! + i * si * d[a]! + j * sj * d[3 + a]! + k * sk * d[6 + a]!,
  ) as Vec3;
}
