import { encodeOnnxModel, OnnxGraphBuilder } from '../../src/inference/onnx/onnx-model-writer.js';

/** One fully connected layer: `weights[i * outputs + o]` from input i to output o, and `bias[o]`. */
export interface MlpLayer {
  weights: Float32Array;
  bias: Float32Array;
}

/**
 * A small multilayer perceptron over candidate features: standardisation, fully connected layers with ReLU
 * between them, and a sigmoid on the last layer's single output.
 */
export interface MlpClassifierSpec {
  /** Feature names, in the order of the columns of `features` (the classifier contract's featureNames). */
  featureNames: string[];
  /** Per-feature mean and standard deviation (> 0) used to standardise: (x - mean) / std. */
  mean: number[];
  std: number[];
  /** Layers in order; the first has featureNames.length inputs, the last 1 output. */
  layers: MlpLayer[];
}

/**
 * The candidate classifier as an ONNX graph: input `features` float32 [N, F] (N symbolic, F =
 * featureNames.length), output `score` float32 [N] in (0, 1), the same maths as `mlpForward`.
 */
export function buildMlpClassifierGraph(spec: MlpClassifierSpec): Uint8Array {
  const widths = layerWidths(spec);
  const g = new OnnxGraphBuilder();
  let value = g.op('Div', [
    g.op('Sub', ['features', g.floats('mean', spec.mean)]),
    g.floats('std', spec.std),
  ]);
  spec.layers.forEach((layer, index) => {
    const weights = g.floats(`weights_${index}`, layer.weights, [widths[index]!, widths[index + 1]!]);
    const bias = g.floats(`bias_${index}`, layer.bias);
    value = g.op('Gemm', [value, weights, bias]);
    if (index < spec.layers.length - 1) value = g.op('Relu', [value]);
  });
  g.op('Squeeze', [g.op('Sigmoid', [value]), g.int64s('axes', [1])], undefined, 'score');
  return encodeOnnxModel({
    graph: {
      name: 'mlp_classifier',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'features', type: 'float32', shape: ['N', spec.featureNames.length] }],
      outputs: [{ name: 'score', type: 'float32', shape: ['N'] }],
    },
    docString: `Candidate classifier: standardised features, MLP ${widths.join('-')} with ReLU, sigmoid score.`,
    metadata: { featureNames: JSON.stringify(spec.featureNames) },
  });
}

/**
 * The classifier's forward pass in TypeScript (float64 arithmetic): `features` holds n rows of
 * featureNames.length values, row-major; returns the n scores.
 */
export function mlpForward(spec: MlpClassifierSpec, features: Float32Array, n: number): Float32Array {
  const widths = layerWidths(spec);
  const featureCount = widths[0]!;
  if (features.length !== n * featureCount) {
    throw new Error(`mlpForward: ${features.length} values for ${n} rows of ${featureCount} features`);
  }
  const scores = new Float32Array(n);
  for (let row = 0; row < n; row += 1) {
    let activations = Array.from(
      { length: featureCount },
      (_, i) => (features[row * featureCount + i]! - spec.mean[i]!) / spec.std[i]!,
    );
    spec.layers.forEach((layer, index) => {
      const outputs = widths[index + 1]!;
      const next = Array.from(layer.bias, Number);
      activations.forEach((input, i) => {
        for (let o = 0; o < outputs; o += 1) next[o]! += input * layer.weights[i * outputs + o]!;
      });
      activations = index < spec.layers.length - 1 ? next.map((v) => Math.max(0, v)) : next;
    });
    scores[row] = 1 / (1 + Math.exp(-activations[0]!));
  }
  return scores;
}

/** [inputs, hidden..., 1], checked against every array's length. */
function layerWidths(spec: MlpClassifierSpec): number[] {
  const featureCount = spec.featureNames.length;
  if (featureCount === 0 || spec.mean.length !== featureCount || spec.std.length !== featureCount) {
    throw new Error('MLP: featureNames, mean and std must have the same, non-zero length');
  }
  if (spec.std.some((s) => !(s > 0))) throw new Error('MLP: every std must be positive');
  if (spec.layers.length === 0) throw new Error('MLP: at least one layer');
  const widths = [featureCount];
  for (const [index, layer] of spec.layers.entries()) {
    const inputs = widths[index]!;
    const outputs = layer.bias.length;
    if (outputs === 0 || layer.weights.length !== inputs * outputs) {
      throw new Error(`MLP layer ${index}: ${layer.weights.length} weights for ${inputs} x ${outputs}`);
    }
    widths.push(outputs);
  }
  if (widths[widths.length - 1] !== 1) throw new Error('MLP: the last layer must have 1 output');
  return widths;
}
