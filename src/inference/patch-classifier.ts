import * as ort from 'onnxruntime-node';
import { DomainError } from '../shared/errors.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';
import { extractPatches, gridPyramid, type GridPoint } from './candidate-patches.js';
import { modelKey, type DetectorEntry, type PatchClassifierModelEntry } from './model-manifest.js';
import { mirroredPatches } from './mirrored-patches.js';
import type { LoadedModel } from './model-registry.js';
import type { ModelGrid } from './run-heatmap.js';
import { sourcePatches, withFineChannel } from './source-patches.js';

/** The source volume behind a model grid: what a fine channel samples (see source-patches.ts). */
export interface SourceOfGrid {
  volume: Pick<CtVolume, 'dimensions' | 'spacingMm' | 'hu'>;
  /** The model grid's HU window. */
  huWindow: [number, number];
  /** Continuous source voxel index of a model-grid point. */
  toSourceIjk: (point: GridPoint) => Vec3;
}

/** Candidates per inference call: bounds the patch tensor (256 x 3 x 16³ float32 = 12.6 MB). */
const BATCH = 256;

export interface PatchScores {
  /** The model's logit per candidate. */
  logits: Float32Array;
  /** The calibrated probability that the candidate is a nodule: sigmoid(slope * logit + intercept). */
  probabilities: Float32Array;
}

/**
 * Scores candidates with a patch classifier (a 3D CNN on multi-scale cubes of the model grid around each
 * candidate, see candidate-patches.ts), in batches, and calibrates the logits to probabilities. With
 * `mirrorAveragedTop` (the detector's manifest setting), the best candidates of that first pass are scored
 * again on the 7 other mirror images of their patches (each axis mirrored or not) and get the mean of the
 * 8 logits: a steadier score where findings are decided, for a few hundred extra patches.
 */
export async function scorePatches(
  model: LoadedModel<PatchClassifierModelEntry>,
  calibration: NonNullable<DetectorEntry['calibration']>,
  grid: ModelGrid,
  points: GridPoint[],
  options: {
    mirrorAveragedTop?: number;
    /** The source volume, for a classifier with a fine channel (contract.fineSpacingMm). */
    source?: SourceOfGrid;
  } = {},
): Promise<PatchScores> {
  const { contract } = model.entry;
  const layout = { size: contract.patchSize, scales: contract.scales };
  const pyramid = gridPyramid(grid, Math.log2(Math.max(...contract.scales)) + 1);
  const logits = new Float32Array(points.length);
  const fine = contract.fineSpacingMm;
  const C = contract.scales.length + (fine ? 1 : 0);
  const S = contract.patchSize;
  const source = options.source;
  if (fine && !source) {
    throw new DomainError(
      'MODEL_CONTRACT_VIOLATED',
      `patch classifier ${modelKey(model.entry)} reads the source voxels, and none were given`,
    );
  }
  const patchesOf = (batch: GridPoint[]): Float32Array => {
    const gridPatches = extractPatches(pyramid, batch, layout);
    if (!fine) return gridPatches;
    const sampling = { volume: source!.volume, huWindow: source!.huWindow, spacingMm: fine, size: S };
    const finePatches = sourcePatches(sampling, batch.map(source!.toSourceIjk));
    return withFineChannel(finePatches, gridPatches, S);
  };
  const run = async (patches: Float32Array, count: number): Promise<Float32Array> => {
    const outputs = await model.session.run({
      [contract.inputName]: new ort.Tensor('float32', patches, [count, C, S, S, S]),
    });
    const logit = outputs[contract.outputName];
    if (!logit || logit.type !== 'float32' || logit.size !== count) {
      throw new DomainError(
        'MODEL_CONTRACT_VIOLATED',
        `patch classifier ${modelKey(model.entry)}: output ${contract.outputName} is not float32 [N]`,
      );
    }
    const values = Float32Array.from(logit.data as Float32Array);
    logit.dispose();
    return values;
  };
  for (let start = 0; start < points.length; start += BATCH) {
    const batch = points.slice(start, start + BATCH);
    logits.set(await run(patchesOf(batch), batch.length), start);
  }
  const top = Math.min(options.mirrorAveragedTop ?? 0, points.length);
  if (top > 0) {
    const best = Array.from(logits.keys())
      .sort((a, b) => logits[b]! - logits[a]!)
      .slice(0, top);
    for (let start = 0; start < best.length; start += BATCH) {
      const indices = best.slice(start, start + BATCH);
      const patches = patchesOf(indices.map((n) => points[n]!));
      const sums = Float32Array.from(indices, (n) => logits[n]!);
      for (let axes = 1; axes < 8; axes += 1) {
        const mirrored = await run(mirroredPatches(patches, S, axes), indices.length);
        for (let m = 0; m < indices.length; m += 1) sums[m]! += mirrored[m]!;
      }
      for (const [m, n] of indices.entries()) logits[n] = sums[m]! / 8;
    }
  }
  const probabilities = Float32Array.from(
    logits,
    (l) => 1 / (1 + Math.exp(-(calibration.slope * l + calibration.intercept))),
  );
  return { logits, probabilities };
}
