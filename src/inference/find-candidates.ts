import type { ModelGrid } from './run-heatmap.js';

/** A local maximum of a heatmap, in model-grid voxels (x along i, y along j, z along k). */
export interface Candidate {
  x: number;
  y: number;
  z: number;
  response: number;
  radiusMm: number;
  /**
   * Which search found it (candidate-stage.ts): absent, the heatmap's maxima; 'sub-solid', the maxima on the
   * grid clipped at a ground-glass density (sub-solid-candidates.ts), which a detector may score with a
   * classifier of their own; 'small', the blob-like small maxima beyond the main search's cap
   * (small-candidates.ts), scored by the small-nodule classifier.
   */
  source?: 'sub-solid' | 'small';
}

export interface FindCandidatesOptions {
  minResponse: number;
  /** Most candidates kept, highest response first (but see keepAllFromRadiusMm). */
  maxCandidates: number;
  /**
   * Candidates of at least this radius (mm) are kept beyond the cap: the cap then only limits the small
   * maxima (noise, vessel cross-sections, which outnumber everything else by 10 to 1), so a faint large
   * ground-glass nodule is never pushed out by thousands of small bright ones. Default: no exemption.
   */
  keepAllFromRadiusMm?: number;
  /** Maxima of smaller radius (mm) are dropped before non-maximum suppression; default: none. */
  minRadiusMm?: number;
  /** Model voxel size, mm (isotropic). */
  spacingMm: number;
  /** Whether a model voxel lies in the lungs; maxima elsewhere are dropped. */
  inLungs: (x: number, y: number, z: number) => boolean;
  /** Used where the model gives no radius output. */
  defaultRadiusMm?: number;
}

/**
 * Local maxima of the response (greater than or equal to all 26 neighbours, strictly greater than those
 * before it in scan order, so a plateau gives one maximum) inside the lungs, then non-maximum suppression:
 * a weaker maximum within the radius of a stronger one is the same blob.
 */
export function findCandidates(
  heatmap: ModelGrid,
  radiusMm: Float32Array | undefined,
  options: FindCandidatesOptions,
): Candidate[] {
  const found: Candidate[] = [];
  forEachLocalMaximum(heatmap, options.minResponse, (x, y, z, index, value) => {
    const radius = radiusMm?.[index] ?? options.defaultRadiusMm ?? 5;
    if (radius < (options.minRadiusMm ?? 0)) return;
    if (!options.inLungs(x, y, z)) return;
    found.push({ x, y, z, response: value, radiusMm: radius });
  });
  found.sort((a, b) => b.response - a.response);
  const kept: Candidate[] = [];
  const exempt = options.keepAllFromRadiusMm ?? Infinity;
  let capped = 0;
  for (const candidate of found) {
    const counts = candidate.radiusMm < exempt;
    if (counts && capped >= options.maxCandidates) continue;
    const duplicate = kept.some((k) => {
      const distanceMm =
        Math.hypot(k.x - candidate.x, k.y - candidate.y, k.z - candidate.z) * options.spacingMm;
      return distanceMm < Math.max(k.radiusMm, options.spacingMm * 2);
    });
    if (duplicate) continue;
    kept.push(candidate);
    if (counts) capped += 1;
    if (exempt === Infinity && capped >= options.maxCandidates) break;
  }
  return kept;
}

/**
 * Calls `visit` for every local maximum of the heatmap of at least `minResponse` (see isLocalMaximum), in scan
 * order, the grid's border voxels excepted.
 */
export function forEachLocalMaximum(
  heatmap: ModelGrid,
  minResponse: number,
  visit: (x: number, y: number, z: number, index: number, value: number) => void,
): void {
  const { data, shape } = heatmap;
  const [D, H, W] = shape;
  const plane = H * W;
  for (let z = 1; z < D - 1; z += 1)
    for (let y = 1; y < H - 1; y += 1)
      for (let x = 1; x < W - 1; x += 1) {
        const index = x + W * y + plane * z;
        const value = data[index]!;
        if (value < minResponse) continue;
        if (isLocalMaximum(data, index, value, W, plane)) visit(x, y, z, index, value);
      }
}

/** Whether data[index] is a local maximum of its 26 neighbours (ties go to the first in scan order). */
function isLocalMaximum(data: Float32Array, index: number, value: number, W: number, plane: number): boolean {
  for (let dz = -1; dz <= 1; dz += 1)
    for (let dy = -1; dy <= 1; dy += 1)
      for (let dx = -1; dx <= 1; dx += 1) {
        const offset = dx + W * dy + plane * dz;
        if (offset === 0) continue;
        const neighbour = data[index + offset]!;
        if (neighbour > value || (neighbour === value && offset < 0)) return false;
      }
  return true;
}
