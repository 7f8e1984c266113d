import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  buildMlpClassifierGraph,
  mlpForward,
  type MlpClassifierSpec,
} from '../../../models/recipes/mlp-classifier-graph.js';

/** Deterministic numbers in [-1, 1). */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
}

function randomSpec(widths: number[], seed: number): MlpClassifierSpec {
  const random = randomSource(seed);
  const featureCount = widths[0]!;
  return {
    featureNames: Array.from({ length: featureCount }, (_, i) => `feature_${i}`),
    mean: Array.from({ length: featureCount }, () => 50 * random()),
    std: Array.from({ length: featureCount }, () => 0.5 + 20 * Math.abs(random())),
    layers: widths.slice(1).map((outputs, index) => ({
      weights: Float32Array.from({ length: widths[index]! * outputs }, () => random()),
      bias: Float32Array.from({ length: outputs }, () => 0.5 * random()),
    })),
  };
}

describe('buildMlpClassifierGraph', () => {
  it.each([
    { widths: [5, 1], n: 7 },
    { widths: [5, 8, 1], n: 1 },
    { widths: [12, 16, 8, 1], n: 257 },
  ])('gives the scores of mlpForward in onnxruntime ($widths, N = $n)', async ({ widths, n }) => {
    const spec = randomSpec(widths, widths.length * 31 + n);
    const random = randomSource(n);
    const features = Float32Array.from({ length: n * widths[0]! }, (_, i) => {
      const column = i % widths[0]!;
      return spec.mean[column]! + spec.std[column]! * 2 * random();
    });
    const session = await ort.InferenceSession.create(buildMlpClassifierGraph(spec), {
      intraOpNumThreads: 1,
    });
    expect(session.inputNames).toEqual(['features']);
    expect(session.outputNames).toEqual(['score']);
    const { score } = await session.run({ features: new ort.Tensor('float32', features, [n, widths[0]!]) });
    expect(score!.dims).toEqual([n]);
    const expected = mlpForward(spec, features, n);
    const actual = score!.data as Float32Array;
    let largestDifference = 0;
    for (let i = 0; i < n; i += 1)
      largestDifference = Math.max(largestDifference, Math.abs(actual[i]! - expected[i]!));
    expect(largestDifference).toBeLessThan(1e-5);
    // Not all saturated: the comparison says something about the layers.
    expect(Array.from(expected).some((s) => s > 0.05 && s < 0.95)).toBe(true);
  });
});

describe('mlpForward', () => {
  it('standardises, applies ReLU between layers and a sigmoid at the end', () => {
    // x = [3, 10] -> standardised [1, -1] -> hidden [1*1 + -1*2 + 0.5, 1*-1 + -1*1] = [-0.5, -2] -> ReLU [0, 0]
    // -> output 0*w + 0.25 -> sigmoid(0.25); and x = [5, 14] -> [2, 1] -> [4.5, -1] -> ReLU [4.5, 0] -> 4.5*2 + 0.25.
    const spec: MlpClassifierSpec = {
      featureNames: ['a', 'b'],
      mean: [1, 12],
      std: [2, 2],
      layers: [
        { weights: Float32Array.from([1, -1, 2, 1]), bias: Float32Array.from([0.5, 0]) },
        { weights: Float32Array.from([2, 3]), bias: Float32Array.from([0.25]) },
      ],
    };
    const scores = mlpForward(spec, Float32Array.from([3, 10, 5, 14]), 2);
    expect(scores[0]).toBeCloseTo(1 / (1 + Math.exp(-0.25)), 6);
    expect(scores[1]).toBeCloseTo(1 / (1 + Math.exp(-9.25)), 6);
  });

  it('refuses inconsistent specs', () => {
    const spec = randomSpec([3, 2, 1], 1);
    expect(() => mlpForward({ ...spec, std: [1, 0, 1] }, new Float32Array(3), 1)).toThrow(/std/);
    expect(() => mlpForward({ ...spec, mean: [0, 0] }, new Float32Array(3), 1)).toThrow(/same/);
    expect(() => mlpForward(randomSpec([3, 2], 1), new Float32Array(3), 1)).toThrow(/1 output/);
    expect(() => mlpForward(spec, new Float32Array(4), 1)).toThrow(/4 values/);
    expect(() => buildMlpClassifierGraph({ ...spec, layers: [spec.layers[1]!] })).toThrow(
      /weights for 3 x 1/,
    );
  });
});
