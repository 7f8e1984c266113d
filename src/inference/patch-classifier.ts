import * as ort from 'onnxruntime-node';
import { DomainError } from '../shared/errors.js';
import { extractPatches, gridPyramid, type GridPoint } from './candidate-patches.js';
import { modelKey, type DetectorEntry, type PatchClassifierModelEntry } from './model-manifest.js';
import type { LoadedModel } from './model-registry.js';
import type { ModelGrid } from './run-heatmap.js';

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
 * candidate, see candidate-patches.ts), in batches, and calibrates the logits to probabilities.
 */
export async function scorePatches(
  model: LoadedModel<PatchClassifierModelEntry>,
  calibration: NonNullable<DetectorEntry['calibration']>,
  grid: ModelGrid,
  points: GridPoint[],
): Promise<PatchScores> {
  const { contract } = model.entry;
  const layout = { size: contract.patchSize, scales: contract.scales };
  const pyramid = gridPyramid(grid, Math.log2(Math.max(...contract.scales)) + 1);
  const logits = new Float32Array(points.length);
  const C = contract.scales.length;
  const S = contract.patchSize;
  for (let start = 0; start < points.length; start += BATCH) {
    const batch = points.slice(start, start + BATCH);
    const patches = extractPatches(pyramid, batch, layout);
    const outputs = await model.session.run({
      [contract.inputName]: new ort.Tensor('float32', patches, [batch.length, C, S, S, S]),
    });
    const logit = outputs[contract.outputName];
    if (!logit || logit.type !== 'float32' || logit.size !== batch.length) {
      throw new DomainError(
        'MODEL_CONTRACT_VIOLATED',
        `patch classifier ${modelKey(model.entry)}: output ${contract.outputName} is not float32 [N]`,
      );
    }
    logits.set(logit.data as Float32Array, start);
    logit.dispose();
  }
  const probabilities = Float32Array.from(
    logits,
    (l) => 1 / (1 + Math.exp(-(calibration.slope * l + calibration.intercept))),
  );
  return { logits, probabilities };
}
