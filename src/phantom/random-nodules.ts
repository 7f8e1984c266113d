import type { CtVolume, Vec3 } from '../volume/volume.js';
import {
  insertSyntheticNodule,
  pickInsertionSites,
  type InsertedNodule,
  type NoduleShape,
  type Random,
} from './insert-nodule.js';
import type { NoduleType } from './nodule-type.js';

export interface RandomNodulesOptions {
  count: number;
  /** Diameters drawn log-uniformly from this range (as many per octave), mm. */
  diameterMm: [number, number];
  /** Shares of solid and part-solid nodules; the rest are ground glass. */
  typeShares: { solid: number; partSolid: number };
  /** Regions (real lesions) the nodules keep away from. */
  avoid: { centreLps: Vec3; radiusMm: number }[];
  /** Lets nodules touch the pleura. */
  allowJuxtapleural: boolean;
  minSeparationMm: number;
}

/**
 * A copy of `background` with nodules of random size, type (solid, part-solid, ground glass) and shape
 * (round, lobulated, spiculated) inserted at random sites in the lungs; `background` is unchanged. The same
 * `random` sequence gives the same nodules.
 */
export function withRandomNodules(
  background: CtVolume,
  lungMask: Uint8Array,
  random: Random,
  options: RandomNodulesOptions,
): { volume: CtVolume; inserted: InsertedNodule[] } {
  const volume: CtVolume = { ...background, hu: Int16Array.from(background.hu) };
  const sites = pickInsertionSites(volume, lungMask, options.count, random, {
    diameterMm: options.diameterMm,
    minDistanceFromEdgeMm: options.allowJuxtapleural ? 0 : 2,
    minSeparationMm: options.minSeparationMm,
    avoidLps: options.avoid,
    allowJuxtapleural: options.allowJuxtapleural,
  });
  const [low, high] = options.diameterMm;
  const inserted = sites.map((centreLps) => {
    const diameterMm = Math.round(low * (high / low) ** random() * 10) / 10;
    const u = random();
    const type: NoduleType =
      u < options.typeShares.solid
        ? 'solid'
        : u < options.typeShares.solid + options.typeShares.partSolid
          ? 'part-solid'
          : 'ground-glass';
    const s = random();
    const shape: NoduleShape = s < 0.5 ? 'round' : s < 0.85 ? 'lobulated' : 'spiculated';
    return insertSyntheticNodule(
      volume,
      {
        centreLps,
        diameterMm,
        type,
        shape,
        ...(type === 'part-solid' && { solidComponentMm: diameterMm * (0.3 + 0.4 * random()) }),
      },
      random,
      { lungMask },
    );
  });
  return { volume, inserted };
}
