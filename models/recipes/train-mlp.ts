// Training of the candidate classifier: a one-hidden-layer perceptron fitted with full-batch Adam on
// class-weighted binary cross-entropy, deterministic for a given seed (no Math.random, fixed order).
import type { MlpClassifierSpec } from './mlp-classifier-graph.js';

export interface TrainingSet {
  /** Row-major [n, F]. */
  features: Float32Array;
  /** 1 = nodule, 0 = not. */
  labels: Uint8Array;
  n: number;
  featureNames: string[];
}

export interface TrainOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights (not the biases). */
  weightDecay: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  hidden: 16,
  epochs: 1500,
  learningRate: 0.01,
  weightDecay: 1e-4,
  seed: 20261128,
};

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fits the classifier; positives and negatives weigh the same in total (class balance). */
export function trainMlp(set: TrainingSet, options: TrainOptions = DEFAULT_TRAIN_OPTIONS): MlpClassifierSpec {
  const { n } = set;
  const F = set.featureNames.length;
  const Hd = options.hidden;
  const mean = new Array<number>(F).fill(0);
  const std = new Array<number>(F).fill(0);
  for (let r = 0; r < n; r += 1) for (let f = 0; f < F; f += 1) mean[f]! += set.features[r * F + f]! / n;
  for (let r = 0; r < n; r += 1)
    for (let f = 0; f < F; f += 1) std[f]! += (set.features[r * F + f]! - mean[f]!) ** 2 / n;
  for (let f = 0; f < F; f += 1) std[f] = Math.sqrt(std[f]!) || 1;
  const x = new Float64Array(n * F);
  for (let r = 0; r < n; r += 1)
    for (let f = 0; f < F; f += 1) x[r * F + f] = (set.features[r * F + f]! - mean[f]!) / std[f]!;

  const positives = set.labels.reduce((s, v) => s + v, 0);
  const weightOf = (label: number) =>
    label ? n / (2 * Math.max(1, positives)) : n / (2 * Math.max(1, n - positives));

  const random = mulberry32(options.seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Parameters: W1 [F, Hd], b1 [Hd], W2 [Hd], b2.
  const params = new Float64Array(F * Hd + Hd + Hd + 1);
  for (let p = 0; p < F * Hd; p += 1) params[p] = gaussian() * Math.sqrt(2 / F);
  for (let p = F * Hd + Hd; p < F * Hd + 2 * Hd; p += 1) params[p] = gaussian() * Math.sqrt(1 / Hd);
  const w1 = 0;
  const b1 = F * Hd;
  const w2 = b1 + Hd;
  const b2 = w2 + Hd;
  const m = new Float64Array(params.length);
  const v = new Float64Array(params.length);
  const grad = new Float64Array(params.length);
  const hidden = new Float64Array(Hd);
  const beta1 = 0.9;
  const beta2 = 0.999;

  for (let epoch = 1; epoch <= options.epochs; epoch += 1) {
    grad.fill(0);
    for (let r = 0; r < n; r += 1) {
      let z = params[b2]!;
      for (let h = 0; h < Hd; h += 1) {
        let a = params[b1 + h]!;
        for (let f = 0; f < F; f += 1) a += x[r * F + f]! * params[w1 + f * Hd + h]!;
        hidden[h] = a > 0 ? a : 0;
        z += hidden[h]! * params[w2 + h]!;
      }
      const p = 1 / (1 + Math.exp(-z));
      const dz = (weightOf(set.labels[r]!) * (p - set.labels[r]!)) / n;
      grad[b2]! += dz;
      for (let h = 0; h < Hd; h += 1) {
        grad[w2 + h]! += dz * hidden[h]!;
        if (hidden[h]! <= 0) continue;
        const dh = dz * params[w2 + h]!;
        grad[b1 + h]! += dh;
        for (let f = 0; f < F; f += 1) grad[w1 + f * Hd + h]! += dh * x[r * F + f]!;
      }
    }
    for (let p = 0; p < params.length; p += 1) {
      const isWeight = p < b1 || (p >= w2 && p < b2);
      const g = grad[p]! + (isWeight ? options.weightDecay * params[p]! : 0);
      m[p] = beta1 * m[p]! + (1 - beta1) * g;
      v[p] = beta2 * v[p]! + (1 - beta2) * g * g;
      const mHat = m[p]! / (1 - beta1 ** epoch);
      const vHat = v[p]! / (1 - beta2 ** epoch);
      params[p]! -= (options.learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  }
  return {
    featureNames: set.featureNames,
    mean,
    std,
    layers: [
      {
        weights: Float32Array.from(params.subarray(w1, b1)),
        bias: Float32Array.from(params.subarray(b1, w2)),
      },
      { weights: Float32Array.from(params.subarray(w2, b2)), bias: Float32Array.from(params.subarray(b2)) },
    ],
  };
}
