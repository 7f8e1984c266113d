import { findCandidates, type Candidate } from './find-candidates.js';
import type { HeatmapModelEntry } from './model-manifest.js';
import type { LoadedModel } from './model-registry.js';
import { runHeatmap, type ModelGrid } from './run-heatmap.js';

/** The sub-solid candidate source of a detector (its manifest entry's `subSolidCandidates`). */
export interface SubSolidCandidateOptions {
  /** The model grid is clipped at this HU before the blob filter runs again. */
  clipHu: number;
  /** Maxima of the clipped heatmap need at least this response (input units, as the contract's minResponse). */
  minResponse: number;
  /**
   * ... and at least this radius, mm (smaller ones are the texture inside ground glass, vessels and noise;
   * they are dropped before non-maximum suppression, so a vessel's maximum does not suppress the nodule's).
   */
  minRadiusMm: number;
}

/**
 * Candidates for ground-glass and part-solid nodules: blob maxima of the heatmap model run once more on the
 * grid clipped at `clipHu` (e.g. -550 HU). On the unclipped grid a ground-glass nodule (-700 to -500 HU, some
 * 200 HU above the parenchyma) is outshone by the vessels inside and beside it (900 HU above it): its
 * strongest maxima are vessel cross-sections of 2 mm radius, which the cap on small candidates cuts, or its
 * response is carried off by a brighter neighbour. Clipped, a vessel is no brighter than the glass, and the
 * nodule's own maximum, at its own scale, appears. Returns model-grid candidates in the lungs.
 */
export async function subSolidCandidates(
  heatmapModel: LoadedModel<HeatmapModelEntry>,
  grid: ModelGrid,
  options: SubSolidCandidateOptions & {
    maxTileVoxels: number;
    inLungs: (x: number, y: number, z: number) => boolean;
  },
): Promise<Candidate[]> {
  const contract = heatmapModel.entry.contract;
  const [low, high] = contract.huWindow;
  const level = (options.clipHu - low) / (high - low);
  const clipped = new Float32Array(grid.data.length);
  for (let v = 0; v < clipped.length; v += 1) clipped[v] = Math.min(grid.data[v]!, level);
  const heatmap = await runHeatmap(
    heatmapModel,
    { data: clipped, shape: grid.shape },
    { maxTileVoxels: options.maxTileVoxels },
  );
  return findCandidates({ data: heatmap.response, shape: grid.shape }, heatmap.radiusMm, {
    minResponse: options.minResponse,
    maxCandidates: Number.MAX_SAFE_INTEGER,
    minRadiusMm: options.minRadiusMm,
    spacingMm: contract.spacingMm,
    inLungs: options.inLungs,
  });
}
