import * as ort from 'onnxruntime-node';
import { DomainError } from '../shared/errors.js';
import type { HeatmapModelEntry } from './model-manifest.js';
import type { LoadedModel } from './model-registry.js';

/** A model-grid volume: `data[x + W*(y + H*z)]` with shape [D, H, W] (z along k, y along j, x along i). */
export interface ModelGrid {
  data: Float32Array;
  shape: [number, number, number];
}

export interface HeatmapOutput {
  response: Float32Array;
  radiusMm: Float32Array | undefined;
  tiles: number;
}

export interface RunHeatmapOptions {
  /**
   * Most voxels given to one inference call (the memory budget: onnxruntime's intermediates grow with
   * it). A larger input is run tile by tile; tiles overlap by twice the model's halo.
   */
  maxTileVoxels: number;
  /** Called after each tile (for heartbeats). */
  onTile?: (done: number, total: number) => void;
}

/**
 * Runs a nodule-heatmap model over a whole model-grid volume, sliding-window where it does not fit one call
 * (or where the model has a fixed patch size). Outside the volume, tiles are padded with 0 (the lower end of
 * the HU window: air). Each output voxel comes from the tile where it lies at least `haloVoxels` from the
 * tile's cut edges, so tiling does not change the result.
 */
export async function runHeatmap(
  model: LoadedModel<HeatmapModelEntry>,
  input: ModelGrid,
  options: RunHeatmapOptions,
): Promise<HeatmapOutput> {
  const { contract } = model.entry;
  const [D, H, W] = input.shape;
  const halo = contract.haloVoxels;
  const tile = tileSize(input.shape, contract.patchSize, halo, options.maxTileVoxels);
  const step = tile.map((t, axis) => (contract.patchSize || t < input.shape[axis]! ? t - 2 * halo : t)) as [
    number,
    number,
    number,
  ];
  if (step.some((s) => s < 1)) {
    throw new DomainError(
      'MODEL_CONTRACT_VIOLATED',
      `model ${model.entry.id}: tile ${tile.join('x')} leaves no core inside a halo of ${halo} voxels`,
    );
  }
  const response = new Float32Array(D * H * W);
  const radiusMm = contract.radiusOutput ? new Float32Array(D * H * W) : undefined;
  const starts = (axis: 0 | 1 | 2) => {
    const n = input.shape[axis];
    if (tile[axis] >= n && !contract.patchSize) return [0];
    const list: number[] = [];
    for (let core = 0; core < n; core += step[axis]) list.push(core);
    return list;
  };
  const grid = { z: starts(0), y: starts(1), x: starts(2) };
  const total = grid.z.length * grid.y.length * grid.x.length;
  let done = 0;
  for (const cz of grid.z)
    for (const cy of grid.y)
      for (const cx of grid.x) {
        // The tile's first voxel in volume coordinates: the core start minus the halo (when tiled on that axis).
        const origin = [cz, cy, cx].map((core, axis) =>
          tile[axis]! >= input.shape[axis]! && !contract.patchSize ? 0 : core - halo,
        ) as [number, number, number];
        const tensorData = extractTile(input, origin, tile);
        const feeds = { [contract.inputName]: new ort.Tensor('float32', tensorData, [1, 1, ...tile]) };
        const outputs = await model.session.run(feeds);
        const responseTile = outputData(outputs, contract.responseOutput, tile, model.entry.id);
        const radiusTile = contract.radiusOutput
          ? outputData(outputs, contract.radiusOutput, tile, model.entry.id)
          : undefined;
        const core = [cz, cy, cx].map((c, axis) => [c, Math.min(c + step[axis]!, input.shape[axis]!)]) as [
          [number, number],
          [number, number],
          [number, number],
        ];
        writeCore(response, responseTile, input.shape, origin, tile, core);
        if (radiusMm && radiusTile) writeCore(radiusMm, radiusTile, input.shape, origin, tile, core);
        for (const output of Object.values(outputs)) output.dispose();
        done += 1;
        options.onTile?.(done, total);
      }
  return { response, radiusMm, tiles: total };
}

/** Tile shape [D, H, W]: the model's patch, or slabs of whole slices sized to the voxel budget. */
function tileSize(
  shape: [number, number, number],
  patchSize: [number, number, number] | undefined,
  halo: number,
  maxTileVoxels: number,
): [number, number, number] {
  if (patchSize) return patchSize;
  const [D, H, W] = shape;
  if (D * H * W <= maxTileVoxels) return shape;
  // Even depth (and the halo is even for our models): tiles start on even slices, so a model that works on
  // a grid decimated by 2 sees the same coarse voxels as in one whole run.
  const depth = Math.max(2 * halo + 2, Math.floor(maxTileVoxels / (H * W))) & ~1;
  return [Math.min(depth, D + 2 * halo), H, W];
}

function extractTile(
  input: ModelGrid,
  origin: [number, number, number],
  tile: [number, number, number],
): Float32Array {
  const [D, H, W] = input.shape;
  const [oz, oy, ox] = origin;
  const [td, th, tw] = tile;
  // Whole slices in a row: a view, no copy.
  if (oy === 0 && ox === 0 && th === H && tw === W && oz >= 0 && oz + td <= D) {
    return input.data.subarray(oz * H * W, (oz + td) * H * W);
  }
  const out = new Float32Array(td * th * tw);
  for (let z = 0; z < td; z += 1) {
    const sz = oz + z;
    if (sz < 0 || sz >= D) continue;
    for (let y = 0; y < th; y += 1) {
      const sy = oy + y;
      if (sy < 0 || sy >= H) continue;
      const x0 = Math.max(0, -ox);
      const x1 = Math.min(tw, W - ox);
      if (x1 <= x0) continue;
      const from = (sz * H + sy) * W + ox;
      out.set(input.data.subarray(from + x0, from + x1), (z * th + y) * tw + x0);
    }
  }
  return out;
}

function writeCore(
  target: Float32Array,
  tileData: Float32Array,
  shape: [number, number, number],
  origin: [number, number, number],
  tile: [number, number, number],
  core: [[number, number], [number, number], [number, number]],
): void {
  const [, H, W] = shape;
  const [, th, tw] = tile;
  const [[z0, z1], [y0, y1], [x0, x1]] = core;
  for (let z = z0; z < z1; z += 1)
    for (let y = y0; y < y1; y += 1) {
      const from = ((z - origin[0]) * th + (y - origin[1])) * tw + (x0 - origin[2]);
      target.set(tileData.subarray(from, from + (x1 - x0)), (z * H + y) * W + x0);
    }
}

function outputData(
  outputs: ort.InferenceSession.OnnxValueMapType,
  name: string,
  tile: [number, number, number],
  modelId: string,
): Float32Array {
  const tensor = outputs[name];
  const expected = tile[0] * tile[1] * tile[2];
  if (!tensor || tensor.type !== 'float32' || tensor.size !== expected) {
    throw new DomainError(
      'MODEL_CONTRACT_VIOLATED',
      `model ${modelId}: output ${name} should be float32 [1,1,${tile.join(',')}], ` +
        `got ${tensor ? `${tensor.type} [${tensor.dims.join(',')}]` : 'nothing'}`,
    );
  }
  return tensor.data as Float32Array;
}
