import * as ort from 'onnxruntime-node';
import { DomainError } from '../shared/errors.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';
import { CANDIDATE_FEATURE_NAMES, candidateFeatures } from './candidate-features.js';
import { runCandidateStage } from './candidate-stage.js';
import type { Candidate } from './find-candidates.js';
import { measureNodule, type NoduleMeasurement } from './nodule-measurement.js';
import { modelKey, type PatchClassifierModelEntry } from './model-manifest.js';
import type { LoadedDetector, LoadedModel } from './model-registry.js';
import { scorePatches, type SourceOfGrid } from './patch-classifier.js';
import { modelToSourceIjk } from './resample.js';

/** One detected nodule: the measurement of its segmentation plus the detector's score. */
export interface DetectedNodule extends NoduleMeasurement {
  score: number;
  /**
   * The candidate the detector found (model-grid scale), before segmentation; source 'sub-solid' when the
   * sub-solid search found it, 'small' when the small-nodule search did.
   */
  candidate: { centreIjk: Vec3; radiusMm: number; response: number; source?: Candidate['source'] };
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
  /** Most findings measured and reported (evaluation below the operating point); default: the detector's. */
  maxFindings?: number;
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
  /** 'sub-solid' when the sub-solid search found it (see Candidate). */
  source?: Candidate['source'];
}

const DEFAULT_MAX_TILE_VOXELS = 12_000_000;
/** Largest radius hint of the second measurement, mm (nodules are at most 30 mm; masses are measured once more at 20). */
const MAX_REMEASURE_RADIUS_MM = 20;

/**
 * The detection pipeline on one CT volume:
 * 1. the candidate stage (candidate-stage.ts): lung mask, the lungs' box on the heatmap model's grid, the
 *    heatmap, blob maxima and tissue components in the lungs;
 * 2. the classifier's score per candidate: a patch classifier (3D CNN on multi-scale cubes, calibrated to a
 *    probability) or a feature classifier (MLP on hand-made features), or the heatmap response alone;
 * 3. candidates at or above the operating point are segmented and measured on the original voxels (best
 *    score first; one finding per nodule; at most maxFindings where the detector sets one).
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
    subSolidClassifier: detector.subSolidClassifier && {
      model: modelKey(detector.subSolidClassifier.entry),
      sha256: detector.subSolidClassifier.entry.sha256,
    },
    calibration: detector.entry.calibration,
    threshold,
    maxCandidates: detector.entry.maxCandidates,
    keepAllFromRadiusMm: detector.entry.keepAllFromRadiusMm,
    subSolidCandidates: detector.entry.subSolidCandidates,
    smallClassifier: detector.smallClassifier && {
      model: modelKey(detector.smallClassifier.entry),
      sha256: detector.smallClassifier.entry.sha256,
    },
    smallCandidates: detector.entry.smallCandidates,
    mirrorAveragedTop: detector.entry.mirrorAveragedTop,
    maxFindings: detector.entry.maxFindings,
  };

  const stage = await runCandidateStage(volume, detector.heatmap, {
    maxTileVoxels: options.maxTileVoxels ?? DEFAULT_MAX_TILE_VOXELS,
    maxCandidates: detector.entry.maxCandidates,
    ...(detector.entry.keepAllFromRadiusMm !== undefined && {
      keepAllFromRadiusMm: detector.entry.keepAllFromRadiusMm,
    }),
    ...(detector.entry.subSolidCandidates && { subSolid: detector.entry.subSolidCandidates }),
    ...(detector.entry.smallCandidates && { small: detector.entry.smallCandidates }),
    ...(options.onProgress && { onProgress: options.onProgress }),
    time,
  });
  if (!stage) return { nodules: [], candidatesScored: 0, parameters, timingsMs };
  const { lungs, grid, candidates, toIjk } = stage;
  const positionInLungs = lungPosition(volume, lungs.boundsIjk, (c: Candidate) => ijkToLps(volume, toIjk(c)));
  const scores = await time('classifier', () =>
    scoreCandidates(detector, candidates, {
      input: grid,
      huWindow: contract.huWindow,
      spacingMm: contract.spacingMm,
      inLungs: stage.inLungs,
      positionInLungs,
      source: {
        volume,
        huWindow: contract.huWindow,
        toSourceIjk: (p) => modelToSourceIjk(stage.input, [p.x, p.y, p.z]),
      },
    }),
  );
  options.onProgress?.('classifier', 1);

  const order = candidates.map((_, n) => n).sort((a, b) => scores.values[b]! - scores.values[a]!);
  const maxFindings = options.maxFindings ?? detector.entry.maxFindings ?? Infinity;
  const nodules: DetectedNodule[] = [];
  await time('measure', () => {
    for (const n of order) {
      if (scores.values[n]! < threshold || nodules.length >= maxFindings) break;
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
          ...(candidate.source && { source: candidate.source }),
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
    const F = scores.features ? CANDIDATE_FEATURE_NAMES.length : 0;
    result.candidates = candidates.map((c, n) => {
      const centreIjk = toIjk(c);
      return {
        centreIjk,
        centreLps: ijkToLps(volume, centreIjk),
        radiusMm: c.radiusMm,
        response: c.response,
        features: scores.features ? Array.from(scores.features.subarray(n * F, (n + 1) * F)) : [],
        score: scores.values[n]!,
        ...(c.source && { source: c.source }),
      };
    });
  }
  return result;
}

async function scoreCandidates(
  detector: LoadedDetector,
  candidates: Candidate[],
  context: Parameters<typeof candidateFeatures>[1] & { source: SourceOfGrid },
): Promise<{ values: Float32Array; features: Float32Array | undefined }> {
  const classifier = detector.classifier;
  if (!classifier || candidates.length === 0) {
    // The heatmap alone scores; the features are still computed: the feature classifier's recipe trains on them.
    return {
      values: Float32Array.from(candidates, (c) => c.response),
      features: candidates.length ? candidateFeatures(candidates, context) : new Float32Array(0),
    };
  }
  if (classifier.entry.task === 'patch-classifier') {
    // The sub-solid and small-nodule searches' candidates go to classifiers of their own where the detector
    // names them; each model's logits are calibrated by its own fit, so one threshold serves all.
    const subSolid = detector.subSolidClassifier;
    const small = detector.smallClassifier;
    const groups = [
      {
        model: classifier as LoadedModel<PatchClassifierModelEntry>,
        calibration: detector.entry.calibration!,
        indices: candidates.flatMap((c, n) =>
          (subSolid && c.source === 'sub-solid') || (small && c.source === 'small') ? [] : [n],
        ),
      },
      ...(small
        ? [
            {
              model: small,
              calibration: detector.entry.smallCandidates!.calibration,
              indices: candidates.flatMap((c, n) => (c.source === 'small' ? [n] : [])),
            },
          ]
        : []),
      ...(subSolid
        ? [
            {
              model: subSolid,
              calibration: detector.entry.subSolidCandidates!.calibration!,
              indices: candidates.flatMap((c, n) => (c.source === 'sub-solid' ? [n] : [])),
            },
          ]
        : []),
    ];
    const values = new Float32Array(candidates.length);
    for (const group of groups) {
      if (group.indices.length === 0) continue;
      const scores = await scorePatches(
        group.model,
        group.calibration,
        context.input,
        group.indices.map((n) => candidates[n]!),
        { mirrorAveragedTop: detector.entry.mirrorAveragedTop ?? 0, source: context.source },
      );
      for (const [m, n] of group.indices.entries()) values[n] = scores.probabilities[m]!;
    }
    return { values, features: undefined };
  }
  const features = candidateFeatures(candidates, context);
  const { contract } = classifier.entry;
  const F = CANDIDATE_FEATURE_NAMES.length;
  if (contract.featureNames.join() !== CANDIDATE_FEATURE_NAMES.join()) {
    throw new DomainError(
      'MODEL_INVALID',
      `classifier ${modelKey(classifier.entry)} expects features [${contract.featureNames.join(', ')}], ` +
        `nodus computes [${CANDIDATE_FEATURE_NAMES.join(', ')}]`,
    );
  }
  const outputs = await classifier.session.run({
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

/** LPS mm of a (continuous) voxel index of `volume`. */
export function ijkToLps(volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>, ijk: Vec3): Vec3 {
  const d = volume.direction;
  const [si, sj, sk] = volume.spacingMm;
  const [i, j, k] = ijk;
  return [0, 1, 2].map(
    (a) => volume.originLps[a]! + i * si * d[a]! + j * sj * d[3 + a]! + k * sk * d[6 + a]!,
  ) as Vec3;
}

/**
 * Continuous voxel index of an LPS point in `volume` (the inverse of {@link ijkToLps}; the direction
 * cosines are orthonormal, so the inverse is the transpose).
 */
export function lpsToIjk(volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>, lps: Vec3): Vec3 {
  const d = volume.direction;
  const offset = lps.map((v, a) => v - volume.originLps[a]!) as Vec3;
  return [0, 1, 2].map(
    (axis) =>
      (d[3 * axis]! * offset[0] + d[3 * axis + 1]! * offset[1] + d[3 * axis + 2]! * offset[2]) /
      volume.spacingMm[axis]!,
  ) as Vec3;
}
