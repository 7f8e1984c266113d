import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { HeatmapModelEntry } from '../../../src/inference/model-manifest.js';
import { encodeOnnxModel, OnnxGraphBuilder } from '../../../src/inference/onnx/onnx-model-writer.js';
import { runHeatmap } from '../../../src/inference/run-heatmap.js';

/** A 3x3x3 box filter (halo 1) as a fully convolutional heatmap model, with a constant radius output. */
async function boxFilterModel(patchSize?: [number, number, number]) {
  const g = new OnnxGraphBuilder();
  const kernel = g.floats('kernel', new Array(27).fill(1 / 27), [1, 1, 3, 3, 3]);
  const response = g.op('Conv', ['volume', kernel], { pads: { ints: [1, 1, 1, 1, 1, 1] } }, 'response');
  g.op(
    'Add',
    [g.op('Mul', [response, g.floats('zero', [0], [])]), g.floats('five', [5], [])],
    undefined,
    'radiusMm',
  );
  const shape = patchSize ? [1, 1, ...patchSize] : [1, 1, 'D', 'H', 'W'];
  const bytes = encodeOnnxModel({
    graph: {
      name: 'box',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'volume', type: 'float32', shape }],
      outputs: [
        { name: 'response', type: 'float32', shape },
        { name: 'radiusMm', type: 'float32', shape },
      ],
    },
  });
  const entry = {
    id: 'box',
    version: '1.0.0',
    file: 'box.onnx',
    sha256: '0'.repeat(64),
    description: '',
    card: '',
    recipe: '',
    task: 'nodule-heatmap',
    contract: {
      inputName: 'volume',
      spacingMm: 1.5,
      huWindow: [-1000, 400],
      haloVoxels: 1,
      responseOutput: 'response',
      radiusOutput: 'radiusMm',
      minResponse: 0,
      ...(patchSize && { patchSize }),
    },
  } as HeatmapModelEntry;
  return { entry, session: await ort.InferenceSession.create(bytes) };
}

function randomGrid(shape: [number, number, number]) {
  let state = 7;
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  });
  return { data, shape };
}

describe('runHeatmap', () => {
  const grid = randomGrid([23, 17, 19]);

  it('gives the same output whole and in slabs that fit a small voxel budget', async () => {
    const model = await boxFilterModel();
    const whole = await runHeatmap(model, grid, { maxTileVoxels: 1e9 });
    expect(whole.tiles).toBe(1);
    const tiles: number[] = [];
    const slabs = await runHeatmap(model, grid, {
      maxTileVoxels: 5 * 17 * 19,
      onTile: (done) => tiles.push(done),
    });
    expect(slabs.tiles).toBeGreaterThan(3);
    expect(tiles).toEqual(Array.from({ length: slabs.tiles }, (_, k) => k + 1));
    let worst = 0;
    for (let i = 0; i < whole.response.length; i += 1)
      worst = Math.max(worst, Math.abs(whole.response[i]! - slabs.response[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(slabs.radiusMm?.every((r) => r === 5)).toBe(true);
  });

  it('runs a fixed-patch model sliding-window over all three axes with the same result', async () => {
    const whole = await runHeatmap(await boxFilterModel(), grid, { maxTileVoxels: 1e9 });
    const patched = await runHeatmap(await boxFilterModel([8, 8, 8]), grid, { maxTileVoxels: 1e9 });
    expect(patched.tiles).toBe(4 * 3 * 4);
    let worst = 0;
    for (let i = 0; i < whole.response.length; i += 1)
      worst = Math.max(worst, Math.abs(whole.response[i]! - patched.response[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it('refuses a model whose outputs break the contract', async () => {
    const model = await boxFilterModel();
    const broken = {
      ...model,
      entry: {
        ...model.entry,
        contract: { ...model.entry.contract, responseOutput: 'radiusMm', radiusOutput: 'nothing' },
      },
    };
    await expect(runHeatmap(broken, grid, { maxTileVoxels: 1e9 })).rejects.toMatchObject({
      code: 'MODEL_CONTRACT_VIOLATED',
    });
  });
});
