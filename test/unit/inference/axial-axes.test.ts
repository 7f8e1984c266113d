import { describe, expect, it } from 'vitest';
import { axialAxes } from '../../../src/inference/nodule-measurement.js';
import type { Vec3 } from '../../../src/volume/volume.js';

/** A filled ellipse (semi-axes a, b voxels, rotated by `angle`) on slice `z` of a w x h x d mask. */
function ellipseMask([w, h, d]: Vec3, z: number, a: number, b: number, angle: number): Uint8Array {
  const mask = new Uint8Array(w * h * d);
  const [cx, cy] = [(w - 1) / 2, (h - 1) / 2];
  for (let y = 0; y < h; y += 1)
    for (let x = 0; x < w; x += 1) {
      const u = (x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle);
      const v = -(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle);
      if ((u / a) ** 2 + (v / b) ** 2 <= 1) mask[x + w * (y + h * z)] = 1;
    }
  return mask;
}

const mm = ([x0, y0]: [number, number], [x1, y1]: [number, number], [si, sj]: Vec3) =>
  Math.hypot((x1 - x0) * si, (y1 - y0) * sj);

describe('axialAxes end points (where a caliper would go)', () => {
  for (const angle of [0, Math.PI / 6, Math.PI / 3]) {
    it(`span the measured lengths, meet at right angles, on the widest slice (ellipse at ${Math.round((angle * 180) / Math.PI)} deg)`, () => {
      const shape: Vec3 = [41, 41, 5];
      const spacing: Vec3 = [0.7, 0.7, 2.5];
      const mask = ellipseMask(shape, 3, 15, 8, angle);
      // A smaller ellipse on slice 1: the axes must come from slice 3.
      ellipseMask(shape, 1, 6, 4, angle).forEach((v, q) => (mask[q] ||= v));
      const axes = axialAxes(mask, shape, spacing);
      expect(axes.ends?.z).toBe(3);
      const ends = axes.ends!;
      expect(mm(ends.long[0], ends.long[1], spacing)).toBeCloseTo(axes.long, 6);
      expect(mm(ends.short[0], ends.short[1], spacing)).toBeCloseTo(axes.short, 6);
      // Truth: 2 x 15 and 2 x 8 voxels of 0.7 mm, within a pixel either way (pixel-centre sampling).
      expect(Math.abs(axes.long - 30 * 0.7)).toBeLessThan(1.5 * 0.7);
      expect(Math.abs(axes.short - 16 * 0.7)).toBeLessThan(1.5 * 0.7);
      const d = (p: [[number, number], [number, number]]) => [p[1][0] - p[0][0], p[1][1] - p[0][1]];
      const [lx, ly] = d(ends.long);
      const [sx, sy] = d(ends.short);
      expect(Math.abs(lx! * sx! + ly! * sy!) / (Math.hypot(lx!, ly!) * Math.hypot(sx!, sy!))).toBeLessThan(
        0.05,
      );
      // The long axis runs along the ellipse's major axis, through its centre.
      expect(Math.abs(Math.abs(Math.atan2(ly!, lx!)) - angle)).toBeLessThan(0.1);
      const middle = [(ends.long[0][0] + ends.long[1][0]) / 2, (ends.long[0][1] + ends.long[1][1]) / 2];
      expect(Math.hypot(middle[0]! - 20, middle[1]! - 20)).toBeLessThan(1);
      // The short axis crosses the long one (its midpoint lies within a pixel of the long axis's line).
      const shortMiddle = [
        (ends.short[0][0] + ends.short[1][0]) / 2,
        (ends.short[0][1] + ends.short[1][1]) / 2,
      ];
      const cross = Math.abs(
        (shortMiddle[0]! - ends.long[0][0]) * ly! - (shortMiddle[1]! - ends.long[0][1]) * lx!,
      );
      expect(cross / Math.hypot(lx!, ly!)).toBeLessThan(1.5);
    });
  }

  it('has no end points for an empty mask', () => {
    expect(axialAxes(new Uint8Array(27), [3, 3, 3], [1, 1, 1])).toEqual({ long: 0, short: 0 });
  });
});
