import { z } from 'zod';

/**
 * The contract of a nodule-heatmap model: what any ONNX detector (ours, or one exported from MONAI or
 * nnDetection) must accept and give to be registered and run by nodus.
 *
 * Input: float32 tensor [1, 1, D, H, W] of the CT resampled (trilinear) to isotropic `spacingMm`, with
 * D along the volume's k axis (slices, feet to head for axial CT), H along j (rows), W along i (columns);
 * values (clip(HU, low, high) - low) / (high - low) for `huWindow` [low, high]. D, H and W vary per scan
 * (the lungs' bounding box); a model with a fixed patch size declares `patchSize` and is run sliding-window.
 *
 * Outputs: `response`, float32 [1, 1, D, H, W], higher where a nodule's centre is more likely (local maxima
 * become candidates); optionally `radiusMm`, float32 [1, 1, D, H, W], the nodule radius at each voxel.
 */
export const HeatmapModelContract = z.object({
  inputName: z.string().min(1),
  spacingMm: z.number().positive().max(5),
  huWindow: z.tuple([z.number(), z.number()]).refine(([low, high]) => high > low, 'low < high'),
  /** Fixed input size [D, H, W] of a patch-based model; absent for a fully convolutional one. */
  patchSize: z
    .tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()])
    .optional(),
  /** Border of each tile, in voxels, that is computed but not used (the filters' reach): tiles overlap by twice this. */
  haloVoxels: z.number().int().nonnegative(),
  responseOutput: z.string().min(1),
  radiusOutput: z.string().min(1).optional(),
  /** Candidates are local maxima with response at least this. */
  minResponse: z.number(),
});

/**
 * The contract of a candidate classifier: float32 `features` [N, F] (F = featureNames.length, in that order)
 * to float32 `score` [N], the probability that each candidate is a nodule.
 */
export const ClassifierModelContract = z.object({
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  featureNames: z.array(z.string().min(1)).min(1),
});

/**
 * The contract of a patch classifier: float32 `patches` [N, C, S, S, S] (C = scales.length cubes of S³ model-grid
 * samples centred on each candidate, channel c sampling every scales[c] voxels of the heatmap model's grid, see
 * src/inference/candidate-patches.ts; after a fine channel of the source voxels where fineSpacingMm is set) to float32 `logit` [N]; the detector's calibration maps the logit to a
 * probability.
 */
export const PatchClassifierContract = z.object({
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  patchSize: z.number().int().min(4).max(64),
  /** Grid voxels per patch voxel, one per channel; powers of two (box pyramid levels). */
  scales: z
    .array(z.number().int().positive())
    .min(1)
    .refine((s) => s.every((v) => Number.isInteger(Math.log2(v))), 'scales are powers of two'),
  /**
   * With it, channel 0 is a cube of S³ samples of the source volume's own voxels every fineSpacingMm mm
   * (src/inference/source-patches.ts), and the scales' channels follow: C = 1 + scales.length.
   */
  fineSpacingMm: z.number().positive().optional(),
});

const ModelEntryBase = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  /** Path of the .onnx file relative to the models folder. */
  file: z.string().regex(/^[A-Za-z0-9._/-]+\.onnx$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  description: z.string(),
  /** Model card (method, training data, results, limits), relative to the models folder. */
  card: z.string(),
  /** The command that rebuilds the .onnx file from this repository. */
  recipe: z.string(),
});

export const ModelEntry = z.discriminatedUnion('task', [
  ModelEntryBase.extend({ task: z.literal('nodule-heatmap'), contract: HeatmapModelContract }),
  ModelEntryBase.extend({ task: z.literal('candidate-classifier'), contract: ClassifierModelContract }),
  ModelEntryBase.extend({ task: z.literal('patch-classifier'), contract: PatchClassifierContract }),
]);
export type ModelEntry = z.infer<typeof ModelEntry>;
export type HeatmapModelEntry = Extract<ModelEntry, { task: 'nodule-heatmap' }>;
export type ClassifierModelEntry = Extract<ModelEntry, { task: 'candidate-classifier' }>;
export type PatchClassifierModelEntry = Extract<ModelEntry, { task: 'patch-classifier' }>;

/** A patch classifier's logit to a probability: p = 1 / (1 + exp(-(slope * logit + intercept))). */
const LogitCalibration = z.object({ slope: z.number(), intercept: z.number() });

/** A detector: a heatmap model, optionally a classifier for its candidates, and the operating point. */
export const DetectorEntry = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  /** `id@version` of a nodule-heatmap model. */
  heatmap: z.string(),
  /**
   * `id@version` of a candidate-classifier (features) or patch-classifier (3D CNN) model; without one, the
   * heatmap response is the score.
   */
  classifier: z.string().optional(),
  /**
   * Patch classifiers: the logit's calibration to a probability, p = 1 / (1 + exp(-(slope * logit +
   * intercept))) (Platt scaling fitted on held-out scans, see the model card).
   */
  calibration: LogitCalibration.optional(),
  /** Findings need at least this score (the default operating point). */
  threshold: z.number(),
  /** At most this many candidates are scored per scan (highest response first; see keepAllFromRadiusMm). */
  maxCandidates: z.number().int().positive(),
  /** Candidates of at least this radius (mm) are scored beyond maxCandidates (they are few). */
  keepAllFromRadiusMm: z.number().positive().optional(),
  /**
   * A second candidate search for ground-glass and part-solid nodules: blob maxima of the heatmap on the grid
   * clipped at clipHu, of at least minResponse and minRadiusMm (src/inference/sub-solid-candidates.ts).
   * With a classifier (`id@version` of a patch classifier trained on this search's candidates) and its own
   * calibration, its candidates are scored by that model; without, by the detector's classifier. Either way
   * the calibrated probabilities of both searches meet the one threshold.
   */
  subSolidCandidates: z
    .object({
      clipHu: z.number(),
      minResponse: z.number().positive(),
      minRadiusMm: z.number().positive(),
      classifier: z.string().optional(),
      calibration: LogitCalibration.optional(),
    })
    .refine((s) => !s.classifier || s.calibration, {
      message: 'a sub-solid classifier needs the calibration of its logit',
    })
    .optional(),
  /**
   * A third candidate search for nodules of 3-6 mm: the most blob-like of the heatmap's maxima under
   * maxRadiusMm that the cap on small candidates dropped (src/inference/small-candidates.ts), scored by their
   * own patch classifier (`id@version`, with a fine channel of the source voxels) and its calibration.
   */
  smallCandidates: z
    .object({
      maxRadiusMm: z.number().positive(),
      minResponse: z.number().positive(),
      maxCandidates: z.number().int().positive(),
      classifier: z.string(),
      calibration: LogitCalibration,
    })
    .optional(),
  /**
   * Patch classifiers: this many best candidates are scored again on the mirror images of their patches
   * and get the mean logit (test-time augmentation, see patch-classifier.ts); absent: one pass.
   */
  mirrorAveragedTop: z.number().int().positive().optional(),
  /**
   * At most this many findings are reported per scan (highest score first); absent: every candidate at or
   * above the operating point is reported.
   */
  maxFindings: z.number().int().positive().optional(),
});
export type DetectorEntry = z.infer<typeof DetectorEntry>;

export const ModelManifest = z.object({
  models: z.array(ModelEntry),
  detectors: z.array(DetectorEntry).min(1),
  /** `id` of the detector used when none is named. */
  defaultDetector: z.string(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

export const modelKey = (entry: { id: string; version: string }) => `${entry.id}@${entry.version}`;
