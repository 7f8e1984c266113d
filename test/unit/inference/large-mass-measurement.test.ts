import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lidcCase, type AnnotatedCase } from '../../../src/evaluation/annotated-cases.js';
import { segmentLungs, type LungMask } from '../../../src/inference/lung-segmentation.js';
import {
  axialAxes,
  measureNodule,
  type NoduleMeasurement,
} from '../../../src/inference/nodule-measurement.js';
import {
  insertSyntheticNodule,
  mulberry32,
  pickInsertionSites,
  type InsertedNodule,
} from '../../../src/phantom/insert-nodule.js';
import { withRandomNodules } from '../../../src/phantom/random-nodules.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';
import { sampleDataRequired, sampleDir } from '../../fixtures/sample-data.js';

/**
 * Masses larger than measureNodule's first search region (2.5 radius hints) must be measured whole, whatever
 * the hint: solid masses inserted into LIDC-IDRI-0001 (juxtapleural allowed, clipped to the lung mask as a
 * tumour bulging into the lung), measured from their centre with hints of 5, 10 and 20 mm.
 *
 * Truth: the same nodule rendered into a blank volume (replaying withRandomNodules' random draws), its
 * half-partial-volume voxels inside the lung mask: the clipped mass, measured with the same calipers.
 *
 * Tolerances, from 24 inserted 60 mm masses (seeds 1-24, hint 10): the long axis came within -16% / +20%
 * of the truth's (median +1%), the mean diameter within -11% / +23% (median +4%), the volume within 0.83x /
 * 1.30x (median 1.06x). The -800 HU boundary lies about 1 mm outside the half-volume surface (+2 to +3 mm on
 * a diameter, +10% on the volume); where the mass abuts soft tissue of its own density that the lung mask's
 * hull takes in (mediastinum, diaphragm, chest wall), only the shape prior separates them (up to +12 mm);
 * lobulated and spiculated margins past the smooth envelope are cut (down to -10 mm). Before the fix the
 * same masses measured 29-37 mm with a 5 mm hint (the 25 mm search box showing through) and 83-110 mm with a
 * 20 mm hint (leaks into those structures).
 */

const folder = path.join(sampleDir ?? 'shared-data-absent', 'lidc/LIDC-IDRI-0001');
const present = sampleDir !== undefined && fs.existsSync(folder);
if (!present && sampleDataRequired) {
  throw new Error(`CI is set but ${folder} is missing: the large-mass measurement tests would be skipped`);
}
if (!present) {
  console.warn(
    `large-mass-measurement.test.ts: skipped, no LIDC-IDRI-0001 in the shared data (../shared/data or NODUS_SAMPLE_DIR)`,
  );
}

const HINTS_MM = [5, 10, 20];

interface Case {
  diameterMm: number;
  seed: number;
  volume: CtVolume;
  inserted: InsertedNodule;
  /** Voxels of the truth (clipped to the lungs). */
  truth: Uint8Array;
  truthVolumeMm3: number;
  truthAxes: { long: number; short: number };
  /** Volume of the voxels the insertion changed (partial-volume tails included), mm^3. */
  changedVolumeMm3: number;
}

/** Voxel index (continuous) of an LPS point: the inverse of the volume's orthonormal affine. */
function lpsToIjk(volume: CtVolume, lps: Vec3): Vec3 {
  const d = volume.direction;
  const offset = lps.map((v, a) => v - volume.originLps[a]!);
  return [0, 1, 2].map(
    (n) =>
      (offset[0]! * d[3 * n]! + offset[1]! * d[3 * n + 1]! + offset[2]! * d[3 * n + 2]!) /
      volume.spacingMm[n]!,
  ) as Vec3;
}

function insertMass(item: AnnotatedCase, lungs: LungMask, diameterMm: number, seed: number): Case {
  const options = {
    count: 1,
    diameterMm: [diameterMm, diameterMm] as [number, number],
    typeShares: { solid: 1, partSolid: 0 },
    avoid: item.avoid,
    allowJuxtapleural: true,
    minSeparationMm: 80,
  };
  const { volume, inserted } = withRandomNodules(item.volume, lungs.mask, mulberry32(seed), options);
  expect(inserted).toHaveLength(1);
  const nodule = inserted[0]!;

  // Replay: the site draws, then diameter, type and shape, then the insertion's own draws (HU, shape first).
  let siteDraws = 0;
  const counting = mulberry32(seed);
  const sites = pickInsertionSites(
    item.volume,
    lungs.mask,
    1,
    () => {
      siteDraws += 1;
      return counting();
    },
    {
      diameterMm: options.diameterMm,
      minDistanceFromEdgeMm: 0,
      minSeparationMm: options.minSeparationMm,
      avoidLps: options.avoid,
      allowJuxtapleural: true,
    },
  );
  const replay = mulberry32(seed);
  for (let n = 0; n < siteDraws + 3; n += 1) replay();
  const blank: CtVolume = { ...item.volume, hu: new Int16Array(item.volume.hu.length).fill(-1000) };
  const again = insertSyntheticNodule(
    blank,
    { centreLps: nodule.centreLps, diameterMm: nodule.diameterMm, type: nodule.type, shape: nodule.shape },
    replay,
  );
  // The replay must be the same nodule (else withRandomNodules' draws changed: update the replay above).
  expect(sites[0]).toEqual(nodule.centreLps);
  expect([again.volumeMm3, again.solidHu]).toEqual([nodule.volumeMm3, nodule.solidHu]);

  const [nx, ny, nz] = volume.dimensions;
  const voxelMm3 = volume.spacingMm[0] * volume.spacingMm[1] * volume.spacingMm[2];
  const half = (again.solidHu! - 1000) / 2;
  const truth = new Uint8Array(blank.hu.length);
  const bounds = [nx, ny, nz, -1, -1, -1];
  let count = 0;
  let changed = 0;
  for (let p = 0; p < truth.length; p += 1) {
    if (volume.hu[p] !== item.volume.hu[p]) changed += 1;
    if (blank.hu[p]! < half || !lungs.mask[p]) continue;
    truth[p] = 1;
    count += 1;
    const ijk = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
    for (let a = 0; a < 3; a += 1) {
      bounds[a] = Math.min(bounds[a]!, ijk[a]!);
      bounds[3 + a] = Math.max(bounds[3 + a]!, ijk[a]!);
    }
  }
  const [w, h, d] = [0, 1, 2].map((a) => bounds[3 + a]! - bounds[a]! + 1) as Vec3;
  const box = new Uint8Array(w * h * d);
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        box[x + w * (y + h * z)] = truth[x + bounds[0]! + nx * (y + bounds[1]! + ny * (z + bounds[2]!))]!;
      }
  return {
    diameterMm,
    seed,
    volume,
    inserted: nodule,
    truth,
    truthVolumeMm3: count * voxelMm3,
    truthAxes: axialAxes(box, [w, h, d], volume.spacingMm),
    changedVolumeMm3: changed * voxelMm3,
  };
}

function measure(item: Case, lungs: LungMask, radiusHintMm: number): { m: NoduleMeasurement; ms: number } {
  const started = performance.now();
  const m = measureNodule(
    item.volume,
    { ijk: lpsToIjk(item.volume, item.inserted.centreLps).map(Math.round) as Vec3 },
    { radiusHintMm, lungMask: lungs.mask },
  );
  const ms = performance.now() - started;
  expect(m, `${item.diameterMm} mm mass, seed ${item.seed}, hint ${radiusHintMm} mm`).toBeDefined();
  return { m: m!, ms };
}

function insideLungs(volume: CtVolume, lungs: LungMask, ijk: Vec3): boolean {
  const [i, j, k] = ijk.map(Math.round) as Vec3;
  const [nx, ny] = volume.dimensions;
  return lungs.mask[i + nx * (j + ny * k)] === 1;
}

/** Dice overlap of a measurement's mask with the truth. */
function dice(item: Case, m: NoduleMeasurement): number {
  const [i0, j0, k0, i1, j1, k1] = m.boundingBoxIjk;
  const [nx, ny] = item.volume.dimensions;
  const w = i1 - i0 + 1;
  const h = j1 - j0 + 1;
  let both = 0;
  let measured = 0;
  for (let k = k0; k <= k1; k += 1)
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        if (!m.mask.data[i - i0 + w * (j - j0 + h * (k - k0))]) continue;
        measured += 1;
        if (item.truth[i + nx * (j + ny * k)]) both += 1;
      }
  const voxelMm3 = item.volume.spacingMm[0] * item.volume.spacingMm[1] * item.volume.spacingMm[2];
  return (2 * both) / (measured + item.truthVolumeMm3 / voxelMm3);
}

describe.skipIf(!present)(
  present
    ? 'measureNodule on masses inserted into LIDC-IDRI-0001'
    : 'measureNodule on inserted masses (skipped: no LIDC-IDRI-0001 in the shared data)',
  () => {
    let item: AnnotatedCase;
    let lungs: LungMask;
    beforeAll(async () => {
      item = await lidcCase(folder);
      lungs = segmentLungs(item.volume);
    }, 120_000);

    // Seeds 1 (juxtapleural, lobulated, clipped by the chest wall), 6 (round, against the mediastinum) and
    // 12 (round, against the pleura).
    it.each([1, 6, 12])(
      'measures a 60 mm mass (seed %i) whole with hints of 5, 10 and 20 mm, centred in the lungs',
      (seed) => {
        const mass = insertMass(item, lungs, 60, seed);
        const truthMean = (mass.truthAxes.long + mass.truthAxes.short) / 2;
        expect(mass.truthVolumeMm3).toBeLessThanOrEqual(mass.changedVolumeMm3);
        const longs: number[] = [];
        for (const hint of HINTS_MM) {
          const { m, ms } = measure(mass, lungs, hint);
          const label = `seed ${seed}, hint ${hint} mm: ${m.longAxisMm} x ${m.shortAxisMm} mm, ${Math.round(m.volumeMm3)} mm^3 (truth ${mass.truthAxes.long.toFixed(1)} mm, ${Math.round(mass.truthVolumeMm3)} mm^3)`;
          // One lesion of about 60 mm: not the search box (25-50 mm) and not a leak (80-110 mm).
          expect(m.longAxisMm, label).toBeGreaterThanOrEqual(0.85 * mass.truthAxes.long);
          expect(m.longAxisMm, label).toBeLessThanOrEqual(1.2 * mass.truthAxes.long);
          expect(Math.abs(m.meanDiameterMm - truthMean), label).toBeLessThanOrEqual(0.12 * truthMean);
          expect(m.volumeMm3, label).toBeGreaterThanOrEqual(0.85 * mass.truthVolumeMm3);
          expect(m.volumeMm3, label).toBeLessThanOrEqual(1.3 * mass.truthVolumeMm3);
          expect(dice(mass, m), label).toBeGreaterThanOrEqual(0.85);
          expect(m.type, label).toBe('solid');
          expect(insideLungs(mass.volume, lungs, m.centreIjk), label).toBe(true);
          // Well under 0.5 s on two cores (measured 0.15-0.45 s); a generous bound against a pathology.
          expect(ms, label).toBeLessThan(3000);
          longs.push(m.longAxisMm);
        }
        // The hint only starts the search: the lesion is the same.
        expect(Math.max(...longs) - Math.min(...longs)).toBeLessThanOrEqual(2);
      },
      60_000,
    );

    // Nodules whose segmentation stays inside the first search region are measured at their half-contrast
    // edge: within 1.5 mm of the true axial diameters (Lung-RADS counts less than 1.5 mm as no growth).
    it.each([
      { diameterMm: 30, seed: 3, hint: 15 },
      { diameterMm: 12, seed: 14, hint: 6 },
    ])(
      'measures the $diameterMm mm nodule (seed $seed, hint $hint mm) like its true axes',
      ({ diameterMm, seed, hint }) => {
        const nodule = insertMass(item, lungs, diameterMm, seed);
        const { m } = measure(nodule, lungs, hint);
        expect(m.longAxisMm).toBeGreaterThanOrEqual(m.shortAxisMm);
        expect(insideLungs(nodule.volume, lungs, m.centreIjk)).toBe(true);
        const truthMean = (nodule.truthAxes.long + nodule.truthAxes.short) / 2;
        expect(
          Math.abs(m.meanDiameterMm - truthMean),
          `${m.meanDiameterMm} vs ${truthMean}`,
        ).toBeLessThanOrEqual(1.5);
      },
      60_000,
    );
  },
);
