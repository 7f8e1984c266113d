import { describe, expect, it } from 'vitest';
import { findCandidates } from '../../../src/inference/find-candidates.js';
import { loadDetector } from '../../../src/inference/model-registry.js';
import type { ModelGrid } from '../../../src/inference/run-heatmap.js';
import { runHeatmap } from '../../../src/inference/run-heatmap.js';
import { subSolidCandidates } from '../../../src/inference/sub-solid-candidates.js';

const SPACING = 1.5;
const SHAPE: [number, number, number] = [40, 40, 40];
/** Normalised grid value (0 = -1000 HU, 1 = 400 HU) of `hu`. */
const unit = (hu: number) => (hu + 1000) / 1400;

/**
 * Parenchyma (-850 HU) holding a ground-glass nodule (-620 HU, 12 mm across, centre (20, 20, 20)) with a
 * vessel (0 HU, 3 mm across) through it along z, a second vessel running past its edge, and a vessel alone.
 */
function groundGlassBesideVessels(): ModelGrid {
  const [D, H, W] = SHAPE;
  const data = new Float32Array(D * H * W);
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) {
        let hu = -850;
        if (Math.hypot(x - 20, y - 20, z - 20) * SPACING <= 6) hu = -620;
        if (Math.hypot(x - 21, y - 20) * SPACING <= 1.5) hu = 0;
        if (Math.hypot(x - 20, z - 25) * SPACING <= 1.5) hu = 0;
        if (Math.hypot(x - 6, y - 34) * SPACING <= 1.5) hu = 0;
        data[x + W * (y + H * z)] = unit(hu);
      }
  return { data, shape: SHAPE };
}

const distanceMm = (c: { x: number; y: number; z: number }, to: [number, number, number]) =>
  Math.hypot(c.x - to[0], c.y - to[1], c.z - to[2]) * SPACING;

describe('subSolidCandidates', () => {
  it('finds a ground-glass nodule that the vessels through and beside it outshine, at its own size', async () => {
    const { heatmap } = await loadDetector('nodus-candidates-only');
    const grid = groundGlassBesideVessels();
    const inLungs = () => true;

    // The blob search on the grid as it is: within the nodule only the vessels' maxima (radius < 4 mm).
    const plain = await runHeatmap(heatmap, grid, { maxTileVoxels: 1e7 });
    const plainMaxima = findCandidates({ data: plain.response, shape: SHAPE }, plain.radiusMm, {
      minResponse: 0.06,
      maxCandidates: 1000,
      spacingMm: SPACING,
      inLungs,
    }).filter((c) => distanceMm(c, [20, 20, 20]) <= 6);
    expect(plainMaxima.length).toBeGreaterThan(0);
    expect(plainMaxima.every((c) => c.radiusMm < 4)).toBe(true);

    const found = await subSolidCandidates(heatmap, grid, {
      clipHu: -550,
      minResponse: 0.06,
      minRadiusMm: 2.5,
      maxTileVoxels: 1e7,
      inLungs,
    });
    const onNodule = found.filter((c) => distanceMm(c, [20, 20, 20]) <= 3);
    expect(onNodule).toHaveLength(1);
    expect(onNodule[0]!.radiusMm).toBeGreaterThan(4);
    expect(onNodule[0]!.radiusMm).toBeLessThan(8);
    // The lone vessel is no sub-solid candidate.
    expect(found.filter((c) => Math.hypot(c.x - 6, c.y - 34) * SPACING <= 6)).toEqual([]);
  });

  it('keeps to the lungs', async () => {
    const { heatmap } = await loadDetector('nodus-candidates-only');
    const found = await subSolidCandidates(heatmap, groundGlassBesideVessels(), {
      clipHu: -550,
      minResponse: 0.06,
      minRadiusMm: 2.5,
      maxTileVoxels: 1e7,
      inLungs: (x) => x > 30,
    });
    expect(found.every((c) => c.x > 30)).toBe(true);
    expect(found.some((c) => distanceMm(c, [20, 20, 20]) <= 3)).toBe(false);
  });
});
