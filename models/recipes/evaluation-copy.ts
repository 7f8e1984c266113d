// The held-out copies of evaluate-patch-detector.ts, shared by the recipes that look into them
// (inserted-nodule-contrast.ts): the same background index and copy number give the same copy.
import { mulberry32 } from '../../src/phantom/insert-nodule.js';
import { syntheticCopy, type CopiedNodule } from './synthetic-copy.js';
import type { Background } from './training-backgrounds.js';

const NODULES_PER_COPY = 10;

/**
 * Copy `copy` of the `index`-th held-out background: 10 inserted nodules (3-30 mm, half solid, a quarter
 * part-solid, a quarter ground glass, against the pleura in odd copies, 35 mm apart), a 3-6 cm mass in every
 * fourth copy, and copies 2 and 3 of every four at twice the slice thickness (where the slices are at most
 * 3 mm). Seeds unlike the training recipe's.
 */
export function evaluationCopy(
  background: Background,
  index: number,
  copy: number,
  lungMask: Uint8Array,
): { volume: Background['volume']; inserted: CopiedNodule[] } {
  return syntheticCopy(background, lungMask, mulberry32(800_000 + 1000 * index + copy), {
    nodules: {
      count: NODULES_PER_COPY,
      diameterMm: [3, 30],
      typeShares: { solid: 0.5, partSolid: 0.25 },
      allowJuxtapleural: copy % 2 === 1,
      minSeparationMm: 35,
    },
    ...(copy % 4 === 2 && { masses: { count: 1, diameterMm: [30, 60] as [number, number] } }),
    thickSlices: copy % 4 >= 2,
  });
}
