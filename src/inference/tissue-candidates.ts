import type { Candidate } from './find-candidates.js';
import type { ModelGrid } from './run-heatmap.js';

/** At most this many tissue candidates per scan. */
const MAX_TISSUE_CANDIDATES = 200;

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

  const depth = chamferDepth(opened, input.shape);
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
    let deepest = start;
    while (top > 0) {
      const index = stack[--top]!;
      const x = index % W;
      const y = Math.floor(index / W) % H;
      const z = Math.floor(index / (W * H));
      count += 1;
      if (depth[index]! > depth[deepest]!) deepest = index;
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
  // Thick points too (local maxima of the depth inside the tissue): a mass merged with the chest wall or
  // other tissue has its centroid elsewhere, but its core is a maximum of the depth.
  const minDepth = options.minDiameterMm / 2 / options.spacingMm;
  const thick: Candidate[] = [];
  for (let z = 1; z < D - 1; z += 1)
    for (let y = 1; y < H - 1; y += 1)
      for (let x = 1; x < W - 1; x += 1) {
        const index = x + W * (y + H * z);
        const value = depth[index]!;
        if (value < minDepth) continue;
        let peak = true;
        for (let dz = -1; dz <= 1 && peak; dz += 1)
          for (let dy = -1; dy <= 1 && peak; dy += 1)
            for (let dx = -1; dx <= 1 && peak; dx += 1) {
              const offset = dx + W * (dy + H * dz);
              const neighbour = depth[index + offset]!;
              if (neighbour > value || (neighbour === value && offset < 0)) peak = false;
            }
        if (peak) thick.push({ x, y, z, response: response[index]!, radiusMm: value * options.spacingMm });
      }
  thick.sort((p, q) => q.radiusMm - p.radiusMm);
  const kept: Candidate[] = [];
  for (const candidate of thick) {
    const distanceMm = (c: Candidate) =>
      Math.hypot(c.x - candidate.x, c.y - candidate.y, c.z - candidate.z) * options.spacingMm;
    // Within a thicker point's radius it is the same mass; a component centroid that close stands for it too.
    if (kept.some((c) => distanceMm(c) < c.radiusMm)) continue;
    if (candidates.some((c) => distanceMm(c) < candidate.radiusMm)) continue;
    kept.push(candidate);
    if (kept.length >= MAX_TISSUE_CANDIDATES) break;
  }
  candidates.push(...kept);
  return candidates;
}

/** Distance (voxels, 3-4-5 chamfer / 3) from each set voxel to the nearest unset one; 0 outside. */
function chamferDepth(mask: Uint8Array, [D, H, W]: [number, number, number]): Float32Array {
  const d = new Float32Array(mask.length);
  for (let p = 0; p < mask.length; p += 1) d[p] = mask[p] ? 1e9 : 0;
  const weights: [number, number, number, number][] = [];
  for (let dz = -1; dz <= 1; dz += 1)
    for (let dy = -1; dy <= 1; dy += 1)
      for (let dx = -1; dx <= 1; dx += 1) {
        const order = dz * H * W + dy * W + dx;
        if (order >= 0) continue;
        const taps = Math.abs(dx) + Math.abs(dy) + Math.abs(dz);
        weights.push([dx, dy, dz, taps === 1 ? 1 : taps === 2 ? 4 / 3 : 5 / 3]);
      }
  const pass = (forward: boolean) => {
    for (let n = 0; n < mask.length; n += 1) {
      const p = forward ? n : mask.length - 1 - n;
      if (!mask[p]) continue;
      const x = p % W;
      const y = Math.floor(p / W) % H;
      const z = Math.floor(p / (W * H));
      let v = d[p]!;
      for (const [wx, wy, wz, w] of weights) {
        const X = forward ? x + wx : x - wx;
        const Y = forward ? y + wy : y - wy;
        const Z = forward ? z + wz : z - wz;
        const q = X < 0 || Y < 0 || Z < 0 || X >= W || Y >= H || Z >= D ? -1 : X + W * (Y + H * Z);
        v = Math.min(v, (q < 0 ? 0 : d[q]!) + w);
      }
      d[p] = v;
    }
  };
  pass(true);
  pass(false);
  return d;
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
