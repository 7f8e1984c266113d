// Recipe, a check of the synthetic nodule generator: do the solid nodules of src/phantom/insert-nodule.ts look
// like a real one, in HU profile and texture? It measures, it does not tune.
//
//   node --import tsx models/recipes/compare-synthetic-nodule.ts
//
// The real nodule is LIDC-IDRI-0001's (outlined by 4 of 4 readers, about 29.5 mm mean diameter), in
// ../shared/data/lidc/LIDC-IDRI-0001 (or $NODUS_SAMPLE_DIR/lidc/LIDC-IDRI-0001). Steps:
// 1. measure the real nodule about its reference centre, with R = half the reference diameter and only
//    lung-mask voxels (the chest wall it touches is left out), distances in mm from the voxels' LPS centres:
//    - radial HU profile: mean and SD of HU in 1 mm shells from the centre out to 2 R;
//    - interior: mean and SD of HU within 0.6 R (and the SD within 0.4 R, clear of the edge), and the mean
//      |HU difference| between in-plane neighbours (i+1 and j+1, both within 0.6 R), a simple texture measure;
//    - parenchyma: mean HU of the shells 1.5 R - 2 R (the level the edge falls to); robust SD and neighbour
//      difference of its voxels below -500 HU (the background whose noise the generator copies);
//    - edge width: the distance over which the shell profile falls from 80 % to 20 % of the way from the
//      interior mean to the parenchyma mean; also the median of the same width along 72 in-plane rays of the
//      central slice (bilinear, 0.25 mm steps), which a non-spherical outline does not widen;
// 2. pick 3 lung sites of the same scan (pickInsertionSites: at least 40 mm from each other and from every
//    marked lesion, the nodule 5 mm clear of the lung edge, parenchyma around the centre) and insert there, each
//    on a fresh copy of the volume, solid nodules round and lobulated, one seed per shape and site, in two
//    sizes: the reference diameter (the readers' mean of long and short axes) and the diameter of a sphere of
//    the readers' mean outlined volume (the generator's `diameterMm` is volume-equivalent, so this one matches
//    the real nodule's size). solidHu is set to the real nodule's interior mean, so that what is compared is
//    the profile's shape, the edge and the texture, not the drawn attenuation. Each is measured as in 1, with
//    the same R;
// 3. write models/cards/figures/synthetic-vs-real-nodule.json (the numbers), .svg (the profiles, one panel per
//    size, and a table of the texture and edge measures) and .png (axial crops at W1500/L-600: the real
//    nodule, then the round nodule at the first site in each size), and print a summary.
// Deterministic: sites from mulberry32(SITE_SEED), each nodule from mulberry32(SEEDS[shape][site]); about 10 s.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { lidcCase } from '../../src/evaluation/annotated-cases.js';
import { lpsToIjk } from '../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../src/inference/lung-segmentation.js';
import {
  insertSyntheticNodule,
  mulberry32,
  pickInsertionSites,
  type InsertedNodule,
  type NoduleShape,
} from '../../src/phantom/insert-nodule.js';
import { sampleDataDir } from '../../src/main/demo.js';
import { encodeGrayscalePng } from '../../src/volume/grayscale-png.js';
import { voxelToLpsAffine, type CtVolume, type Vec3 } from '../../src/volume/volume.js';

const SITE_SEED = 20240601;
const SHAPES: ('round' | 'lobulated')[] = ['round', 'lobulated'];
const SEEDS: Record<'round' | 'lobulated', number[]> = { round: [101, 102, 103], lobulated: [201, 202, 203] };
const SHELL_MM = 1;
/** The profile reaches this many radii. */
const PROFILE_RADII = 2;
const INTERIOR_RADII = 0.6;
/** A smaller interior, for an SD clear of the edge of a nodule smaller or less round than R says. */
const CORE_RADII = 0.4;
/** The parenchyma level: shells from this many radii out to PROFILE_RADII. */
const PARENCHYMA_RADII = 1.5;
const PARENCHYMA_MAX_HU = -500;
const EDGE_HIGH = 0.8;
const EDGE_LOW = 0.2;
const RAY_COUNT = 72;
const RAY_STEP_MM = 0.25;
/** A ray's edge ends where it stays below the 20 % level this far (not at a dark spot inside). */
const RAY_SUSTAIN_MM = 2;
const SITE_SEPARATION_MM = 40;
const SITE_EDGE_CLEARANCE_MM = 5;
const WINDOW = { width: 1500, level: -600 };
const PNG_SCALE = 4;

const here = path.dirname(fileURLToPath(import.meta.url));
const figures = path.join(here, '../cards/figures');
const caseFolder = path.join(sampleDataDir(process.env.NODUS_SAMPLE_DIR), 'lidc/LIDC-IDRI-0001');

interface Shell {
  /** Shell [rMm, rMm + 1), mm. */
  fromMm: number;
  meanHu: number;
  sdHu: number;
  voxels: number;
}

interface Measurement {
  profile: Shell[];
  interiorMeanHu: number;
  interiorSdHu: number;
  coreSdHu: number;
  interiorNeighbourDiffHu: number;
  parenchymaMeanHu: number;
  parenchymaSdHu: number;
  parenchymaNeighbourDiffHu: number;
  /** Where the shell profile crosses the 80 % and 20 % levels, mm from the centre. */
  edge80Mm: number;
  edge20Mm: number;
  edgeWidthMm: number;
  /** Median and quartiles of the 80-20 % width along in-plane rays, mm; rays that left the lung are skipped. */
  rayEdgeWidthMm: number;
  rayEdgeWidthIqrMm: [number, number];
  raysUsed: number;
}

/** Measures the nodule of radius `radiusMm` about `centreLps` (see the header). */
function measure(volume: CtVolume, mask: Uint8Array, centreLps: Vec3, radiusMm: number): Measurement {
  const [nx, ny] = volume.dimensions;
  const affine = voxelToLpsAffine(volume);
  const reach = PROFILE_RADII * radiusMm;
  const centre = lpsToIjk(volume, centreLps);
  const lo = centre.map((c, a) => Math.max(0, Math.floor(c - reach / volume.spacingMm[a]!) - 1));
  const hi = centre.map((c, a) =>
    Math.min(volume.dimensions[a]! - 1, Math.ceil(c + reach / volume.spacingMm[a]!) + 1),
  );
  const distanceOf = (i: number, j: number, k: number) => {
    const x = affine[0]! * i + affine[1]! * j + affine[2]! * k + affine[3]! - centreLps[0];
    const y = affine[4]! * i + affine[5]! * j + affine[6]! * k + affine[7]! - centreLps[1];
    const z = affine[8]! * i + affine[9]! * j + affine[10]! * k + affine[11]! - centreLps[2];
    return Math.hypot(x, y, z);
  };
  const shells = Math.ceil(reach / SHELL_MM);
  const sum = new Float64Array(shells);
  const sum2 = new Float64Array(shells);
  const count = new Float64Array(shells);
  const interior = new Stats();
  const core = new Stats();
  const interiorDiff = new Stats();
  const parenchymaAll = new Stats();
  const parenchyma: number[] = [];
  const parenchymaDiff = new Stats();
  const inInterior = (i: number, j: number, k: number) =>
    i < nx && j < ny && mask[i + nx * (j + ny * k)] === 1 && distanceOf(i, j, k) < INTERIOR_RADII * radiusMm;
  const inParenchyma = (i: number, j: number, k: number) => {
    if (i >= nx || j >= ny) return false;
    const index = i + nx * (j + ny * k);
    const d = distanceOf(i, j, k);
    return (
      mask[index] === 1 &&
      d >= PARENCHYMA_RADII * radiusMm &&
      d < reach &&
      volume.hu[index]! < PARENCHYMA_MAX_HU
    );
  };
  for (let k = lo[2]!; k <= hi[2]!; k += 1)
    for (let j = lo[1]!; j <= hi[1]!; j += 1)
      for (let i = lo[0]!; i <= hi[0]!; i += 1) {
        const index = i + nx * (j + ny * k);
        if (!mask[index]) continue;
        const d = distanceOf(i, j, k);
        if (d >= reach) continue;
        const hu = volume.hu[index]!;
        const shell = Math.floor(d / SHELL_MM);
        sum[shell]! += hu;
        sum2[shell]! += hu * hu;
        count[shell]! += 1;
        if (d < INTERIOR_RADII * radiusMm) {
          interior.add(hu);
          if (d < CORE_RADII * radiusMm) core.add(hu);
          if (inInterior(i + 1, j, k)) interiorDiff.add(Math.abs(volume.hu[index + 1]! - hu));
          if (inInterior(i, j + 1, k)) interiorDiff.add(Math.abs(volume.hu[index + nx]! - hu));
        }
        if (d >= PARENCHYMA_RADII * radiusMm) {
          parenchymaAll.add(hu);
          if (hu < PARENCHYMA_MAX_HU) {
            parenchyma.push(hu);
            if (inParenchyma(i + 1, j, k)) parenchymaDiff.add(Math.abs(volume.hu[index + 1]! - hu));
            if (inParenchyma(i, j + 1, k)) parenchymaDiff.add(Math.abs(volume.hu[index + nx]! - hu));
          }
        }
      }
  const profile: Shell[] = [];
  for (let s = 0; s < shells; s += 1) {
    const n = count[s]!;
    const mean = n > 0 ? sum[s]! / n : NaN;
    profile.push({
      fromMm: s * SHELL_MM,
      meanHu: mean,
      sdHu: n > 1 ? Math.sqrt(Math.max(0, (sum2[s]! - n * mean * mean) / (n - 1))) : NaN,
      voxels: n,
    });
  }
  const inside = interior.mean();
  const outside = parenchymaAll.mean();
  const high = outside + EDGE_HIGH * (inside - outside);
  const low = outside + EDGE_LOW * (inside - outside);
  // The shell profile, as (shell-centre radius, mean) pairs, crossed downwards from the centre.
  const points = profile.filter((s) => s.voxels > 0).map((s) => [s.fromMm + SHELL_MM / 2, s.meanHu] as const);
  const crossing = (level: number, from: number) => {
    for (let n = 1; n < points.length; n += 1) {
      const [r0, v0] = points[n - 1]!;
      const [r1, v1] = points[n]!;
      if (r1 <= from || v1 >= level) continue;
      return v0 > level ? r0 + ((v0 - level) / (v0 - v1)) * (r1 - r0) : r1;
    }
    return NaN;
  };
  const edge80 = crossing(high, 0);
  const edge20 = crossing(low, edge80);
  const rays = rayEdgeWidths(volume, mask, centre, reach, high, low);
  return {
    profile,
    interiorMeanHu: inside,
    interiorSdHu: interior.sd(),
    coreSdHu: core.sd(),
    interiorNeighbourDiffHu: interiorDiff.mean(),
    parenchymaMeanHu: outside,
    parenchymaSdHu: robustSd(parenchyma),
    parenchymaNeighbourDiffHu: parenchymaDiff.mean(),
    edge80Mm: edge80,
    edge20Mm: edge20,
    edgeWidthMm: edge20 - edge80,
    rayEdgeWidthMm: quantile(rays, 0.5),
    rayEdgeWidthIqrMm: [quantile(rays, 0.25), quantile(rays, 0.75)],
    raysUsed: rays.length,
  };
}

/**
 * The 80-20 % edge width along in-plane rays from the centre, in the slice nearest it: each ray's 20 % point
 * is where it first stays below `low` for RAY_SUSTAIN_MM, its 80 % point the last sample at or above `high`
 * before that. Rays that leave the lung mask or the volume first, or never fall to `low`, are skipped.
 */
function rayEdgeWidths(
  volume: CtVolume,
  mask: Uint8Array,
  centre: Vec3,
  reachMm: number,
  high: number,
  low: number,
): number[] {
  const [nx, ny] = volume.dimensions;
  const k = Math.round(centre[2]);
  const slice = nx * ny * k;
  const sample = (x: number, y: number) => {
    const i = Math.floor(x);
    const j = Math.floor(y);
    const fx = x - i;
    const fy = y - j;
    const at = (a: number, b: number) => volume.hu[slice + a + nx * b]!;
    return (
      (1 - fy) * ((1 - fx) * at(i, j) + fx * at(i + 1, j)) +
      fy * ((1 - fx) * at(i, j + 1) + fx * at(i + 1, j + 1))
    );
  };
  const sustain = Math.round(RAY_SUSTAIN_MM / RAY_STEP_MM);
  const widths: number[] = [];
  for (let ray = 0; ray < RAY_COUNT; ray += 1) {
    const angle = (2 * Math.PI * ray) / RAY_COUNT;
    const values: number[] = [];
    for (let t = 0; t <= reachMm; t += RAY_STEP_MM) {
      const x = centre[0] + (t * Math.cos(angle)) / volume.spacingMm[0];
      const y = centre[1] + (t * Math.sin(angle)) / volume.spacingMm[1];
      if (x < 0 || y < 0 || x >= nx - 1 || y >= ny - 1) break;
      if (!mask[slice + Math.round(x) + nx * Math.round(y)]) break;
      values.push(sample(x, y));
    }
    let end = -1;
    for (let n = 0; n + sustain <= values.length && end < 0; n += 1) {
      if (values.slice(n, n + sustain).every((v) => v < low)) end = n;
    }
    if (end <= 0) continue;
    let start = -1;
    for (let n = end - 1; n >= 0 && start < 0; n -= 1) if (values[n]! >= high) start = n;
    if (start < 0) continue;
    widths.push((end - start) * RAY_STEP_MM);
  }
  return widths;
}

class Stats {
  private n = 0;
  private total = 0;
  private total2 = 0;
  add(value: number): void {
    this.n += 1;
    this.total += value;
    this.total2 += value * value;
  }
  mean(): number {
    return this.n > 0 ? this.total / this.n : NaN;
  }
  sd(): number {
    if (this.n < 2) return NaN;
    const mean = this.total / this.n;
    return Math.sqrt(Math.max(0, (this.total2 - this.n * mean * mean) / (this.n - 1)));
  }
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}

function robustSd(values: number[]): number {
  const median = quantile(values, 0.5);
  return (
    1.4826 *
    quantile(
      values.map((v) => Math.abs(v - median)),
      0.5,
    )
  );
}

function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd =
    values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

// --- the measurements -------------------------------------------------------------------------------------

const started = performance.now();
const annotated = await lidcCase(caseFolder);
const { volume } = annotated;
const firstReference = annotated.references[0];
if (!firstReference) throw new Error(`${caseFolder}: no reference nodule`);
const reference = firstReference;
const radiusMm = reference.diameterMm / 2;
const lungMask = segmentLungs(volume).mask;
const real = measure(volume, lungMask, reference.centreLps, radiusMm);
const solidHu = Math.round(real.interiorMeanHu);

/** Two sizes: the reference's diameter (the readers' mean of long and short axes) and the diameter of a sphere
 * of the readers' mean outlined volume, which is what the generator's `diameterMm` means. */
const readerVolumes = (reference.readers ?? []).map((r) => r.volumeMm3);
const volumeDiameterMm =
  readerVolumes.length > 0 ? Math.cbrt((6 * meanSd(readerVolumes).mean) / Math.PI) : reference.diameterMm;
const SIZES = [
  { size: 'reader' as const, diameterMm: reference.diameterMm },
  { size: 'volume' as const, diameterMm: volumeDiameterMm },
];
type Size = (typeof SIZES)[number]['size'];

const sites = pickInsertionSites(volume, lungMask, 3, mulberry32(SITE_SEED), {
  diameterMm: [volumeDiameterMm, Math.max(reference.diameterMm, volumeDiameterMm)],
  minDistanceFromEdgeMm: SITE_EDGE_CLEARANCE_MM,
  minSeparationMm: SITE_SEPARATION_MM,
  avoidLps: annotated.avoid,
});
if (sites.length < 3) console.warn(`only ${sites.length} insertion sites found`);

interface SyntheticResult {
  size: Size;
  diameterMm: number;
  shape: NoduleShape;
  seed: number;
  site: number;
  centreLps: Vec3;
  inserted: InsertedNodule;
  measurement: Measurement;
  /** The copy with the nodule: kept for the round nodules at the first site (the picture). */
  volume: CtVolume | undefined;
}
const synthetic: SyntheticResult[] = [];
for (const { size, diameterMm } of SIZES)
  for (const shape of SHAPES)
    sites.forEach((centreLps, site) => {
      const seed = SEEDS[shape][site]!;
      const copy: CtVolume = { ...volume, hu: volume.hu.slice() };
      const inserted = insertSyntheticNodule(
        copy,
        { centreLps, diameterMm, type: 'solid', shape, solidHu },
        mulberry32(seed),
        { lungMask },
      );
      // Measured with the real nodule's R, so that shells, interior and parenchyma are the same regions.
      const measurement = measure(copy, lungMask, centreLps, radiusMm);
      const kept = shape === 'round' && site === 0 ? copy : undefined;
      synthetic.push({ size, diameterMm, shape, seed, site, centreLps, inserted, measurement, volume: kept });
    });

// --- the numbers ------------------------------------------------------------------------------------------

type Metric = Exclude<keyof Measurement, 'profile' | 'rayEdgeWidthIqrMm'>;
const METRICS: { key: Metric; label: string; unit: string }[] = [
  { key: 'interiorMeanHu', label: 'Interior mean (< 0.6 R)', unit: 'HU' },
  { key: 'interiorSdHu', label: 'Interior SD (< 0.6 R)', unit: 'HU' },
  { key: 'coreSdHu', label: 'Interior SD (< 0.4 R)', unit: 'HU' },
  { key: 'interiorNeighbourDiffHu', label: 'Interior neighbour |ΔHU| (< 0.6 R)', unit: 'HU' },
  { key: 'edgeWidthMm', label: 'Edge 80→20 %, shell profile', unit: 'mm' },
  { key: 'rayEdgeWidthMm', label: 'Edge 80→20 %, in-plane rays (median)', unit: 'mm' },
  { key: 'edge20Mm', label: 'Radius of the 20 % point, shell profile', unit: 'mm' },
  { key: 'parenchymaMeanHu', label: 'Parenchyma mean (1.5–2 R)', unit: 'HU' },
  { key: 'parenchymaSdHu', label: 'Parenchyma robust SD (< −500 HU)', unit: 'HU' },
  { key: 'parenchymaNeighbourDiffHu', label: 'Parenchyma neighbour |ΔHU|', unit: 'HU' },
];
const GROUPS = SIZES.flatMap(({ size, diameterMm }) =>
  SHAPES.map((shape) => ({ id: `${shape}-${size}`, size, shape, diameterMm })),
);
const membersOf = (group: (typeof GROUPS)[number]) =>
  synthetic.filter((s) => s.size === group.size && s.shape === group.shape);
const summary = {
  real: Object.fromEntries(METRICS.map(({ key }) => [key, round(real[key], 2)])) as Record<Metric, number>,
  ...Object.fromEntries(
    GROUPS.map((group) => [
      group.id,
      Object.fromEntries(
        METRICS.map(({ key }) => {
          const { mean, sd } = meanSd(membersOf(group).map((s) => s.measurement[key]));
          return [key, { mean: round(mean, 2), sd: round(sd, 2) }];
        }),
      ) as Record<Metric, { mean: number; sd: number }>,
    ]),
  ),
} as { real: Record<Metric, number> } & Record<string, Record<Metric, { mean: number; sd: number }>>;
/** Mean over the seeds of each shell's mean and SD. */
const meanProfile = (group: (typeof GROUPS)[number]) =>
  real.profile.map((shell, s) => {
    const shells = membersOf(group).map((r) => r.measurement.profile[s]!);
    return {
      fromMm: shell.fromMm,
      meanHu: meanSd(shells.map((x) => x.meanHu)).mean,
      sdHu: meanSd(shells.map((x) => x.sdHu)).mean,
    };
  });

const roundedMeasurement = (m: Measurement) => ({
  ...Object.fromEntries(METRICS.map(({ key }) => [key, round(m[key], 2)])),
  edge80Mm: round(m.edge80Mm, 2),
  rayEdgeWidthIqrMm: m.rayEdgeWidthIqrMm.map((v) => round(v, 2)),
  raysUsed: m.raysUsed,
  profile: m.profile.map((s) => ({
    fromMm: s.fromMm,
    meanHu: round(s.meanHu),
    sdHu: round(s.sdHu),
    voxels: s.voxels,
  })),
});
fs.mkdirSync(figures, { recursive: true });
const json = {
  description:
    'Radial HU profile, interior texture and edge width of the LIDC-IDRI-0001 nodule and of solid synthetic ' +
    'nodules inserted at other lung sites of the same scan (models/recipes/compare-synthetic-nodule.ts).',
  case: annotated.name,
  reference: {
    centreLps: reference.centreLps.map((v) => round(v, 2)),
    diameterMm: round(reference.diameterMm, 2),
    volumeEquivalentDiameterMm: round(volumeDiameterMm, 2),
    readers: reference.readers?.map((r) => ({
      reader: r.reader,
      meanDiameterMm: round(r.meanDiameterMm, 2),
      longAxisMm: round(r.longAxisMm, 2),
      shortAxisMm: round(r.shortAxisMm, 2),
      volumeMm3: round(r.volumeMm3, 0),
    })),
  },
  method: {
    radiusMm: round(radiusMm, 3),
    radiusNote: 'R = reference diameter / 2 for every measurement, real and synthetic',
    shellMm: SHELL_MM,
    profileReachRadii: PROFILE_RADII,
    interiorRadii: INTERIOR_RADII,
    coreRadii: CORE_RADII,
    parenchymaRadii: [PARENCHYMA_RADII, PROFILE_RADII],
    parenchymaMaxHu: PARENCHYMA_MAX_HU,
    edgeLevels: [EDGE_HIGH, EDGE_LOW],
    rays: { count: RAY_COUNT, stepMm: RAY_STEP_MM, sustainMm: RAY_SUSTAIN_MM, slice: 'nearest the centre' },
    voxels: 'lung-mask voxels only (segmentLungs), distances from voxel centres in LPS mm',
    sizes: SIZES.map((s) => ({ size: s.size, diameterMm: round(s.diameterMm, 2) })),
    solidHu: `${solidHu} (the real nodule's interior mean, rounded; the generator's default draws from [-20, 50])`,
    siteSeed: SITE_SEED,
    seeds: SEEDS,
    siteSeparationMm: SITE_SEPARATION_MM,
    siteEdgeClearanceMm: SITE_EDGE_CLEARANCE_MM,
  },
  summary,
  real: roundedMeasurement(real),
  synthetic: synthetic.map((s) => ({
    size: s.size,
    diameterMm: round(s.diameterMm, 2),
    shape: s.shape,
    seed: s.seed,
    site: s.site,
    centreLps: s.centreLps.map((v) => round(v, 2)),
    solidHu: s.inserted.solidHu,
    noiseSdHu: round(s.inserted.noiseSdHu, 2),
    noiseCorrelationPx: round(s.inserted.noiseCorrelationPx, 3),
    extentMm: round(s.inserted.extentMm, 2),
    changedVoxels: s.inserted.changedVoxels,
    measurement: roundedMeasurement(s.measurement),
  })),
};
// Formatted as the repository's prettier would (the figures are under its format check).
const jsonFile = path.join(figures, 'synthetic-vs-real-nodule.json');
const prettierOptions = (await prettier.resolveConfig(jsonFile)) ?? {};
fs.writeFileSync(
  jsonFile,
  await prettier.format(JSON.stringify(json, null, 2), { ...prettierOptions, filepath: jsonFile }),
);

// --- the SVG: two profile panels and the table ------------------------------------------------------------

const COLOURS = { real: '#222222', round: '#1f6fb4', lobulated: '#d95f02' };
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const dash = (name: string) => (name === 'real' ? '' : ' stroke-dasharray="7 3"');
const widthOf = (name: string) => (name === 'real' ? 2.6 : 2);
const sizeLabel = (size: Size) =>
  size === 'reader'
    ? `${reference.diameterMm.toFixed(1)} mm (readers' diameter)`
    : `${volumeDiameterMm.toFixed(1)} mm (readers' volume)`;

type ProfileLine = { fromMm: number; meanHu: number; sdHu: number };
function profilePanel(
  left: number,
  top: number,
  title: string,
  lines: { name: keyof typeof COLOURS; shells: ProfileLine[] }[],
): string[] {
  const plot = { left, top, width: 500, height: 330 };
  const xMax = Math.ceil((PROFILE_RADII * radiusMm) / 5) * 5;
  const yMin = -1000;
  const yMax = 200;
  const x = (mm: number) => plot.left + (mm / xMax) * plot.width;
  const y = (hu: number) =>
    plot.top + ((yMax - Math.min(yMax, Math.max(yMin, hu))) / (yMax - yMin)) * plot.height;
  const out: string[] = [
    `<text x="${left}" y="${top - 10}" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let hu = yMin; hu <= yMax; hu += 200) {
    out.push(
      `<line x1="${plot.left}" y1="${y(hu)}" x2="${plot.left + plot.width}" y2="${y(hu)}" stroke="#e4e4e4"/>`,
      `<text x="${plot.left - 8}" y="${y(hu) + 4}" text-anchor="end">${hu}</text>`,
    );
  }
  for (let mm = 0; mm <= xMax; mm += 5) {
    out.push(
      `<line x1="${x(mm)}" y1="${plot.top}" x2="${x(mm)}" y2="${plot.top + plot.height}" stroke="#e4e4e4"/>`,
      `<text x="${x(mm)}" y="${plot.top + plot.height + 17}" text-anchor="middle">${mm}</text>`,
    );
  }
  out.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#555"/>`,
    `<text x="${plot.left + plot.width / 2}" y="${plot.top + plot.height + 36}" text-anchor="middle">Distance from the centre (mm; 1 mm shells, lung voxels only)</text>`,
    `<text transform="translate(${plot.left - 48} ${plot.top + plot.height / 2}) rotate(-90)" text-anchor="middle">HU: shell mean, band ±1 SD within shell</text>`,
    `<line x1="${x(radiusMm)}" y1="${plot.top}" x2="${x(radiusMm)}" y2="${plot.top + plot.height}" stroke="#888" stroke-dasharray="5 4"/>`,
    `<text x="${x(radiusMm) + 4}" y="${plot.top + 14}" fill="#666">R = ${radiusMm.toFixed(2)} mm</text>`,
  );
  const centreOf = (s: ProfileLine) => s.fromMm + SHELL_MM / 2;
  for (const { name, shells } of [...lines].reverse()) {
    const finite = shells.filter((s) => Number.isFinite(s.meanHu) && Number.isFinite(s.sdHu));
    const upper = finite.map((s) => `${x(centreOf(s)).toFixed(1)},${y(s.meanHu + s.sdHu).toFixed(1)}`);
    const lower = finite
      .map((s) => `${x(centreOf(s)).toFixed(1)},${y(s.meanHu - s.sdHu).toFixed(1)}`)
      .reverse();
    out.push(
      `<polygon points="${[...upper, ...lower].join(' ')}" fill="${COLOURS[name]}" fill-opacity="0.14" stroke="none"/>`,
    );
  }
  for (const { name, shells } of [...lines].reverse()) {
    const points = shells
      .filter((s) => Number.isFinite(s.meanHu))
      .map((s) => `${x(centreOf(s)).toFixed(1)},${y(s.meanHu).toFixed(1)}`);
    out.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${COLOURS[name]}" stroke-width="${widthOf(name)}"${dash(name)}/>`,
    );
  }
  return out;
}

function svgFigure(): string {
  const width = 1220;
  const tableTop = 505;
  const height = tableTop + 40 + METRICS.length * 24 + 130;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="26" font-size="16" font-weight="bold">Real LIDC-IDRI-0001 nodule vs synthetic solid nodules (insertSyntheticNodule) in the same scan</text>`,
  ];
  // One legend for both panels.
  const legendItems = [
    { name: 'real' as const, label: `Real nodule (readers' diameter ${reference.diameterMm.toFixed(1)} mm)` },
    { name: 'round' as const, label: `Synthetic round (mean of ${sites.length} seeds)` },
    { name: 'lobulated' as const, label: `Synthetic lobulated (mean of ${sites.length} seeds)` },
  ];
  legendItems.forEach(({ name, label }, n) => {
    const lx = 90 + n * 330;
    out.push(
      `<line x1="${lx}" y1="50" x2="${lx + 30}" y2="50" stroke="${COLOURS[name]}" stroke-width="${widthOf(name)}"${dash(name)}/>`,
      `<text x="${lx + 38}" y="54">${escapeXml(label)}</text>`,
    );
  });
  out.push(`<text x="1050" y="54" fill="#555">bands: ±1 SD in shell</text>`);
  SIZES.forEach(({ size }, n) => {
    const groups = GROUPS.filter((g) => g.size === size);
    out.push(
      ...profilePanel(90 + n * 610, 95, `Radial HU profile; synthetic nodules ${sizeLabel(size)}`, [
        { name: 'real', shells: real.profile },
        ...groups.map((g) => ({ name: g.shape, shells: meanProfile(g) })),
      ]),
    );
  });
  // Table: metric, real, then the four synthetic groups.
  const columns = [20, 470, 610, 750, 890, 1030].map((c, n) => (n === 0 ? c : c + 120));
  const right = columns[5]! + 5;
  out.push(
    `<text x="20" y="${tableTop - 22}" font-size="14" font-weight="bold">Texture and edge (real: one nodule; synthetic: mean ± SD over 3 seeds and sites)</text>`,
  );
  SIZES.forEach(({ size }, n) => {
    const middle = (columns[2 + 2 * n]! + columns[3 + 2 * n]!) / 2 - 55;
    out.push(
      `<text x="${middle}" y="${tableTop}" text-anchor="middle" fill="#444">${escapeXml(sizeLabel(size))}</text>`,
    );
  });
  const header = tableTop + 18;
  out.push(
    `<text x="${columns[1]}" y="${header}" text-anchor="end" font-weight="bold" fill="${COLOURS.real}">Real</text>`,
    ...GROUPS.map(
      (g, n) =>
        `<text x="${columns[2 + n]}" y="${header}" text-anchor="end" font-weight="bold" fill="${COLOURS[g.shape]}">${g.shape === 'round' ? 'Round' : 'Lobulated'}</text>`,
    ),
    `<line x1="20" y1="${header + 8}" x2="${right}" y2="${header + 8}" stroke="#555"/>`,
  );
  METRICS.forEach(({ key, label, unit }, n) => {
    const ry = header + 28 + n * 24;
    const d = unit === 'mm' ? 1 : 0;
    if (n % 2 === 0)
      out.push(`<rect x="16" y="${ry - 16}" width="${right - 12}" height="24" fill="#f4f4f4"/>`);
    out.push(
      `<text x="${columns[0]}" y="${ry}">${escapeXml(label)} (${unit})</text>`,
      `<text x="${columns[1]}" y="${ry}" text-anchor="end">${summary.real[key].toFixed(d)}</text>`,
      ...GROUPS.map((g, c) => {
        const cell = summary[g.id]![key];
        return `<text x="${columns[2 + c]}" y="${ry}" text-anchor="end">${cell.mean.toFixed(d)} ± ${cell.sd.toFixed(d)}</text>`;
      }),
    );
  });
  const notes = [
    `R = ${radiusMm.toFixed(2)} mm (reference diameter / 2) for every measurement; lung-mask voxels only; synthetic solidHu = ${solidHu} HU (the real interior mean).`,
    `Two synthetic sizes: the reference diameter (mean of the readers' long and short axes) and ${volumeDiameterMm.toFixed(1)} mm, the diameter of a sphere of the readers' mean volume (the generator's diameterMm is volume-equivalent).`,
    'Neighbour |ΔHU|: mean absolute difference between in-plane neighbours (i+1, j+1). Parenchyma SD: 1.4826 × MAD of lung voxels below −500 HU at 1.5–2 R.',
    "Edge: where HU falls from 80 % to 20 % of the way from interior to parenchyma mean. The shell profile also widens where the outline isn't spherical;",
    `the rays (72 in the slice nearest the centre) do not. Real rays used: ${real.raysUsed} of ${RAY_COUNT} (the others leave the lung or never fall to 20 %).`,
    `Sites: pickInsertionSites (seed ${SITE_SEED}), ≥ ${SITE_SEPARATION_MM} mm from each other and from every marked lesion; nodule seeds fixed (round ${SEEDS.round.join(', ')}; lobulated ${SEEDS.lobulated.join(', ')}).`,
  ];
  notes.forEach((line, n) =>
    out.push(
      `<text x="20" y="${header + 40 + METRICS.length * 24 + n * 17}" font-size="11" fill="#555">${escapeXml(line)}</text>`,
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
fs.writeFileSync(path.join(figures, 'synthetic-vs-real-nodule.svg'), svgFigure());

// --- the PNG: axial crops, real | round at the readers' diameter | round at the volume diameter ------------

function crop(source: CtVolume, centreLps: Vec3, halfPx: number): Uint8Array {
  const [nx, ny, nz] = source.dimensions;
  const [ci, cj, ck] = lpsToIjk(source, centreLps).map(Math.round) as Vec3;
  const side = 2 * halfPx + 1;
  const out = new Uint8Array(side * side);
  const lowHu = WINDOW.level - WINDOW.width / 2;
  for (let y = 0; y < side; y += 1)
    for (let x = 0; x < side; x += 1) {
      const i = ci - halfPx + x;
      const j = cj - halfPx + y;
      if (i < 0 || j < 0 || i >= nx || j >= ny || ck < 0 || ck >= nz) continue;
      const hu = source.hu[i + nx * (j + ny * ck)]!;
      out[y * side + x] = Math.round(255 * Math.min(1, Math.max(0, (hu - lowHu) / WINDOW.width)));
    }
  return out;
}
const shown = synthetic.filter((s) => s.volume);
const halfPx = Math.ceil((PROFILE_RADII * radiusMm) / volume.spacingMm[0]);
const side = 2 * halfPx + 1;
const panels = [
  crop(volume, reference.centreLps, halfPx),
  ...shown.map((s) => crop(s.volume!, s.centreLps, halfPx)),
];
const gap = 6;
const tile = side * PNG_SCALE;
const pngWidth = panels.length * tile + (panels.length - 1) * gap;
const pixels = new Uint8Array(pngWidth * tile).fill(128);
panels.forEach((panel, p) => {
  for (let y = 0; y < tile; y += 1)
    for (let x = 0; x < tile; x += 1)
      pixels[y * pngWidth + p * (tile + gap) + x] =
        panel[Math.floor(y / PNG_SCALE) * side + Math.floor(x / PNG_SCALE)]!;
});
fs.writeFileSync(
  path.join(figures, 'synthetic-vs-real-nodule.png'),
  encodeGrayscalePng(pngWidth, tile, pixels),
);

// --- summary ----------------------------------------------------------------------------------------------

console.log(
  `${annotated.name}: nodule ${reference.diameterMm.toFixed(1)} mm (readers' axes; ${volumeDiameterMm.toFixed(1)} mm ` +
    `from their volumes), R ${radiusMm.toFixed(2)} mm, ${sites.length} sites, solidHu ${solidHu} HU, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
);
const pad = (text: string, n: number) => text.padEnd(n);
console.log(
  `${pad('', 42)}${pad('real', 8)}${GROUPS.map((g) => pad(`${g.shape} ${g.diameterMm.toFixed(1)}`, 16)).join('')}`,
);
for (const { key, label, unit } of METRICS) {
  const d = unit === 'mm' ? 1 : 0;
  const cells = GROUPS.map((g) => {
    const cell = summary[g.id]![key];
    return pad(`${cell.mean.toFixed(d)} ± ${cell.sd.toFixed(d)}`, 16);
  });
  console.log(`${pad(`${label} (${unit})`, 42)}${pad(summary.real[key].toFixed(d), 8)}${cells.join('')}`);
}
console.log(
  `PNG panels: real | round ${GROUPS.filter((g) => g.shape === 'round')
    .map((g) => `${g.diameterMm.toFixed(1)} mm`)
    .join(' | round ')} (site 0), W${WINDOW.width}/L${WINDOW.level}`,
);
console.log(`wrote ${path.relative(process.cwd(), figures)}/synthetic-vs-real-nodule.{json,svg,png}`);
