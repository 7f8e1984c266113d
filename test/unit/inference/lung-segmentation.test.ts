import { describe, expect, it } from 'vitest';
import { segmentLungs } from '../../../src/inference/lung-segmentation.js';
import { ReachLimitedHullCloser } from '../../../src/inference/reach-limited-hull.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';

const TISSUE_HU = 40;
const LUNG_HU = -850;
const OUTSIDE_HU = -1000;

/** A volume whose voxel (i, j, k) holds huAt(i, j, k). */
function volumeOf(dimensions: Vec3, spacingMm: Vec3, huAt: (i: number, j: number, k: number) => number) {
  const [nx, ny, nz] = dimensions;
  const hu = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1) for (let i = 0; i < nx; i += 1) hu[i + nx * (j + ny * k)] = huAt(i, j, k);
  const volume: CtVolume = {
    dimensions,
    spacingMm,
    originLps: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    hu,
    paddingVoxels: 0,
  };
  return volume;
}

/** Inside the ellipsoid of centre c and semi-axes r (voxels)? */
function inside(p: Vec3, c: Vec3, r: Vec3): boolean {
  return ((p[0] - c[0]) / r[0]) ** 2 + ((p[1] - c[1]) / r[1]) ** 2 + ((p[2] - c[2]) / r[2]) ** 2 <= 1;
}

/**
 * A synthetic chest, 1.5 x 1.5 x 5 mm voxels: a body in air, two lungs, a nodule inside the right lung, a
 * juxtapleural nodule on its lateral wall, and a pocket of bowel gas below the left lung.
 */
const DIMENSIONS: Vec3 = [160, 140, 30];
const SPACING_MM: Vec3 = [1.5, 1.5, 5];
const RIGHT_LUNG = { centre: [50, 70, 15] as Vec3, radii: [25, 40, 12] as Vec3 };
const LEFT_LUNG = { centre: [110, 70, 15] as Vec3, radii: [25, 40, 12] as Vec3 };
const INNER_NODULE = { centre: [50, 70, 15] as Vec3, radii: [4, 4, 1.5] as Vec3 };
/** Centred on the right lung's lateral pleura (x = 25): half of it bulges into the lung. */
const PLEURAL_NODULE = { centre: [25, 70, 15] as Vec3, radii: [6, 6, 2] as Vec3 };
const BOWEL_GAS = { centre: [110, 125, 15] as Vec3, radii: [3, 3, 1] as Vec3 };

function syntheticChest(): CtVolume {
  return volumeOf(DIMENSIONS, SPACING_MM, (i, j, k) => {
    const p: Vec3 = [i, j, k];
    if (!inside(p, [80, 70, k], [76, 66, 1])) return OUTSIDE_HU;
    if (inside(p, INNER_NODULE.centre, INNER_NODULE.radii)) return TISSUE_HU;
    if (inside(p, PLEURAL_NODULE.centre, PLEURAL_NODULE.radii)) return TISSUE_HU;
    if (inside(p, RIGHT_LUNG.centre, RIGHT_LUNG.radii)) return LUNG_HU;
    if (inside(p, LEFT_LUNG.centre, LEFT_LUNG.radii)) return LUNG_HU;
    if (inside(p, BOWEL_GAS.centre, BOWEL_GAS.radii)) return LUNG_HU;
    return TISSUE_HU;
  });
}

describe('segmentLungs', () => {
  const volume = syntheticChest();
  const [nx, ny] = volume.dimensions;
  const lungs = segmentLungs(volume);
  const at = (p: Vec3) => lungs.mask[p[0] + nx * (p[1] + ny * p[2])];

  it('keeps both lungs with the nodules inside and against them', () => {
    expect(at(RIGHT_LUNG.centre.map((v, a) => v + (a === 0 ? 10 : 0)) as Vec3)).toBe(1);
    expect(at(LEFT_LUNG.centre)).toBe(1);
    expect(at(INNER_NODULE.centre)).toBe(1);
    // Inside the pleural nodule, on the lung's side of the pleura.
    expect(at([28, 70, 15])).toBe(1);
  });

  it('leaves out the outside air, the mediastinum, the chest wall and bowel gas', () => {
    expect(at([1, 1, 15])).toBe(0);
    expect(at([80, 70, 15])).toBe(0);
    expect(at([80, 4, 15])).toBe(0);
    expect(at(BOWEL_GAS.centre)).toBe(0);
  });

  it('reports the volume and the extent of its mask', () => {
    const [, , nz] = volume.dimensions;
    let count = 0;
    const bounds = [nx, ny, nz, -1, -1, -1];
    for (let k = 0; k < nz; k += 1)
      for (let j = 0; j < ny; j += 1)
        for (let i = 0; i < nx; i += 1) {
          if (!lungs.mask[i + nx * (j + ny * k)]) continue;
          count += 1;
          [i, j, k].forEach((v, a) => {
            bounds[a] = Math.min(bounds[a]!, v);
            bounds[a + 3] = Math.max(bounds[a + 3]!, v);
          });
        }
    expect(lungs.boundsIjk).toEqual(bounds);
    expect(lungs.volumeMl).toBeCloseTo((count * 1.5 * 1.5 * 5) / 1000, 9);
    // Two ellipsoids of 25 x 40 x 12 voxels: ~2 x 565 mL.
    expect(lungs.volumeMl).toBeGreaterThan(900);
    expect(lungs.volumeMl).toBeLessThan(1400);
  });

  it('finds nothing in a volume without air', () => {
    const solid = volumeOf([40, 30, 5], [1.5, 1.5, 5], () => TISSUE_HU);
    expect(segmentLungs(solid)).toEqual({
      mask: new Uint8Array(40 * 30 * 5),
      boundsIjk: [-1, -1, -1, -1, -1, -1],
      volumeMl: 0,
    });
  });
});

describe('ReachLimitedHullCloser', () => {
  /**
   * The closing done plainly, over the whole plane for every component: the definition that the closer's
   * bounding-box windows must reproduce bit for bit.
   */
  function closeOnWholePlane(lung: Uint8Array, w: number, h: number, reach: [number, number]): Uint8Array {
    const out = Uint8Array.from(lung);
    const seen = new Uint8Array(lung.length);
    for (let start = 0; start < lung.length; start += 1) {
      if (!lung[start] || seen[start]) continue;
      const pixels: number[] = [];
      const stack = [start];
      seen[start] = 1;
      while (stack.length) {
        const p = stack.pop()!;
        pixels.push(p);
        const [x, y] = [p % w, Math.floor(p / w)];
        for (let Y = y - 1; Y <= y + 1; Y += 1)
          for (let X = x - 1; X <= x + 1; X += 1) {
            const q = X + w * Y;
            if (X < 0 || Y < 0 || X >= w || Y >= h || !lung[q] || seen[q]) continue;
            seen[q] = 1;
            stack.push(q);
          }
      }
      if (pixels.length < 20) continue;
      // Chamfer distance over the whole plane, in units of the reach.
      const d = new Float32Array(w * h).fill(1e9);
      for (const p of pixels) d[p] = 0;
      const [ax, ay] = [1 / reach[0], 1 / reach[1]];
      const diagonal = Math.hypot(ax, ay);
      for (let y = 0; y < h; y += 1)
        for (let x = 0; x < w; x += 1) {
          const p = x + w * y;
          let v = d[p]!;
          if (x > 0) v = Math.min(v, d[p - 1]! + ax);
          if (y > 0) v = Math.min(v, d[p - w]! + ay);
          if (y > 0 && x > 0) v = Math.min(v, d[p - w - 1]! + diagonal);
          if (y > 0 && x < w - 1) v = Math.min(v, d[p - w + 1]! + diagonal);
          d[p] = v;
        }
      for (let y = h - 1; y >= 0; y -= 1)
        for (let x = w - 1; x >= 0; x -= 1) {
          const p = x + w * y;
          let v = d[p]!;
          if (x < w - 1) v = Math.min(v, d[p + 1]! + ax);
          if (y < h - 1) v = Math.min(v, d[p + w]! + ay);
          if (y < h - 1 && x < w - 1) v = Math.min(v, d[p + w + 1]! + diagonal);
          if (y < h - 1 && x > 0) v = Math.min(v, d[p + w - 1]! + diagonal);
          d[p] = v;
        }
      // Monotone chain over all the pixels, then the pixels whose centre lies in the hull.
      const points = pixels.map((p) => [p % w, Math.floor(p / w)] as const);
      points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const cross = (o: readonly number[], a: readonly number[], b: readonly number[]) =>
        (a[0]! - o[0]!) * (b[1]! - o[1]!) - (a[1]! - o[1]!) * (b[0]! - o[0]!);
      const chain = (ordered: (readonly [number, number])[]) => {
        const c: (readonly [number, number])[] = [];
        for (const p of ordered) {
          while (c.length >= 2 && cross(c[c.length - 2]!, c[c.length - 1]!, p) <= 0) c.pop();
          c.push(p);
        }
        return c.slice(0, -1);
      };
      const hull = [...chain(points), ...chain([...points].reverse())];
      if (hull.length < 3) continue;
      for (let y = 0; y < h; y += 1) {
        let [left, right] = [Infinity, -Infinity];
        hull.forEach(([x0, y0], n) => {
          const [x1, y1] = hull[(n + 1) % hull.length]!;
          if ((y < y0 && y < y1) || (y > y0 && y > y1)) return;
          const xs = y0 === y1 ? [x0, x1] : [x0 + ((y - y0) * (x1 - x0)) / (y1 - y0)];
          left = Math.min(left, ...xs);
          right = Math.max(right, ...xs);
        });
        for (let x = Math.max(0, Math.ceil(left - 1e-9)); x <= Math.min(w - 1, Math.floor(right + 1e-9)); x++)
          if (d[x + w * y]! <= 1) out[x + w * y] = 1;
      }
    }
    return out;
  }

  /** Random blobs, specks and lines, touching the border at times. */
  function randomPlane(w: number, h: number, random: () => number): Uint8Array {
    const plane = new Uint8Array(w * h);
    for (let blob = 0; blob < 1 + random() * 6; blob += 1) {
      const [cx, cy, rx, ry] = [random() * w, random() * h, 2 + random() * w * 0.3, 2 + random() * h * 0.3];
      for (let y = 0; y < h; y += 1)
        for (let x = 0; x < w; x += 1)
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1 && random() > 0.05) plane[x + w * y] = 1;
    }
    for (let speck = 0; speck < w * h * 0.02; speck += 1) plane[Math.floor(random() * w * h)] = 1;
    const row = Math.floor(random() * h);
    for (let x = 0; x < w; x += 1) if (random() < 0.7) plane[x + w * row] = 1;
    return plane;
  }

  it('equals the closing over the whole plane', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let trial = 0; trial < 40; trial += 1) {
      const w = 20 + Math.floor(random() * 100);
      const h = 10 + Math.floor(random() * 100);
      const reach: [number, number] = [2 + random() * 25, 2 + random() * 25];
      const closer = new ReachLimitedHullCloser(w, h);
      // Twice per closer: its buffers are reused.
      for (let again = 0; again < 2; again += 1) {
        const lung = randomPlane(w, h, random);
        expect(closer.close(lung, reach)).toEqual(closeOnWholePlane(lung, w, h, reach));
      }
    }
  });
});
