import type { Candidate } from './find-candidates.js';
import type { ModelGrid } from './run-heatmap.js';

export interface TissueCandidateOptions {
  /** Model voxel size, mm (isotropic). */
  spacingMm: number;
  /** Normalised value of the tissue threshold ((HU - low) / (high - low)). */
  threshold: number;
  /** Opening radius, model voxels: tissue thinner than about twice this (vessels, fissures) is removed. */
  openingVoxels: number;
  /** Smallest equivalent-sphere diameter kept, mm. */
  minDiameterMm: number;
  inLungs: (x: number, y: number, z: number) => boolean;
}

/**
 * Candidates from tissue rather than from blob shape: connected components of dense tissue inside the lungs
 * after a morphological opening (which removes vessels and fissures thinner than the opening), one
 * candidate at each component's centroid with its equivalent-sphere radius.
 *
 * The multi-scale blob filter misses masses that lie against the chest wall or mediastinum (half a blob:
 * no scale-space maximum); inside the lung mask (which includes such masses) they remain a compact
 * component. The classifier scores these candidates like the others.
 */
export function tissueCandidates(
  input: ModelGrid,
  response: Float32Array,
  options: TissueCandidateOptions,
): Candidate[] {
  const [D, H, W] = input.shape;
  const n = D * H * W;
  const tissue = new Uint8Array(n);
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) {
        const index = x + W * (y + H * z);
        if (input.data[index]! >= options.threshold && options.inLungs(x, y, z)) tissue[index] = 1;
      }
  const opened = dilate(
    erode(tissue, input.shape, options.openingVoxels),
    input.shape,
    options.openingVoxels,
  );
  for (let index = 0; index < n; index += 1) opened[index] = opened[index]! & tissue[index]!;

  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  const candidates: Candidate[] = [];
  const voxelMm3 = options.spacingMm ** 3;
  let next = 0;
  for (let start = 0; start < n; start += 1) {
    if (!opened[start] || labels[start]) continue;
    next += 1;
    let top = 0;
    stack[top++] = start;
    labels[start] = next;
    let count = 0;
    let sx = 0;
    let sy = 0;
    let sz = 0;
    while (top > 0) {
      const index = stack[--top]!;
      const x = index % W;
      const y = Math.floor(index / W) % H;
      const z = Math.floor(index / (W * H));
      count += 1;
      sx += x;
      sy += y;
      sz += z;
      for (let dz = -1; dz <= 1; dz += 1)
        for (let dy = -1; dy <= 1; dy += 1)
          for (let dx = -1; dx <= 1; dx += 1) {
            const X = x + dx;
            const Y = y + dy;
            const Z = z + dz;
            if (X < 0 || Y < 0 || Z < 0 || X >= W || Y >= H || Z >= D) continue;
            const neighbour = X + W * (Y + H * Z);
            if (opened[neighbour] && !labels[neighbour]) {
              labels[neighbour] = next;
              stack[top++] = neighbour;
            }
          }
    }
    const diameterMm = 2 * Math.cbrt((3 * count * voxelMm3) / (4 * Math.PI));
    if (diameterMm < options.minDiameterMm) continue;
    const x = Math.round(sx / count);
    const y = Math.round(sy / count);
    const z = Math.round(sz / count);
    candidates.push({ x, y, z, response: response[x + W * (y + H * z)]!, radiusMm: diameterMm / 2 });
  }
  return candidates;
}

/** Erosion by a cube of half-size r (separable: three 1-D minimum passes). */
function erode(mask: Uint8Array, shape: [number, number, number], r: number): Uint8Array {
  return morph(mask, shape, r, 0);
}

/** Dilation by a cube of half-size r (separable: three 1-D maximum passes). */
function dilate(mask: Uint8Array, shape: [number, number, number], r: number): Uint8Array {
  return morph(mask, shape, r, 1);
}

function morph(mask: Uint8Array, shape: [number, number, number], r: number, keep: 0 | 1): Uint8Array {
  const [D, H, W] = shape;
  let current = mask;
  const strides = [1, W, W * H];
  const lengths = [W, H, D];
  for (let axis = 0; axis < 3; axis += 1) {
    const out = new Uint8Array(current.length);
    const stride = strides[axis]!;
    const length = lengths[axis]!;
    for (let index = 0; index < current.length; index += 1) {
      const position = Math.floor(index / stride) % length;
      // Running window: the value is `keep` when any voxel within r along the axis is `keep`.
      let found = false;
      for (let d = -r; d <= r && !found; d += 1) {
        const p = position + d;
        if (p < 0 || p >= length) {
          if (keep === 0) found = true; // outside counts as background for erosion
          continue;
        }
        if (current[index + d * stride] === keep) found = true;
      }
      out[index] = found ? keep : 1 - keep;
    }
    current = out;
  }
  return current;
}
