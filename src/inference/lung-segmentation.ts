import type { CtVolume } from '../volume/volume.js';

/** The lungs of a CT: a voxel mask on the volume's grid and its extent. */
export interface LungMask {
  /** 1 = lung (including nodules, vessels and masses within or against it), index i + nx*(j + ny*k). */
  mask: Uint8Array;
  /** [iMin, jMin, kMin, iMax, jMax, kMax] of the mask, inclusive; all -1 when empty. */
  boundsIjk: [number, number, number, number, number, number];
  volumeMl: number;
}

/** Air in the body: darker than this, HU. */
const AIR_HU = -400;
/** The grid is coarsened in-plane to about this pixel size for speed, mm. */
const WORK_PIXEL_MM = 1.4;
/** Air regions smaller than this are not lung (bowel gas, noise), mL. */
const MIN_LUNG_ML = 100;
/** A second lung must hold at least this share of the largest (else it is bowel gas or the trachea). */
const SECOND_LUNG_SHARE = 0.15;
/**
 * Per slice, each lung's outline is closed by its convex hull, but only within this distance of the air
 * itself, mm: nodules and masses against the pleura or mediastinum then lie inside the mask, while the
 * heart and the chest wall beyond this reach stay out.
 */
const HULL_REACH_MM = 30;

/**
 * Segments the lungs by thresholding and topology:
 * 1. air (< -400 HU) not connected to the outside of the body, per slice (the outside is flood-filled from
 *    the image border);
 * 2. 3D connected components of that air of at least 100 mL: the largest, and a second one when it holds
 *    at least 15% of the largest (two lungs);
 * 3. per axial slice and per 2D component, the convex hull of the lung within 30 mm of it, then holes
 *    filled: vessels, nodules and juxtapleural masses become lung; the same hulls on sagittal and coronal
 *    planes add masses that lung embraces from above, below or in front (paravertebral, diaphragmatic).
 * Runs on a grid coarsened in-plane to ~1.4 mm and maps back by nearest neighbour.
 */
export function segmentLungs(volume: CtVolume): LungMask {
  const [nx, ny, nz] = volume.dimensions;
  const [si, sj, sk] = volume.spacingMm;
  const fi = Math.max(1, Math.round(WORK_PIXEL_MM / si));
  const fj = Math.max(1, Math.round(WORK_PIXEL_MM / sj));
  const wx = Math.ceil(nx / fi);
  const wy = Math.ceil(ny / fj);
  const plane = wx * wy;
  const pixelMm = [si * fi, sj * fj] as const;

  // 1. Air inside the body, per slice.
  const air = new Uint8Array(plane * nz);
  const outside = new Uint8Array(plane);
  const queue = new Int32Array(plane);
  for (let k = 0; k < nz; k += 1) {
    const slice = air.subarray(k * plane, (k + 1) * plane);
    for (let y = 0; y < wy; y += 1)
      for (let x = 0; x < wx; x += 1) {
        slice[x + wx * y] = volume.hu[x * fi + nx * (y * fj + ny * k)]! < AIR_HU ? 1 : 0;
      }
    outside.fill(0);
    let head = 0;
    let tail = 0;
    const push = (p: number) => {
      if (slice[p] && !outside[p]) {
        outside[p] = 1;
        queue[tail++] = p;
      }
    };
    for (let x = 0; x < wx; x += 1) {
      push(x);
      push(x + wx * (wy - 1));
    }
    for (let y = 0; y < wy; y += 1) {
      push(wx * y);
      push(wx - 1 + wx * y);
    }
    while (head < tail) {
      const p = queue[head++]!;
      const x = p % wx;
      if (x > 0) push(p - 1);
      if (x < wx - 1) push(p + 1);
      if (p >= wx) push(p - wx);
      if (p < plane - wx) push(p + wx);
    }
    for (let p = 0; p < plane; p += 1) if (outside[p]) slice[p] = 0;
  }

  // 2. The lungs among the 3D components of body air.
  const labels = new Int32Array(plane * nz);
  const stack = new Int32Array(plane * nz);
  const sizes: number[] = [0];
  for (let start = 0; start < air.length; start += 1) {
    if (!air[start] || labels[start]) continue;
    const label = sizes.length;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const p = stack[--top]!;
      size += 1;
      const x = p % wx;
      const y = Math.floor(p / wx) % wy;
      const z = Math.floor(p / plane);
      const visit = (q: number) => {
        if (air[q] && !labels[q]) {
          labels[q] = label;
          stack[top++] = q;
        }
      };
      if (x > 0) visit(p - 1);
      if (x < wx - 1) visit(p + 1);
      if (y > 0) visit(p - wx);
      if (y < wy - 1) visit(p + wx);
      if (z > 0) visit(p - plane);
      if (z < nz - 1) visit(p + plane);
    }
    sizes.push(size);
  }
  const voxelMl = (pixelMm[0] * pixelMm[1] * sk) / 1000;
  const ranked = sizes
    .map((size, label) => ({ label, ml: size * voxelMl }))
    .slice(1)
    .filter((c) => c.ml >= MIN_LUNG_ML)
    .sort((a, b) => b.ml - a.ml);
  const lungLabels = new Set<number>();
  if (ranked[0]) lungLabels.add(ranked[0].label);
  if (ranked[1] && ranked[1].ml >= SECOND_LUNG_SHARE * ranked[0]!.ml) lungLabels.add(ranked[1].label);

  // 3. Per slice: hull of each 2D lung component within reach, holes filled.
  const work = new Uint8Array(plane * nz);
  const reach = [HULL_REACH_MM / pixelMm[0], HULL_REACH_MM / pixelMm[1]] as const;
  for (let k = 0; k < nz; k += 1) {
    const lung = new Uint8Array(plane);
    let any = false;
    for (let p = 0; p < plane; p += 1) {
      if (lungLabels.has(labels[k * plane + p]!)) {
        lung[p] = 1;
        any = true;
      }
    }
    if (!any) continue;
    const closed = closeByReachLimitedHull(lung, wx, wy, reach);
    fillHoles(closed, wx, wy);
    work.set(closed, k * plane);
  }

  // The same on sagittal and coronal planes: a mass in the paravertebral gutter or on the diaphragm is
  // embraced by lung above, below or in front of it, not on its axial slice.
  const lungOnly = new Uint8Array(plane * nz);
  for (let p = 0; p < lungOnly.length; p += 1) lungOnly[p] = lungLabels.has(labels[p]!) ? 1 : 0;
  for (const fixed of ['x', 'y'] as const) {
    const [u, v] = fixed === 'x' ? [wy, nz] : [wx, nz];
    const stride = fixed === 'x' ? [wx, plane] : [1, plane];
    const step = fixed === 'x' ? 1 : wx;
    const count = fixed === 'x' ? wx : wy;
    const pixel = [fixed === 'x' ? pixelMm[1] : pixelMm[0], sk] as const;
    const sliceLung = new Uint8Array(u * v);
    for (let f = 0; f < count; f += 1) {
      let any = false;
      for (let b = 0; b < v; b += 1)
        for (let a = 0; a < u; a += 1) {
          const value = lungOnly[f * step + a * stride[0]! + b * stride[1]!]!;
          sliceLung[a + u * b] = value;
          if (value) any = true;
        }
      if (!any) continue;
      const closed = closeByReachLimitedHull(sliceLung, u, v, [
        HULL_REACH_MM / pixel[0],
        HULL_REACH_MM / pixel[1],
      ]);
      for (let b = 0; b < v; b += 1)
        for (let a = 0; a < u; a += 1)
          if (closed[a + u * b]) work[f * step + a * stride[0]! + b * stride[1]!] = 1;
    }
  }

  // Back to the volume's grid.
  const mask = new Uint8Array(nx * ny * nz);
  const bounds: LungMask['boundsIjk'] = [nx, ny, nz, -1, -1, -1];
  let count = 0;
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1) {
      const row = Math.min(wy - 1, Math.floor(j / fj));
      for (let i = 0; i < nx; i += 1) {
        if (!work[Math.min(wx - 1, Math.floor(i / fi)) + wx * row + plane * k]) continue;
        mask[i + nx * (j + ny * k)] = 1;
        count += 1;
        if (i < bounds[0]) bounds[0] = i;
        if (j < bounds[1]) bounds[1] = j;
        if (k < bounds[2]) bounds[2] = k;
        if (i > bounds[3]) bounds[3] = i;
        if (j > bounds[4]) bounds[4] = j;
        if (k > bounds[5]) bounds[5] = k;
      }
    }
  if (count === 0) return { mask, boundsIjk: [-1, -1, -1, -1, -1, -1], volumeMl: 0 };
  return { mask, boundsIjk: bounds, volumeMl: (count * si * sj * sk) / 1000 };
}

/**
 * For each 8-connected component of `lung` (one slice): its convex hull, limited to pixels within `reach`
 * (pixels along x and y) of the component. Returns the union with `lung`.
 */
function closeByReachLimitedHull(
  lung: Uint8Array,
  wx: number,
  wy: number,
  reach: readonly [number, number],
): Uint8Array {
  const out = Uint8Array.from(lung);
  const seen = new Uint8Array(lung.length);
  const stack = new Int32Array(lung.length);
  for (let start = 0; start < lung.length; start += 1) {
    if (!lung[start] || seen[start]) continue;
    const pixels: number[] = [];
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const p = stack[--top]!;
      pixels.push(p);
      const x = p % wx;
      const y = Math.floor(p / wx);
      for (let dy = -1; dy <= 1; dy += 1)
        for (let dx = -1; dx <= 1; dx += 1) {
          const X = x + dx;
          const Y = y + dy;
          if (X < 0 || Y < 0 || X >= wx || Y >= wy) continue;
          const q = X + wx * Y;
          if (lung[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
    }
    if (pixels.length < 20) continue;
    const hull = convexHull(pixels.map((p) => [p % wx, Math.floor(p / wx)] as [number, number]));
    const near = distanceWithin(pixels, wx, wy, reach);
    rasterizePolygon(hull, wx, wy, (p) => {
      if (near[p]) out[p] = 1;
    });
  }
  return out;
}

/** Pixels whose elliptic distance (reach along x and y) to any of `pixels` is at most 1. */
function distanceWithin(
  pixels: number[],
  wx: number,
  wy: number,
  reach: readonly [number, number],
): Uint8Array {
  // Two-pass chamfer on scaled coordinates: distance in units of the reach.
  const inf = 1e9;
  const d = new Float32Array(wx * wy).fill(inf);
  for (const p of pixels) d[p] = 0;
  const ax = 1 / reach[0];
  const ay = 1 / reach[1];
  const diagonal = Math.hypot(ax, ay);
  for (let y = 0; y < wy; y += 1)
    for (let x = 0; x < wx; x += 1) {
      const p = x + wx * y;
      let v = d[p]!;
      if (x > 0) v = Math.min(v, d[p - 1]! + ax);
      if (y > 0) {
        v = Math.min(v, d[p - wx]! + ay);
        if (x > 0) v = Math.min(v, d[p - wx - 1]! + diagonal);
        if (x < wx - 1) v = Math.min(v, d[p - wx + 1]! + diagonal);
      }
      d[p] = v;
    }
  for (let y = wy - 1; y >= 0; y -= 1)
    for (let x = wx - 1; x >= 0; x -= 1) {
      const p = x + wx * y;
      let v = d[p]!;
      if (x < wx - 1) v = Math.min(v, d[p + 1]! + ax);
      if (y < wy - 1) {
        v = Math.min(v, d[p + wx]! + ay);
        if (x < wx - 1) v = Math.min(v, d[p + wx + 1]! + diagonal);
        if (x > 0) v = Math.min(v, d[p + wx - 1]! + diagonal);
      }
      d[p] = v;
    }
  const out = new Uint8Array(wx * wy);
  for (let p = 0; p < out.length; p += 1) out[p] = d[p]! <= 1 ? 1 : 0;
  return out;
}

/** Andrew's monotone chain; counter-clockwise, no collinear points. */
function convexHull(points: [number, number][]): [number, number][] {
  const sorted = points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let n = sorted.length - 1; n >= 0; n -= 1) {
    const p = sorted[n]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Calls `paint` for every pixel whose centre lies inside the convex polygon (or on its edge). */
function rasterizePolygon(
  polygon: [number, number][],
  wx: number,
  wy: number,
  paint: (p: number) => void,
): void {
  if (polygon.length < 3) return;
  const ys = polygon.map((p) => p[1]);
  const y0 = Math.max(0, Math.min(...ys));
  const y1 = Math.min(wy - 1, Math.max(...ys));
  for (let y = y0; y <= y1; y += 1) {
    let left = Infinity;
    let right = -Infinity;
    for (let n = 0; n < polygon.length; n += 1) {
      const [ax, ay] = polygon[n]!;
      const [bx, by] = polygon[(n + 1) % polygon.length]!;
      if ((y < ay && y < by) || (y > ay && y > by)) continue;
      if (ay === by) {
        left = Math.min(left, ax, bx);
        right = Math.max(right, ax, bx);
        continue;
      }
      const x = ax + ((y - ay) * (bx - ax)) / (by - ay);
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
    for (
      let x = Math.max(0, Math.ceil(left - 1e-9));
      x <= Math.min(wx - 1, Math.floor(right + 1e-9));
      x += 1
    ) {
      paint(x + wx * y);
    }
  }
}

/** Fills the holes of a 2D mask: background not connected to the image border becomes mask. */
function fillHoles(mask: Uint8Array, wx: number, wy: number): void {
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let head = 0;
  let tail = 0;
  const push = (p: number) => {
    if (!mask[p] && !outside[p]) {
      outside[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let x = 0; x < wx; x += 1) {
    push(x);
    push(x + wx * (wy - 1));
  }
  for (let y = 0; y < wy; y += 1) {
    push(wx * y);
    push(wx - 1 + wx * y);
  }
  while (head < tail) {
    const p = queue[head++]!;
    const x = p % wx;
    if (x > 0) push(p - 1);
    if (x < wx - 1) push(p + 1);
    if (p >= wx) push(p - wx);
    if (p < mask.length - wx) push(p + wx);
  }
  for (let p = 0; p < mask.length; p += 1) if (!outside[p]) mask[p] = 1;
}
