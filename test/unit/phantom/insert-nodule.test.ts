import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  insertSyntheticNodule,
  mulberry32,
  pickInsertionSites,
  type InsertedNodule,
  type InsertionSiteOptions,
  type SyntheticNodule,
} from '../../../src/phantom/insert-nodule.js';
import { listFiles } from '../../../src/dicom/part10-files.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../../../src/volume/series-files.js';
import { voxelToLpsAffine, type CtVolume, type Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

// --- helpers -----------------------------------------------------------------------------------------------

function lpsOf(volume: CtVolume, i: number, j: number, k: number): Vec3 {
  const m = voxelToLpsAffine(volume);
  return [
    m[0]! * i + m[1]! * j + m[2]! * k + m[3]!,
    m[4]! * i + m[5]! * j + m[6]! * k + m[7]!,
    m[8]! * i + m[9]! * j + m[10]! * k + m[11]!,
  ];
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** Visits the voxels whose centres lie within radiusMm of centre (axis-aligned volumes only). */
function forEachInBall(
  volume: CtVolume,
  centre: Vec3,
  radiusMm: number,
  visit: (index: number, distanceMm: number, lps: Vec3) => void,
): void {
  const [nx, ny] = volume.dimensions;
  const low = [0, 1, 2].map((a) =>
    Math.max(0, Math.floor((centre[a]! - radiusMm - volume.originLps[a]!) / volume.spacingMm[a]!)),
  );
  const high = [0, 1, 2].map((a) =>
    Math.min(
      volume.dimensions[a]! - 1,
      Math.ceil((centre[a]! + radiusMm - volume.originLps[a]!) / volume.spacingMm[a]!),
    ),
  );
  for (let k = low[2]!; k <= high[2]!; k += 1)
    for (let j = low[1]!; j <= high[1]!; j += 1)
      for (let i = low[0]!; i <= high[0]!; i += 1) {
        const lps = lpsOf(volume, i, j, k);
        const d = distance(lps, centre);
        if (d <= radiusMm) visit(i + nx * (j + ny * k), d, lps);
      }
}

function sameHu(a: Int16Array, b: Int16Array): boolean {
  return a.length === b.length && a.every((v, index) => v === b[index]);
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function robustSd(values: number[]): number {
  const median = (v: number[]) => {
    const s = Float64Array.from(v).sort();
    return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/** HU of the voxels within radiusMm of centre. */
function valuesInBall(volume: CtVolume, hu: Int16Array, centre: Vec3, radiusMm: number): number[] {
  const values: number[] = [];
  forEachInBall(volume, centre, radiusMm, (index) => values.push(hu[index]!));
  return values;
}

/**
 * Volume-equivalent diameter (mm) of what the insertion raised above `thresholdHu`: voxels above it after,
 * minus those above it before (vessels), within `radiusMm` of the centre.
 */
function thresholdedDiameter(
  volume: CtVolume,
  before: Int16Array,
  centre: Vec3,
  radiusMm: number,
  thresholdHu: number,
): number {
  let count = 0;
  forEachInBall(volume, centre, radiusMm, (index) => {
    count += (volume.hu[index]! > thresholdHu ? 1 : 0) - (before[index]! > thresholdHu ? 1 : 0);
  });
  const voxelMm3 = volume.spacingMm[0] * volume.spacingMm[1] * volume.spacingMm[2];
  return Math.cbrt((6 * count * voxelMm3) / Math.PI);
}

/** Farthest distance from `centre` of a voxel whose HU changed, mm (0 when none did). */
function farthestChange(volume: CtVolume, before: Int16Array, centre: Vec3): number {
  const [nx, ny] = volume.dimensions;
  let farthest = 0;
  for (let index = 0; index < before.length; index += 1) {
    if (volume.hu[index] === before[index]) continue;
    const i = index % nx;
    const j = Math.floor(index / nx) % ny;
    const k = Math.floor(index / (nx * ny));
    farthest = Math.max(farthest, distance(lpsOf(volume, i, j, k), centre));
  }
  return farthest;
}

/** The test's lung mask: HU below -400 not connected (in its slice) to the slice's border. */
function thresholdLungMask(volume: CtVolume): Uint8Array {
  const [nx, ny, nz] = volume.dimensions;
  const mask = new Uint8Array(volume.hu.length);
  const stack = new Int32Array(nx * ny);
  for (let k = 0; k < nz; k += 1) {
    const base = nx * ny * k;
    for (let n = 0; n < nx * ny; n += 1) mask[base + n] = volume.hu[base + n]! < -400 ? 1 : 0;
    let top = 0;
    const push = (i: number, j: number) => {
      const n = base + i + nx * j;
      if (mask[n] !== 1) return;
      mask[n] = 2;
      stack[top++] = i + nx * j;
    };
    for (let i = 0; i < nx; i += 1) {
      push(i, 0);
      push(i, ny - 1);
    }
    for (let j = 0; j < ny; j += 1) {
      push(0, j);
      push(nx - 1, j);
    }
    while (top > 0) {
      const p = stack[--top]!;
      const i = p % nx;
      const j = (p - i) / nx;
      if (i > 0) push(i - 1, j);
      if (i < nx - 1) push(i + 1, j);
      if (j > 0) push(i, j - 1);
      if (j < ny - 1) push(i, j + 1);
    }
    for (let n = 0; n < nx * ny; n += 1) mask[base + n] = mask[base + n] === 1 ? 1 : 0;
  }
  return mask;
}

/** Checks every constraint of pickInsertionSites by brute force. */
function expectSitesRespect(
  volume: CtVolume,
  mask: Uint8Array,
  sites: Vec3[],
  options: InsertionSiteOptions,
): void {
  const radius = options.diameterMm[1] / 2;
  const clearance = (options.allowJuxtapleural ? 0 : radius) + options.minDistanceFromEdgeMm;
  const [nx, ny] = volume.dimensions;
  sites.forEach((site, n) => {
    // In the lungs, with no non-lung voxel (nor the volume's border) within the clearance.
    const ijk = [0, 1, 2].map((a) => (site[a]! - volume.originLps[a]!) / volume.spacingMm[a]!);
    const [i, j, k] = ijk.map(Math.round) as Vec3;
    expect(mask[i + nx * (j + ny * k)]).toBe(1);
    forEachInBall(volume, site, clearance, (index) => expect(mask[index]).toBe(1));
    ijk.forEach((v, a) => {
      const edgeMm = Math.min(v, volume.dimensions[a]! - 1 - v) * volume.spacingMm[a]!;
      expect(edgeMm).toBeGreaterThanOrEqual(clearance - volume.spacingMm[a]!);
    });
    // Parenchyma around the centre.
    expect(mean(valuesInBall(volume, volume.hu, site, Math.min(radius, 6)))).toBeLessThan(
      options.maxBackgroundHu ?? -600,
    );
    // Apart from each other and from the regions to avoid.
    sites
      .slice(n + 1)
      .forEach((other) => expect(distance(site, other)).toBeGreaterThanOrEqual(options.minSeparationMm));
    options.avoidLps?.forEach((region) =>
      expect(distance(site, region.centreLps)).toBeGreaterThanOrEqual(region.radiusMm + radius),
    );
  });
}

// --- a synthetic block: soft tissue around a ball of noisy parenchyma, with one vessel -------------------

const BLOCK_CENTRE: Vec3 = [42, 42, 50];
const BLOCK_LUNG_RADIUS_MM = 38;
const VESSEL_AT = { x: 42, y: 28 }; // a vessel along z, 2.5 mm in radius

function syntheticBlock(): { volume: CtVolume; mask: Uint8Array } {
  const dimensions: Vec3 = [121, 121, 41];
  const spacingMm: Vec3 = [0.7, 0.7, 2.5];
  const [nx, ny, nz] = dimensions;
  const hu = new Int16Array(nx * ny * nz);
  const mask = new Uint8Array(hu.length);
  const rng = mulberry32(99);
  const volume: CtVolume = {
    dimensions,
    spacingMm,
    originLps: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    hu,
    paddingVoxels: 0,
  };
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1)
      for (let i = 0; i < nx; i += 1) {
        const p = lpsOf(volume, i, j, k);
        const noise = (rng() + rng() + rng() + rng() - 2) * 25 * Math.sqrt(3); // sd 25 HU
        const index = i + nx * (j + ny * k);
        if (distance(p, BLOCK_CENTRE) <= BLOCK_LUNG_RADIUS_MM) {
          mask[index] = 1;
          const vessel = Math.hypot(p[0] - VESSEL_AT.x, p[1] - VESSEL_AT.y) <= 2.5;
          hu[index] = Math.round((vessel ? 30 : -850) + noise);
        } else hu[index] = Math.round(40 + noise);
      }
  return { volume, mask };
}

describe('insertSyntheticNodule on a synthetic block', () => {
  const { volume, mask } = syntheticBlock();
  const pristine = volume.hu.slice();
  beforeEach(() => volume.hu.set(pristine));
  const insert = (
    nodule: Omit<SyntheticNodule, 'centreLps'> & { centreLps?: Vec3 },
    seed = 1,
    withMask = false,
  ) =>
    insertSyntheticNodule(
      volume,
      { centreLps: BLOCK_CENTRE, ...nodule },
      mulberry32(seed),
      withMask ? { lungMask: mask } : {},
    );

  it.each([
    { type: 'solid', shape: 'round', diameterMm: 4 },
    { type: 'solid', shape: 'round', diameterMm: 8 },
    { type: 'solid', shape: 'lobulated', diameterMm: 12 },
    { type: 'solid', shape: 'round', diameterMm: 24 },
    { type: 'ground-glass', shape: 'round', diameterMm: 10 },
    { type: 'ground-glass', shape: 'lobulated', diameterMm: 20 },
  ] as const)(
    'a $shape $type nodule of $diameterMm mm thresholds at half contrast to its diameter within 1 mm',
    (nodule) => {
      const result = insert(nodule);
      const tissue = result.type === 'solid' ? result.solidHu! : result.groundGlassHu!;
      const diameter = thresholdedDiameter(
        volume,
        pristine,
        BLOCK_CENTRE,
        result.extentMm,
        (tissue - 850) / 2,
      );
      expect(Math.abs(diameter - nodule.diameterMm)).toBeLessThan(1);
    },
  );

  it.each([
    { type: 'solid', shape: 'round', diameterMm: 10 },
    { type: 'solid', shape: 'lobulated', diameterMm: 14 },
    { type: 'solid', shape: 'spiculated', diameterMm: 14 },
    { type: 'ground-glass', shape: 'spiculated', diameterMm: 18 },
  ] as const)('the rendered volume of a $shape $type nodule matches its analytic volume', (nodule) => {
    const result = insert(nodule);
    const tissue = result.type === 'solid' ? result.solidHu! : result.groundGlassHu!;
    // Sum of partial-volume fractions: (HU after - HU before) / contrast, over every voxel.
    let fractions = 0;
    forEachInBall(volume, BLOCK_CENTRE, result.extentMm, (index) => {
      fractions += (volume.hu[index]! - pristine[index]!) / (tissue + 850);
    });
    const rendered = fractions * 0.7 * 0.7 * 2.5;
    expect(rendered / result.volumeMm3).toBeGreaterThan(0.95);
    expect(rendered / result.volumeMm3).toBeLessThan(1.05);
    const sphere = (Math.PI / 6) * nodule.diameterMm ** 3;
    if (nodule.shape === 'spiculated') expect(result.volumeMm3).toBeGreaterThan(sphere * 1.005);
    else expect(result.volumeMm3).toBeCloseTo(sphere, 6);
  });

  it('gives a part-solid nodule a solid core inside ground glass', () => {
    const result = insert({ type: 'part-solid', diameterMm: 22, solidComponentMm: 8, shape: 'round' });
    expect(result.solidComponentMm).toBe(8);
    expect(result.solidVolumeMm3).toBeCloseTo((Math.PI / 6) * 8 ** 3, 6);
    expect(distance(result.solidCentreLps, BLOCK_CENTRE)).toBeLessThan(22 / 2 - 8 / 2);
    const core = mean(valuesInBall(volume, volume.hu, result.solidCentreLps, 2));
    expect(Math.abs(core - result.solidHu!)).toBeLessThan(25);
    const ring: number[] = [];
    forEachInBall(volume, BLOCK_CENTRE, 11 - 2.5, (index, _, lps) => {
      if (distance(lps, result.solidCentreLps) > 4 + 2.5) ring.push(volume.hu[index]!);
    });
    expect(ring.length).toBeGreaterThan(100);
    expect(Math.abs(mean(ring) - result.groundGlassHu!)).toBeLessThan(15);
    // The solid core's equivalent diameter, thresholded halfway between ground glass and solid.
    const threshold = (result.solidHu! + result.groundGlassHu!) / 2;
    const coreDiameter = thresholdedDiameter(volume, pristine, result.solidCentreLps, 8, threshold);
    expect(Math.abs(coreDiameter - 8)).toBeLessThan(1);
  });

  it('keeps the background noise inside the nodule instead of a flat fill', () => {
    const result = insert({ type: 'solid', diameterMm: 20, solidHu: 30 });
    const backgroundSd = robustSd(valuesInBall(volume, pristine, [42, 60, 50], 6)); // parenchyma, no vessel
    expect(result.noiseSdHu / backgroundSd).toBeGreaterThan(0.85);
    expect(result.noiseSdHu / backgroundSd).toBeLessThan(1.15);
    const inside = valuesInBall(volume, volume.hu, BLOCK_CENTRE, 6);
    expect(Math.abs(mean(inside) - 30)).toBeLessThan(8);
    expect(robustSd(inside) / backgroundSd).toBeGreaterThan(0.75);
    expect(robustSd(inside) / backgroundSd).toBeLessThan(1.3);
  });

  it('changes no voxel beyond diameter/2 + 3 mm (round) or beyond the reported extent (any shape)', () => {
    for (const diameterMm of [3, 10, 20]) {
      volume.hu.set(pristine);
      insert({ type: 'solid', diameterMm, shape: 'round' });
      expect(farthestChange(volume, pristine, BLOCK_CENTRE)).toBeLessThanOrEqual(diameterMm / 2 + 3);
    }
    for (const shape of ['lobulated', 'spiculated'] as const) {
      volume.hu.set(pristine);
      const result = insert({ type: 'part-solid', diameterMm: 16, shape }, 5);
      const farthest = farthestChange(volume, pristine, BLOCK_CENTRE);
      expect(farthest).toBeGreaterThan(16 / 2);
      expect(farthest).toBeLessThanOrEqual(result.extentMm);
    }
  });

  it('is deterministic for a seed, and another seed gives another nodule', () => {
    const nodule = { type: 'part-solid', diameterMm: 14, shape: 'spiculated' } as const;
    const first = insert(nodule, 7);
    const firstHu = volume.hu.slice();
    volume.hu.set(pristine);
    const again = insert(nodule, 7);
    expect(again).toEqual(first);
    expect(sameHu(volume.hu, firstHu)).toBe(true);
    volume.hu.set(pristine);
    const other = insert(nodule, 8);
    expect(other.solidHu).not.toBe(first.solidHu);
    expect(sameHu(volume.hu, firstHu)).toBe(false);
  });

  it('never paints outside the lung mask', () => {
    // Centred 2 mm inside the lung's edge: half of the nodule lies in the chest wall.
    const centre: Vec3 = [BLOCK_CENTRE[0] + BLOCK_LUNG_RADIUS_MM - 2, BLOCK_CENTRE[1], BLOCK_CENTRE[2]];
    const outsideChanged = () => {
      let inside = 0;
      let outside = 0;
      volume.hu.forEach((v, index) => {
        if (v === pristine[index]) return;
        if (mask[index]) inside += 1;
        else outside += 1;
      });
      return { inside, outside };
    };
    insert({ type: 'solid', diameterMm: 12, centreLps: centre }, 3, true);
    const clipped = outsideChanged();
    expect(clipped.outside).toBe(0);
    expect(clipped.inside).toBeGreaterThan(100);
    volume.hu.set(pristine);
    insert({ type: 'solid', diameterMm: 12, centreLps: centre }, 3, false);
    expect(outsideChanged().outside).toBeGreaterThan(100);
  });

  it('leaves a vessel visible through ground glass, and hides it in solid tissue', () => {
    const onVessel: Vec3 = [VESSEL_AT.x, VESSEL_AT.y, BLOCK_CENTRE[2]];
    const vesselCore = () => mean(valuesInBall(volume, volume.hu, onVessel, 1.2));
    const before = mean(valuesInBall(volume, pristine, onVessel, 1.2));
    const glass = insert({ type: 'ground-glass', diameterMm: 14, centreLps: onVessel, groundGlassHu: -600 });
    expect(glass.groundGlassHu).toBe(-600);
    expect(Math.abs(vesselCore() - before)).toBeLessThan(30);
    volume.hu.set(pristine);
    insert({ type: 'solid', diameterMm: 14, centreLps: onVessel, solidHu: -40 });
    expect(Math.abs(vesselCore() - -40)).toBeLessThan(20);
  });

  it('rejects sizes outside 3-80 mm, a solid component not inside the nodule and a mask of another size', () => {
    expect(() => insert({ type: 'solid', diameterMm: 2 })).toThrow(RangeError);
    expect(() => insert({ type: 'solid', diameterMm: 81 })).toThrow(RangeError);
    expect(() => insert({ type: 'part-solid', diameterMm: 10, solidComponentMm: 10 })).toThrow(RangeError);
    expect(() =>
      insertSyntheticNodule(
        volume,
        { centreLps: BLOCK_CENTRE, diameterMm: 8, type: 'solid' },
        mulberry32(1),
        {
          lungMask: new Uint8Array(10),
        },
      ),
    ).toThrow(RangeError);
    expect(sameHu(volume.hu, pristine)).toBe(true);
  });
});

describe('insertSyntheticNodule with an oblique, reversed orientation', () => {
  it('centres the nodule at centreLps and sizes it in mm, not voxels', () => {
    // axis_i along -y, axis_j along +x, axis_k along -z (head to feet); anisotropic voxels.
    const dimensions: Vec3 = [70, 50, 30];
    const volume: CtVolume = {
      dimensions,
      spacingMm: [0.6, 0.9, 1.5],
      originLps: [-20, 15, 40],
      direction: [0, -1, 0, 1, 0, 0, 0, 0, -1],
      hu: new Int16Array(70 * 50 * 30).fill(-850),
      paddingVoxels: 0,
    };
    const centre = lpsOf(volume, 33.3, 24.6, 14.2);
    const result = insertSyntheticNodule(
      volume,
      { centreLps: centre, diameterMm: 12, type: 'solid', solidHu: 50 },
      mulberry32(3),
    );
    const [nx, ny] = dimensions;
    const weighted: Vec3 = [0, 0, 0];
    let total = 0;
    let above = 0;
    volume.hu.forEach((v, index) => {
      const fraction = (v + 850) / 900;
      if (fraction > 0.5) above += 1;
      if (Math.abs(v + 850) < 1) return;
      const lps = lpsOf(volume, index % nx, Math.floor(index / nx) % ny, Math.floor(index / (nx * ny)));
      for (let a = 0; a < 3; a += 1) weighted[a] = weighted[a]! + fraction * lps[a]!;
      total += fraction;
    });
    weighted.forEach((c, a) => expect(Math.abs(c / total - centre[a]!)).toBeLessThan(0.3));
    const diameter = Math.cbrt((6 * above * 0.6 * 0.9 * 1.5) / Math.PI);
    expect(Math.abs(diameter - 12)).toBeLessThan(1);
    expect(total * 0.6 * 0.9 * 1.5).toBeCloseTo(result.volumeMm3, -1.5);
  });
});

describe('pickInsertionSites on a synthetic block', () => {
  const { volume, mask } = syntheticBlock();

  it('keeps sites clear of the edge, of each other, of the regions to avoid and of the vessel', () => {
    const options: InsertionSiteOptions = {
      diameterMm: [6, 12],
      minDistanceFromEdgeMm: 3,
      minSeparationMm: 15,
      avoidLps: [{ centreLps: BLOCK_CENTRE, radiusMm: 8 }],
    };
    const sites = pickInsertionSites(volume, mask, 8, mulberry32(4), options);
    expect(sites.length).toBeGreaterThanOrEqual(4);
    expectSitesRespect(volume, mask, sites, options);
    sites.forEach((site) =>
      expect(Math.hypot(site[0] - VESSEL_AT.x, site[1] - VESSEL_AT.y)).toBeGreaterThan(2.5 + 1),
    );
    expect(pickInsertionSites(volume, mask, 8, mulberry32(4), options)).toEqual(sites);
  });

  it('keeps out of a large region to avoid', () => {
    // The excluded sphere (20 + 5 mm around a point 15 mm off-centre) holds much of the usable lung.
    const avoid = {
      centreLps: [BLOCK_CENTRE[0] + 15, BLOCK_CENTRE[1], BLOCK_CENTRE[2]] as Vec3,
      radiusMm: 20,
    };
    const options: InsertionSiteOptions = {
      diameterMm: [10, 10],
      minDistanceFromEdgeMm: 0,
      minSeparationMm: 5,
      avoidLps: [avoid],
    };
    const sites = pickInsertionSites(volume, mask, 12, mulberry32(6), options);
    expect(sites.length).toBe(12);
    expectSitesRespect(volume, mask, sites, options);
  });

  it('picks only parenchyma darker than maxBackgroundHu', () => {
    // The block's parenchyma averages -850 HU.
    const options: InsertionSiteOptions = {
      diameterMm: [8, 8],
      minDistanceFromEdgeMm: 0,
      minSeparationMm: 5,
    };
    expect(
      pickInsertionSites(volume, mask, 3, mulberry32(1), { ...options, maxBackgroundHu: -830 }),
    ).toHaveLength(3);
    expect(
      pickInsertionSites(volume, mask, 3, mulberry32(1), {
        ...options,
        maxBackgroundHu: -870,
        maxTries: 500,
      }),
    ).toHaveLength(0);
  });

  it('allows juxtapleural centres only when asked', () => {
    const options: InsertionSiteOptions = {
      diameterMm: [8, 8],
      minDistanceFromEdgeMm: 0,
      minSeparationMm: 4,
    };
    const edgeDistance = (site: Vec3) => BLOCK_LUNG_RADIUS_MM - distance(site, BLOCK_CENTRE);
    const inner = pickInsertionSites(volume, mask, 30, mulberry32(2), options);
    const juxtapleural = pickInsertionSites(volume, mask, 30, mulberry32(2), {
      ...options,
      allowJuxtapleural: true,
    });
    expectSitesRespect(volume, mask, inner, options);
    expectSitesRespect(volume, mask, juxtapleural, { ...options, allowJuxtapleural: true });
    expect(Math.min(...inner.map(edgeDistance))).toBeGreaterThanOrEqual(4 - 0.5);
    expect(Math.min(...juxtapleural.map(edgeDistance))).toBeLessThan(4);
  });

  it('returns fewer sites where the lungs cannot hold them', () => {
    const options: InsertionSiteOptions = {
      diameterMm: [10, 30],
      minDistanceFromEdgeMm: 5,
      minSeparationMm: 40,
    };
    const sites = pickInsertionSites(volume, mask, 5, mulberry32(1), { ...options, maxTries: 3000 });
    expect(sites.length).toBeLessThan(5);
    expectSitesRespect(volume, mask, sites, options);
  });
});

// --- the real CT: LIDC-IDRI-0001 -------------------------------------------------------------------------

describe.skipIf(!sampleDir)('inserting nodules into LIDC-IDRI-0001', () => {
  let volume: CtVolume;
  let pristine: Int16Array;
  let mask: Uint8Array;
  let sites: Vec3[];
  const siteOptions: InsertionSiteOptions = {
    diameterMm: [6, 16],
    minDistanceFromEdgeMm: 2,
    minSeparationMm: 40,
  };

  beforeAll(async () => {
    const files = await listFiles([path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001')]);
    const reconstruction = await reconstructSeries(readPart10FilesReusingBuffer(files), {
      expectedSlices: files.length,
      scratchInput: true,
    });
    if (!reconstruction.volume) throw new Error('LIDC-IDRI-0001 did not reconstruct');
    volume = reconstruction.volume;
    pristine = volume.hu.slice();
    mask = thresholdLungMask(volume);
    sites = pickInsertionSites(volume, mask, 6, mulberry32(11), siteOptions);
  });
  beforeEach(() => volume.hu.set(pristine));

  /** Median HU of the parenchyma around a site (the level the nodule replaces). */
  const parenchymaHu = (centre: Vec3, radiusMm: number) => {
    const values = valuesInBall(volume, pristine, centre, radiusMm).filter((v) => v < -500);
    return Float64Array.from(values).sort()[values.length >> 1]!;
  };

  it('finds sites that respect every constraint', () => {
    expect(sites.length).toBe(6);
    expectSitesRespect(volume, mask, sites, siteOptions);
    const avoid = { centreLps: sites[0]!, radiusMm: 25 };
    const more = pickInsertionSites(volume, mask, 6, mulberry32(12), { ...siteOptions, avoidLps: [avoid] });
    expect(more.length).toBe(6);
    expectSitesRespect(volume, mask, more, { ...siteOptions, avoidLps: [avoid] });
  });

  it.each([
    { site: 0, diameterMm: 6 },
    { site: 1, diameterMm: 10 },
    { site: 2, diameterMm: 16 },
  ])(
    'a solid nodule of $diameterMm mm has solid HU and thresholds to its diameter within 1 mm',
    ({ site, diameterMm }) => {
      const centre = sites[site]!;
      const result = insertSyntheticNodule(
        volume,
        { centreLps: centre, diameterMm, type: 'solid' },
        mulberry32(site),
        {
          lungMask: mask,
        },
      );
      expect(result.solidHu).toBeGreaterThanOrEqual(-50);
      expect(result.solidHu).toBeLessThanOrEqual(60);
      const inside = valuesInBall(volume, volume.hu, centre, Math.max(1.5, diameterMm / 2 - 2));
      expect(Math.abs(mean(inside) - result.solidHu!)).toBeLessThan(diameterMm < 8 ? 40 : 20);
      if (diameterMm >= 10) expect(robustSd(inside)).toBeGreaterThan(0.5 * result.noiseSdHu); // not a flat fill
      const threshold = (result.solidHu! + parenchymaHu(centre, result.extentMm + 5)) / 2;
      const diameter = thresholdedDiameter(volume, pristine, centre, result.extentMm, threshold);
      expect(Math.abs(diameter - diameterMm)).toBeLessThan(1);
      expect(farthestChange(volume, pristine, centre)).toBeLessThanOrEqual(diameterMm / 2 + 3);
    },
  );

  it('keeps ground glass within -750..-450 HU', () => {
    const centre = sites[3]!;
    const result = insertSyntheticNodule(
      volume,
      { centreLps: centre, diameterMm: 14, type: 'ground-glass', shape: 'lobulated' },
      mulberry32(21),
      { lungMask: mask },
    );
    expect(result.groundGlassHu).toBeGreaterThanOrEqual(-750);
    expect(result.groundGlassHu).toBeLessThanOrEqual(-450);
    const inside = valuesInBall(volume, volume.hu, centre, 4);
    expect(mean(inside)).toBeGreaterThan(-750);
    expect(mean(inside)).toBeLessThan(-450);
    // Only vessels (kept visible through the glass) go above the range.
    const vesselsBefore = valuesInBall(volume, pristine, centre, 4).filter((v) => v > -300).length;
    expect(inside.filter((v) => v > -300).length).toBeLessThanOrEqual(vesselsBefore + 2);
    expect(farthestChange(volume, pristine, centre)).toBeLessThanOrEqual(result.extentMm);
  });

  it('gives a part-solid nodule a solid core and a ground-glass rim', () => {
    const centre = sites[4]!;
    const result = insertSyntheticNodule(
      volume,
      { centreLps: centre, diameterMm: 16, solidComponentMm: 6, type: 'part-solid' },
      mulberry32(31),
      { lungMask: mask },
    );
    const core = mean(valuesInBall(volume, volume.hu, result.solidCentreLps, 1.5));
    expect(Math.abs(core - result.solidHu!)).toBeLessThan(40);
    const rim: number[] = [];
    forEachInBall(volume, centre, 8 - 2, (index, _, lps) => {
      if (distance(lps, result.solidCentreLps) > 3 + 2.5) rim.push(volume.hu[index]!);
    });
    expect(mean(rim)).toBeGreaterThan(-750);
    expect(mean(rim)).toBeLessThan(-400);
  });

  it('is deterministic for a seed', () => {
    const nodule: SyntheticNodule = {
      centreLps: sites[5]!,
      diameterMm: 12,
      type: 'solid',
      shape: 'spiculated',
    };
    const first: InsertedNodule = insertSyntheticNodule(volume, nodule, mulberry32(5), { lungMask: mask });
    const firstHu = volume.hu.slice();
    volume.hu.set(pristine);
    expect(insertSyntheticNodule(volume, nodule, mulberry32(5), { lungMask: mask })).toEqual(first);
    expect(sameHu(volume.hu, firstHu)).toBe(true);
  });

  it('clips a juxtapleural nodule to the lung mask', () => {
    const options: InsertionSiteOptions = {
      diameterMm: [12, 12],
      minDistanceFromEdgeMm: 0,
      minSeparationMm: 10,
      allowJuxtapleural: true,
    };
    // Juxtapleural candidates: sites whose 6 mm ball leaves the lungs.
    const candidates = pickInsertionSites(volume, mask, 40, mulberry32(8), options).filter((site) => {
      let outside = 0;
      forEachInBall(volume, site, 6, (index) => (outside += mask[index] ? 0 : 1));
      return outside > 20;
    });
    expect(candidates.length).toBeGreaterThan(0);
    const centre = candidates[0]!;
    insertSyntheticNodule(volume, { centreLps: centre, diameterMm: 12, type: 'solid' }, mulberry32(9), {
      lungMask: mask,
    });
    let inside = 0;
    let outside = 0;
    forEachInBall(volume, centre, 20, (index) => {
      if (volume.hu[index] === pristine[index]) return;
      if (mask[index]) inside += 1;
      else outside += 1;
    });
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(200);
  });
});
