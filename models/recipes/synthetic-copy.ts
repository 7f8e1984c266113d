// One synthetic copy of a CT background, as the recipes make them: random nodules, optionally solid masses
// against the chest wall or mediastinum, optionally reconstructed at twice the slice thickness.
import type { InsertedNodule, Random } from '../../src/phantom/insert-nodule.js';
import { withRandomNodules, type RandomNodulesOptions } from '../../src/phantom/random-nodules.js';
import { thickSlices } from '../../src/phantom/thick-slices.js';
import type { CtVolume, Vec3 } from '../../src/volume/volume.js';

/** Scans with slices at most this thick (mm) can be reconstructed at twice the thickness. */
export const THICK_SLICE_UP_TO_MM = 3;

export interface CopyPlan {
  nodules: Omit<RandomNodulesOptions, 'avoid'>;
  /** Solid masses inserted after the nodules, clipped to the lungs (a tumour bulges into them). */
  masses?: { count: number; diameterMm: [number, number] };
  /** Reconstruct at twice the slice thickness where the scan's slices are thin enough. */
  thickSlices?: boolean;
}

export type CopiedNodule = InsertedNodule & { juxtapleural: boolean };

/**
 * A copy of `background` with what `plan` asks for; the draws come from `random` in a fixed order (nodules,
 * then masses), so the same seed gives the same copy. Masses keep 10 mm clear of the nodules.
 */
export function syntheticCopy(
  background: { volume: CtVolume; avoid: { centreLps: Vec3; radiusMm: number }[] },
  lungMask: Uint8Array,
  random: Random,
  plan: CopyPlan,
): { volume: CtVolume; inserted: CopiedNodule[] } {
  const nodules = withRandomNodules(background.volume, lungMask, random, {
    ...plan.nodules,
    avoid: background.avoid,
  });
  let { volume } = nodules;
  const inserted = nodules.inserted.map((n) => ({ ...n, juxtapleural: plan.nodules.allowJuxtapleural }));
  if (plan.masses) {
    const masses = withRandomNodules(volume, lungMask, random, {
      count: plan.masses.count,
      diameterMm: plan.masses.diameterMm,
      typeShares: { solid: 1, partSolid: 0 },
      avoid: [
        ...background.avoid,
        ...inserted.map((n) => ({ centreLps: n.centreLps, radiusMm: n.diameterMm / 2 + 10 })),
      ],
      allowJuxtapleural: true,
      minSeparationMm: 80,
    });
    volume = masses.volume;
    inserted.push(...masses.inserted.map((n) => ({ ...n, juxtapleural: true })));
  }
  if (plan.thickSlices && volume.spacingMm[2] <= THICK_SLICE_UP_TO_MM) volume = thickSlices(volume, 2);
  return { volume, inserted };
}
