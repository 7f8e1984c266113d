import { describe, expect, it } from 'vitest';
import type { PatchClassifierModelEntry } from '../../../src/inference/model-manifest.js';
import { loadDetector, type LoadedModel } from '../../../src/inference/model-registry.js';
import { scorePatches } from '../../../src/inference/patch-classifier.js';
import { mulberry32 } from '../../../src/phantom/insert-nodule.js';

const SHAPE: [number, number, number] = [48, 48, 48];
const IDENTITY = { slope: 1, intercept: 0 };

/** A grid of lung-like noise with a few bright blobs, and candidates on and off them. */
function gridWithBlobs() {
  const random = mulberry32(7);
  const [D, H, W] = SHAPE;
  const data = new Float32Array(D * H * W);
  const blobs = [
    [14, 20, 24],
    [33, 28, 18],
    [24, 36, 30],
  ];
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) {
        const inBlob = blobs.some(([bx, by, bz]) => Math.hypot(x - bx!, y - by!, z - bz!) <= 3 + (bx! % 3));
        data[x + W * (y + H * z)] = (inBlob ? 0.7 : 0.1) + 0.05 * random();
      }
  const points = [...blobs, [8, 8, 8], [40, 12, 30], [20, 30, 10]].map(([x, y, z]) => ({
    x: x!,
    y: y!,
    z: z!,
  }));
  return { grid: { data, shape: SHAPE }, points };
}

describe('scorePatches mirrorAveragedTop', () => {
  it('scores only the best candidates again, on mirror images, and leaves the others as they were', async () => {
    const { classifier } = await loadDetector('nodus-detector-2');
    const model = classifier as LoadedModel<PatchClassifierModelEntry>;
    const { grid, points } = gridWithBlobs();
    const once = await scorePatches(model, IDENTITY, grid, points);
    const averaged = await scorePatches(model, IDENTITY, grid, points, { mirrorAveragedTop: 2 });
    const best = Array.from(once.logits.keys())
      .sort((a, b) => once.logits[b]! - once.logits[a]!)
      .slice(0, 2);
    for (const n of points.keys()) {
      if (best.includes(n)) expect(averaged.logits[n]).not.toBe(once.logits[n]);
      else expect(averaged.logits[n]).toBe(once.logits[n]);
    }
    // Probabilities follow the averaged logits.
    for (const n of points.keys()) {
      expect(averaged.probabilities[n]).toBeCloseTo(1 / (1 + Math.exp(-averaged.logits[n]!)), 6);
    }
  });
});
