import type { Candidate } from './find-candidates.js';
import type { ModelGrid } from './run-heatmap.js';

/**
 * Features of a candidate for the false-positive classifier, in this order (the classifier's contract).
 * All are measured on the model grid (isotropic voxels), so they do not depend on the scanner's spacing.
 */
export const CANDIDATE_FEATURE_NAMES = [
  /** The heatmap's scale-normalised blob response at the candidate. */
  'response',
  /** Blob radius from the heatmap's best scale, mm. */
  'radiusMm',
  /**
   * Hessian eigenvalues of the image smoothed at the candidate's scale, sorted by magnitude |l1| >= |l2| >= |l3|:
   * l2/l1 and l3/l1. A blob has all three alike (both near 1), a vessel (tube) has l3 near 0, a fissure
   * (plate) has l2 and l3 near 0. Negative where the curvature is the other way (a dark direction).
   */
  'hessianRatio21',
  'hessianRatio31',
  /** Mean HU within half the radius. */
  'coreHu',
  /** Core mean minus the mean of the shell between 1.5 and 2 radii, HU. */
  'contrastHu',
  /** Fraction of the sphere of 2 radii that lies in the lungs (low next to the pleura or mediastinum). */
  'lungFraction',
  /** Standard deviation of HU within the radius (texture). */
  'coreStdHu',
  /**
   * Height of the candidate in the lungs' bounding box, along LPS z: 0 at the lung bases (diaphragm domes),
   * 1 at the apices. Tissue bulging into the bases is a common false positive; most tumours lie higher.
   */
  'heightInLungs',
  /** Distance from the midline between the lungs over half their width: 0 mediastinum, 1 lateral chest wall. */
  'lateralInLungs',
] as const;

export interface FeatureContext {
  /** The normalised model input: value (clip(HU) - low) / (high - low). */
  input: ModelGrid;
  huWindow: [number, number];
  spacingMm: number;
  inLungs: (x: number, y: number, z: number) => boolean;
  /** Position of a candidate (model grid) in the lungs: [heightInLungs, lateralInLungs], see the features. */
  positionInLungs: (candidate: Candidate) => [number, number];
}

/** The feature matrix [N, F] (row-major float32) for the candidates. */
export function candidateFeatures(candidates: readonly Candidate[], context: FeatureContext): Float32Array {
  const F = CANDIDATE_FEATURE_NAMES.length;
  const out = new Float32Array(candidates.length * F);
  candidates.forEach((candidate, n) => out.set(featuresOf(candidate, context), n * F));
  return out;
}

function featuresOf(candidate: Candidate, context: FeatureContext): number[] {
  const { input, huWindow, spacingMm } = context;
  const [low, high] = huWindow;
  const toHu = (v: number) => low + v * (high - low);
  const radiusVoxels = Math.max(1, candidate.radiusMm / spacingMm);
  const [r21, r31] = hessianRatios(input, candidate, radiusVoxels / Math.sqrt(3));

  let coreSum = 0;
  let coreCount = 0;
  let innerSum = 0;
  let innerSquares = 0;
  let innerCount = 0;
  let shellSum = 0;
  let shellCount = 0;
  let lung = 0;
  let sphere = 0;
  const reach = Math.ceil(2 * radiusVoxels);
  const [D, H, W] = input.shape;
  // Sparse sampling for large candidates keeps the cost per candidate bounded (~30^3 samples).
  const stride = Math.max(1, Math.floor(reach / 15));
  for (let dz = -reach; dz <= reach; dz += stride)
    for (let dy = -reach; dy <= reach; dy += stride)
      for (let dx = -reach; dx <= reach; dx += stride) {
        const x = candidate.x + dx;
        const y = candidate.y + dy;
        const z = candidate.z + dz;
        if (x < 0 || y < 0 || z < 0 || x >= W || y >= H || z >= D) continue;
        const r = Math.hypot(dx, dy, dz) / radiusVoxels;
        if (r > 2) continue;
        sphere += 1;
        if (context.inLungs(x, y, z)) lung += 1;
        const hu = toHu(input.data[x + W * (y + H * z)]!);
        if (r <= 0.5) {
          coreSum += hu;
          coreCount += 1;
        }
        if (r <= 1) {
          innerSum += hu;
          innerSquares += hu * hu;
          innerCount += 1;
        } else if (r >= 1.5) {
          shellSum += hu;
          shellCount += 1;
        }
      }
  const coreHu = coreCount
    ? coreSum / coreCount
    : toHu(input.data[candidate.x + W * (candidate.y + H * candidate.z)]!);
  const shellHu = shellCount ? shellSum / shellCount : low;
  const innerMean = innerCount ? innerSum / innerCount : coreHu;
  const coreStdHu = innerCount
    ? Math.sqrt(Math.max(0, innerSquares / innerCount - innerMean * innerMean))
    : 0;
  return [
    candidate.response,
    candidate.radiusMm,
    r21,
    r31,
    coreHu,
    coreHu - shellHu,
    sphere ? lung / sphere : 0,
    coreStdHu,
    ...context.positionInLungs(candidate),
  ];
}

/**
 * Hessian of the image convolved with a Gaussian of `sigma` voxels, at the candidate's voxel, as Gaussian
 * second-derivative weighted sums over a window of 2.5 sigma (sparse for large sigma); then the
 * eigenvalue ratios l2/l1 and l3/l1 by magnitude.
 */
function hessianRatios(input: ModelGrid, candidate: Candidate, sigma: number): [number, number] {
  const [D, H, W] = input.shape;
  const reach = Math.ceil(2.5 * sigma);
  const stride = Math.max(1, Math.floor(reach / 12));
  const s2 = sigma * sigma;
  let hxx = 0;
  let hyy = 0;
  let hzz = 0;
  let hxy = 0;
  let hxz = 0;
  let hyz = 0;
  for (let dz = -reach; dz <= reach; dz += stride)
    for (let dy = -reach; dy <= reach; dy += stride)
      for (let dx = -reach; dx <= reach; dx += stride) {
        const x = Math.min(W - 1, Math.max(0, candidate.x + dx));
        const y = Math.min(H - 1, Math.max(0, candidate.y + dy));
        const z = Math.min(D - 1, Math.max(0, candidate.z + dz));
        const v = input.data[x + W * (y + H * z)]!;
        const g = Math.exp(-(dx * dx + dy * dy + dz * dz) / (2 * s2));
        // d2G/da db = G * (a b / s^4 - [a == b] / s^2); the common factor does not change the ratios.
        hxx += v * g * ((dx * dx) / s2 - 1);
        hyy += v * g * ((dy * dy) / s2 - 1);
        hzz += v * g * ((dz * dz) / s2 - 1);
        hxy += v * g * ((dx * dy) / s2);
        hxz += v * g * ((dx * dz) / s2);
        hyz += v * g * ((dy * dz) / s2);
      }
  const eigen = symmetricEigenvalues3(hxx, hyy, hzz, hxy, hxz, hyz).sort((a, b) => Math.abs(b) - Math.abs(a));
  const [l1, l2, l3] = eigen as [number, number, number];
  if (l1 === 0) return [0, 0];
  // A bright blob has negative curvature in all directions: ratios are positive where curvature agrees with l1.
  return [l2 / l1, l3 / l1];
}

/** Eigenvalues of a symmetric 3x3 matrix (closed form, Smith 1961). */
export function symmetricEigenvalues3(
  a11: number,
  a22: number,
  a33: number,
  a12: number,
  a13: number,
  a23: number,
): number[] {
  const p1 = a12 * a12 + a13 * a13 + a23 * a23;
  if (p1 === 0) return [a11, a22, a33];
  const q = (a11 + a22 + a33) / 3;
  const p2 = (a11 - q) ** 2 + (a22 - q) ** 2 + (a33 - q) ** 2 + 2 * p1;
  const p = Math.sqrt(p2 / 6);
  const b11 = (a11 - q) / p;
  const b22 = (a22 - q) / p;
  const b33 = (a33 - q) / p;
  const b12 = a12 / p;
  const b13 = a13 / p;
  const b23 = a23 / p;
  const det = b11 * (b22 * b33 - b23 * b23) - b12 * (b12 * b33 - b23 * b13) + b13 * (b12 * b23 - b22 * b13);
  const r = Math.min(1, Math.max(-1, det / 2));
  const phi = Math.acos(r) / 3;
  const e1 = q + 2 * p * Math.cos(phi);
  const e3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  return [e1, 3 * q - e1 - e3, e3];
}
