import type { CtVolume, Vec3 } from '../volume/volume.js';
import { findCandidates, type Candidate } from './find-candidates.js';
import { segmentLungs, type LungMask } from './lung-segmentation.js';
import type { HeatmapModelEntry } from './model-manifest.js';
import type { LoadedModel } from './model-registry.js';
import { modelToSourceIjk, resampleForModel, type ModelInput } from './resample.js';
import { runHeatmap, type ModelGrid } from './run-heatmap.js';
import { smallCandidates, type SmallCandidateOptions } from './small-candidates.js';
import { subSolidCandidates, type SubSolidCandidateOptions } from './sub-solid-candidates.js';
import { tissueCandidates } from './tissue-candidates.js';

/** Tissue candidates: voxels denser than this (HU) in the lungs, opened by OPENING_MM, at least this diameter. */
const TISSUE_HU = -500;
const OPENING_MM = 3;
const MIN_TISSUE_DIAMETER_MM = 8;
/** Margin around the lungs' bounding box given to the model, mm (its filters reach beyond the lungs). */
const LUNG_BOX_MARGIN_MM = 10;

export interface CandidateStageOptions {
  /** Voxels per inference call of the heatmap model (memory budget, see runHeatmap). */
  maxTileVoxels: number;
  /** Most blob candidates kept (highest response first). */
  maxCandidates: number;
  /** Blob candidates of at least this radius (mm) are kept beyond maxCandidates (see findCandidates). */
  keepAllFromRadiusMm?: number;
  /** A second blob search for ground-glass and part-solid nodules (see sub-solid-candidates.ts). */
  subSolid?: SubSolidCandidateOptions;
  /** A third search for nodules of 3-6 mm, among the small maxima the cap drops (see small-candidates.ts). */
  small?: SmallCandidateOptions;
  onProgress?: (stage: string, fraction: number) => void;
  /** Adds the stage's duration (ms) under its name. */
  time: <T>(stage: string, work: () => T | Promise<T>) => Promise<T>;
}

/** What the candidate stage found in one CT, with the grids the classifiers read. */
export interface CandidateStage {
  lungs: LungMask;
  /** The lungs' bounding box (plus margin) on the heatmap model's isotropic grid, with the way back. */
  input: ModelInput;
  grid: ModelGrid;
  heatmap: Float32Array;
  /** The heatmap's radius output per grid voxel, mm (undefined for a model without one). */
  heatmapRadiusMm: Float32Array | undefined;
  /** Blob maxima and tissue components in the lungs, model-grid coordinates. */
  candidates: Candidate[];
  /** Whether a model-grid voxel lies in the lung mask. */
  inLungs: (x: number, y: number, z: number) => boolean;
  /** Source voxel index (continuous) of a candidate. */
  toIjk: (candidate: Candidate) => Vec3;
}

/**
 * The detector's first stage on one CT volume:
 * 1. lung segmentation (the model sees the lungs' bounding box; candidates outside the lungs are dropped);
 * 2. resampling to the heatmap model's isotropic spacing and HU window;
 * 3. the heatmap model (sliding-window within the memory budget);
 * 4. candidates = local maxima of the heatmap in the lungs, plus compact tissue components (masses against
 *    the chest wall, see tissue-candidates.ts), plus, where the detector asks for them, the maxima of the
 *    heatmap on the grid clipped at a ground-glass density (sub-solid-candidates.ts), and the most blob-like
 *    of the small maxima that the cap dropped (small-candidates.ts).
 * Returns undefined when the volume holds no lungs (under 1 mL).
 */
export async function runCandidateStage(
  volume: CtVolume,
  heatmapModel: LoadedModel<HeatmapModelEntry>,
  options: CandidateStageOptions,
): Promise<CandidateStage | undefined> {
  const contract = heatmapModel.entry.contract;
  const lungs = await options.time('lungMask', () => segmentLungs(volume));
  options.onProgress?.('lung-mask', 1);
  if (lungs.volumeMl < 1) return undefined;
  const box = paddedBox(volume, lungs.boundsIjk, LUNG_BOX_MARGIN_MM);
  const input = await options.time('resample', () =>
    resampleForModel(volume, { spacingMm: contract.spacingMm, boxIjk: box, huWindow: contract.huWindow }),
  );
  const grid: ModelGrid = { data: input.data, shape: [input.shape[2], input.shape[3], input.shape[4]] };
  const heatmap = await options.time('heatmap', () =>
    runHeatmap(heatmapModel, grid, {
      maxTileVoxels: options.maxTileVoxels,
      onTile: (done, total) => options.onProgress?.('heatmap', done / total),
    }),
  );
  const [nx, ny, nz] = volume.dimensions;
  const inLungs = (x: number, y: number, z: number) => {
    const [i, j, k] = modelToSourceIjk(input, [x, y, z]).map(Math.round) as Vec3;
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return false;
    return lungs.mask[i + nx * (j + ny * k)] === 1;
  };
  const candidates = await options.time('candidates', async () => {
    const blobs = findCandidates({ data: heatmap.response, shape: grid.shape }, heatmap.radiusMm, {
      minResponse: contract.minResponse,
      maxCandidates: options.maxCandidates,
      ...(options.keepAllFromRadiusMm !== undefined && { keepAllFromRadiusMm: options.keepAllFromRadiusMm }),
      spacingMm: contract.spacingMm,
      inLungs,
    });
    const [low, high] = contract.huWindow;
    const masses = tissueCandidates(grid, heatmap.response, {
      spacingMm: contract.spacingMm,
      threshold: (TISSUE_HU - low) / (high - low),
      openingVoxels: Math.max(1, Math.round(OPENING_MM / contract.spacingMm)),
      minDiameterMm: MIN_TISSUE_DIAMETER_MM,
      inLungs,
    });
    const subSolid = options.subSolid
      ? await subSolidCandidates(heatmapModel, grid, {
          ...options.subSolid,
          maxTileVoxels: options.maxTileVoxels,
          inLungs,
        })
      : [];
    // With the small-nodule search, the small blob maxima that the cap kept are its candidates too: they are
    // scored by its classifier, which sees the source voxels (a 3-6 mm nodule is 2-4 grid voxels).
    if (options.small) {
      for (const blob of blobs) if (blob.radiusMm < options.small.maxRadiusMm) blob.source = 'small';
    }
    // A tissue or sub-solid candidate at a blob candidate already found is the same object.
    for (const extra of [...masses, ...subSolid.map((c) => ({ ...c, source: 'sub-solid' as const }))]) {
      const known = blobs.some(
        (c) =>
          Math.hypot(c.x - extra.x, c.y - extra.y, c.z - extra.z) * contract.spacingMm < extra.radiusMm / 2,
      );
      if (!known) blobs.push(extra);
    }
    if (options.small) {
      blobs.push(
        ...smallCandidates({ data: heatmap.response, shape: grid.shape }, heatmap.radiusMm, blobs, {
          ...options.small,
          spacingMm: contract.spacingMm,
          inLungs,
        }),
      );
    }
    return blobs;
  });
  return {
    lungs,
    input,
    grid,
    heatmap: heatmap.response,
    heatmapRadiusMm: heatmap.radiusMm,
    candidates,
    inLungs,
    toIjk: (c) => modelToSourceIjk(input, [c.x, c.y, c.z]),
  };
}

function paddedBox(
  volume: CtVolume,
  bounds: [number, number, number, number, number, number],
  marginMm: number,
): [number, number, number, number, number, number] {
  const [nx, ny, nz] = volume.dimensions;
  const pad = volume.spacingMm.map((s) => Math.ceil(marginMm / s)) as Vec3;
  return [
    Math.max(0, bounds[0] - pad[0]),
    Math.max(0, bounds[1] - pad[1]),
    Math.max(0, bounds[2] - pad[2]),
    Math.min(nx - 1, bounds[3] + pad[0]),
    Math.min(ny - 1, bounds[4] + pad[1]),
    Math.min(nz - 1, bounds[5] + pad[2]),
  ];
}
