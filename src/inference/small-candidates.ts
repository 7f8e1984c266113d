import { forEachLocalMaximum, type Candidate } from './find-candidates.js';
import type { ModelGrid } from './run-heatmap.js';

/** The small-nodule candidate source of a detector (its manifest entry's `smallCandidates`). */
export interface SmallCandidateOptions {
  /**
   * Maxima of the heatmap below this radius (mm) are this search's: those the main search keeps (candidate-
   * stage.ts) and, beyond its cap (keepAllFromRadiusMm), the most blob-like of the rest.
   */
  maxRadiusMm: number;
  /** ... with at least this response (input units, as the contract's minResponse). */
  minResponse: number;
  /** Most kept per scan, the most blob-like (blobness × response) first. */
  maxCandidates: number;
}

/**
 * Blobness of a heatmap maximum: the smallest over the largest curvature of the response there (the
 * eigenvalues of its Hessian, by central differences on the grid), 0 unless it curves down along every
 * axis. A small nodule is a maximum in all three directions (near 1); a vessel's cross-section is a ridge
 * that runs on along the vessel (near 0), and vessels outnumber small nodules a hundred to one among the
 * heatmap's small maxima.
 */
export function blobness(
  data: Float32Array,
  shape: [number, number, number],
  x: number,
  y: number,
  z: number,
): number {
  const [, H, W] = shape;
  const at = (dx: number, dy: number, dz: number) => data[x + dx + W * (y + dy + H * (z + dz))]!;
  const c = at(0, 0, 0);
  const xx = at(1, 0, 0) + at(-1, 0, 0) - 2 * c;
  const yy = at(0, 1, 0) + at(0, -1, 0) - 2 * c;
  const zz = at(0, 0, 1) + at(0, 0, -1) - 2 * c;
  const xy = (at(1, 1, 0) - at(1, -1, 0) - at(-1, 1, 0) + at(-1, -1, 0)) / 4;
  const xz = (at(1, 0, 1) - at(1, 0, -1) - at(-1, 0, 1) + at(-1, 0, -1)) / 4;
  const yz = (at(0, 1, 1) - at(0, 1, -1) - at(0, -1, 1) + at(0, -1, -1)) / 4;
  const [l1, , l3] = symmetricEigenvalues(xx, yy, zz, xy, xz, yz);
  // Descending: l1 >= l2 >= l3; at a maximum all are <= 0 and the weakest curvature is l1.
  if (l1 >= 0 || l3 >= 0) return 0;
  return l1 / l3;
}

/**
 * Eigenvalues of the symmetric 3×3 matrix [[a, d, e], [d, b, f], [e, f, c]], descending (the trigonometric
 * solution of the characteristic cubic).
 */
export function symmetricEigenvalues(
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
): [number, number, number] {
  const p1 = d * d + e * e + f * f;
  if (p1 === 0) {
    const sorted = [a, b, c].sort((u, v) => v - u);
    return [sorted[0]!, sorted[1]!, sorted[2]!];
  }
  const q = (a + b + c) / 3;
  const p2 = (a - q) ** 2 + (b - q) ** 2 + (c - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  // B = (A - qI) / p; r = det(B) / 2, clamped to [-1, 1] against rounding.
  const [ba, bb, bc, bd, be, bf] = [(a - q) / p, (b - q) / p, (c - q) / p, d / p, e / p, f / p];
  const det = ba * (bb * bc - bf * bf) - bd * (bd * bc - bf * be) + be * (bd * bf - bb * be);
  const r = Math.max(-1, Math.min(1, det / 2));
  const phi = Math.acos(r) / 3;
  const first = q + 2 * p * Math.cos(phi);
  const third = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  return [first, 3 * q - first - third, third];
}

/**
 * Candidates for nodules of 3-6 mm: the heatmap's small maxima (radius under `maxRadiusMm`) in the lungs that
 * no candidate of the main search (`known`) already stands for, ranked by blobness × response, the best
 * `maxCandidates` after non-maximum suppression. The main search keeps only the strongest of them (its cap),
 * and those are mostly vessel cross-sections: a 3-6 mm nodule's response is no stronger than a vessel's, but
 * its shape is a blob's. Model-grid coordinates; source 'small'.
 */
export function smallCandidates(
  heatmap: ModelGrid,
  radiusMm: Float32Array | undefined,
  known: Candidate[],
  options: SmallCandidateOptions & {
    spacingMm: number;
    inLungs: (x: number, y: number, z: number) => boolean;
  },
): Candidate[] {
  const found: (Candidate & { rank: number })[] = [];
  forEachLocalMaximum(heatmap, options.minResponse, (x, y, z, index, value) => {
    const radius = radiusMm?.[index] ?? 0;
    if (radius >= options.maxRadiusMm) return;
    const shapeScore = blobness(heatmap.data, heatmap.shape, x, y, z);
    if (shapeScore === 0) return;
    if (!options.inLungs(x, y, z)) return;
    found.push({ x, y, z, response: value, radiusMm: radius, source: 'small', rank: shapeScore * value });
  });
  found.sort((a, b) => b.rank - a.rank);
  // Suppression on hashes of cells as large as the farthest reach (2 grid voxels, or the radius up to
  // maxRadiusMm), so a point's neighbours lie in the 27 cells around its own.
  const reachVoxels = Math.max(2, options.maxRadiusMm / options.spacingMm);
  const cell = Math.ceil(reachVoxels);
  const knownPoints = new PointHash(cell);
  for (const c of known) knownPoints.add(c);
  const keptPoints = new PointHash(cell);
  const reachOf = (c: Candidate) => Math.min(Math.max(c.radiusMm / options.spacingMm, 2), reachVoxels);
  const kept: Candidate[] = [];
  for (const { rank: _rank, ...candidate } of found) {
    if (kept.length >= options.maxCandidates) break;
    if (knownPoints.anyWithin(candidate, () => 2) || keptPoints.anyWithin(candidate, reachOf)) continue;
    kept.push(candidate);
    keptPoints.add(candidate);
  }
  return kept;
}

/** Candidates hashed by grid cell (`cell` voxels a side), for the neighbours of a point within one cell. */
class PointHash {
  private readonly cells = new Map<number, Candidate[]>();
  constructor(private readonly cell: number) {}

  private key(x: number, y: number, z: number): number {
    return x + 4096 * (y + 4096 * z);
  }

  add(c: Candidate): void {
    const k = this.key(Math.floor(c.x / this.cell), Math.floor(c.y / this.cell), Math.floor(c.z / this.cell));
    const list = this.cells.get(k);
    if (list) list.push(c);
    else this.cells.set(k, [c]);
  }

  /** Whether a hashed candidate lies closer to `point` than `reach(it)` voxels (at most `cell`). */
  anyWithin(point: { x: number; y: number; z: number }, reach: (other: Candidate) => number): boolean {
    const cx = Math.floor(point.x / this.cell);
    const cy = Math.floor(point.y / this.cell);
    const cz = Math.floor(point.z / this.cell);
    for (let dz = -1; dz <= 1; dz += 1)
      for (let dy = -1; dy <= 1; dy += 1)
        for (let dx = -1; dx <= 1; dx += 1)
          for (const other of this.cells.get(this.key(cx + dx, cy + dy, cz + dz)) ?? []) {
            if (Math.hypot(other.x - point.x, other.y - point.y, other.z - point.z) < reach(other))
              return true;
          }
    return false;
  }
}
