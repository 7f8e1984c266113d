import { voxelToLpsAffine, type CtVolume, type Vec3 } from '../volume/volume.js';
import type { NoduleType } from './nodule-type.js';

/**
 * Synthetic nodules inserted into real CT, for detector training and evaluation with exact ground truth.
 *
 * The nodule is an analytic solid (a sphere whose radius is modulated by low-order spherical harmonics, plus
 * optional tapered spicules) rendered with the scanner's point spread: at each voxel the partial-volume
 * fraction is the solid blurred by a Gaussian (in-plane sigma `pointSpreadMm`; along the slice normal that
 * sigma combined with the slice thickness's box profile). The nodule replaces parenchyma in proportion to
 * that fraction and gets noise with the local background's standard deviation, so its interior keeps a
 * CT-like texture instead of a flat fill.
 */

/** Largest lesion inserted, mm: masses up to 8 cm, like the lung tumours of Lung-PET-CT-Dx. */
export const MAX_INSERTED_DIAMETER_MM = 80;

/** The shape of a synthetic nodule's margin. */
export type NoduleShape = 'round' | 'lobulated' | 'spiculated';

/** What to insert. */
export interface SyntheticNodule {
  /** Centre of the nodule's body, LPS mm. */
  centreLps: Vec3;
  /**
   * Volume-equivalent diameter of the body (spicules excluded), mm; 3 to {@link MAX_INSERTED_DIAMETER_MM}
   * (nodules are at most 30 mm; larger lesions are masses, inserted to train detection of tumours).
   */
  diameterMm: number;
  type: NoduleType;
  /** Part-solid only: volume-equivalent diameter of the solid core, mm; default half the diameter. */
  solidComponentMm?: number;
  /** Default 'round' (a sphere with at most 3 % ellipticity). */
  shape?: NoduleShape;
  /** Attenuation of the solid tissue, HU; default drawn from [-20, 50]. */
  solidHu?: number;
  /** Attenuation of the ground glass, HU; default drawn from [-700, -500]. */
  groundGlassHu?: number;
}

export interface InsertNoduleOptions {
  /** Non-zero = lung voxel (index i + nx*(j + ny*k)); when given, no voxel outside it is changed. */
  lungMask?: Uint8Array;
  /** In-plane point spread of the scanner, Gaussian sigma in mm; default 0.7 (FWHM 1.6 mm). */
  pointSpreadMm?: number;
  /** Reconstructed slice thickness, mm; default the slice spacing. */
  sliceThicknessMm?: number;
}

/** Ground truth of an inserted nodule. */
export interface InsertedNodule {
  /** Centre of the body, LPS mm. */
  centreLps: Vec3;
  /** Volume-equivalent diameter of the body (spicules excluded), mm: the request. */
  diameterMm: number;
  type: NoduleType;
  shape: NoduleShape;
  /**
   * Volume-equivalent diameter of the solid part, mm: the request for part-solid, the whole diameter for
   * solid, 0 for ground glass.
   */
  solidComponentMm: number;
  /** Centre of the solid core of a part-solid nodule (otherwise the centre), LPS mm. */
  solidCentreLps: Vec3;
  /** Volume of the analytic shape (body plus spicules), mm³, before any lung-mask clipping. */
  volumeMm3: number;
  /** Volume of the solid tissue (solid: everything; part-solid: the core; ground glass: 0), mm³. */
  solidVolumeMm3: number;
  /** Attenuation given to the solid tissue, HU (undefined for ground glass). */
  solidHu: number | undefined;
  /** Attenuation given to the ground glass, HU (undefined for solid). */
  groundGlassHu: number | undefined;
  /** Standard deviation of the noise added inside the nodule (the local parenchyma's), HU. */
  noiseSdHu: number;
  /** In-plane correlation (Gaussian sigma) of that noise, matched to the local parenchyma's texture, pixels. */
  noiseCorrelationPx: number;
  /** No voxel whose centre lies farther than this from the centre was changed, mm. */
  extentMm: number;
  /** Voxels whose HU changed (at most; rounding can leave some equal). */
  changedVoxels: number;
}

/** Uniform pseudo-random numbers in [0, 1). */
export type Random = () => number;

/** A small deterministic generator (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULT_POINT_SPREAD_MM = 0.7;
/** The blurred edge is cut where the Gaussian's tail is below this (|t| > 2.58 sigma), keeping it symmetric. */
const EDGE_TAIL = 0.005;
const EDGE_REACH_SIGMAS = 2.576;
/** Background HU at or above which a structure inside ground glass (a vessel) stays visible, above the glass. */
const VESSEL_MARGIN_HU = 100;
/** Shell around the nodule where the background noise is measured, mm. */
const NOISE_SHELL_MM = 6;
const PARENCHYMA_MAX_HU = -500;
const FALLBACK_NOISE_SD_HU = 20;
/** Where the shell is empty: about the texture of a standard soft-tissue kernel at 0.7 mm pixels. */
const FALLBACK_CORRELATION_PX = 1.2;
/** Below 0.5 pixel the smoothed noise is nearly white; above 2.5 pixels it is smoother than any CT kernel. */
const MIN_CORRELATION_PX = 0.5;
const MAX_CORRELATION_PX = 2.5;
const HU_MIN = -1024;
const HU_MAX = 3071;

/**
 * Inserts a synthetic nodule into `volume` (its `hu` is modified in place) and returns the ground truth.
 *
 * Each voxel within reach gets partial-volume fractions f_solid and f_glass of the nodule's tissues and becomes
 * `background * (1 - f) + f_solid * solidHu + f_glass * groundGlassHu + noise * sd * sqrt(f * (2 - f))`
 * with f = f_solid + f_glass, so the noise variance stays that of the background at every fraction. The noise
 * is Gaussian, correlated in-plane like reconstructed CT noise and independent between slices. Inside ground
 * glass, structures brighter than the glass (vessels) stay visible, as in real ground-glass opacities; solid
 * tissue hides them. Deterministic for a given `rng` state.
 */
export function insertSyntheticNodule(
  volume: CtVolume,
  nodule: SyntheticNodule,
  rng: Random,
  options: InsertNoduleOptions = {},
): InsertedNodule {
  const { type } = nodule;
  const shape = nodule.shape ?? 'round';
  if (!(nodule.diameterMm >= 3 && nodule.diameterMm <= MAX_INSERTED_DIAMETER_MM)) {
    throw new RangeError(
      `nodule diameter must be 3-${MAX_INSERTED_DIAMETER_MM} mm, got ${nodule.diameterMm}`,
    );
  }
  const coreDiameter = type === 'part-solid' ? (nodule.solidComponentMm ?? nodule.diameterMm / 2) : 0;
  if (type === 'part-solid' && !(coreDiameter > 0 && coreDiameter < nodule.diameterMm)) {
    throw new RangeError(`solid component ${coreDiameter} mm must be within (0, ${nodule.diameterMm}) mm`);
  }
  const [nx, ny, nz] = volume.dimensions;
  if (options.lungMask && options.lungMask.length !== nx * ny * nz) {
    throw new RangeError(`lung mask has ${options.lungMask.length} voxels, the volume ${nx * ny * nz}`);
  }

  // Random draws in a fixed order, so that a seed always gives the same nodule.
  const solidHu = type === 'ground-glass' ? undefined : (nodule.solidHu ?? uniform(rng, -20, 50));
  const groundGlassHu = type === 'solid' ? undefined : (nodule.groundGlassHu ?? uniform(rng, -700, -500));
  const body = radialSurface(nodule.diameterMm, bodyHarmonics(shape, rng));
  const core =
    type === 'part-solid'
      ? radialSurface(coreDiameter, shape === 'round' ? bodyHarmonics('round', rng) : coreHarmonics(rng))
      : undefined;
  const coreOffset: Vec3 = [0, 0, 0];
  if (core) {
    const room = Math.max(0, body.minRadius - core.maxRadius);
    const direction = randomDirection(rng);
    const distance = 0.3 * room * rng();
    for (let a = 0; a < 3; a += 1) coreOffset[a] = direction[a]! * distance;
  }
  const spicules = shape === 'spiculated' ? makeSpicules(body, rng) : [];

  const affine = voxelToLpsAffine(volume);
  const axisK = normalised([affine[2]!, affine[6]!, affine[10]!]);
  const sigmaInPlane = options.pointSpreadMm ?? DEFAULT_POINT_SPREAD_MM;
  const thickness = options.sliceThicknessMm ?? volume.spacingMm[2];
  const sigmaAlongK = Math.sqrt(sigmaInPlane ** 2 + thickness ** 2 / 12);
  // Sigma of the blur across a surface whose normal makes cos = cosK with the slice normal.
  const sigmaAcross = (cosK: number) =>
    Math.sqrt(sigmaInPlane ** 2 * (1 - cosK * cosK) + sigmaAlongK ** 2 * cosK * cosK);
  const sigmaMax = Math.max(sigmaInPlane, sigmaAlongK);
  const spiculeSigma = spicules.map((s) => {
    const cosK = dot3(s.direction, axisK);
    // Mean of the blur's variance over the directions perpendicular to the spicule.
    return Math.sqrt((sigmaInPlane ** 2 * (1 + cosK * cosK) + sigmaAlongK ** 2 * (1 - cosK * cosK)) / 2);
  });
  const bodyReachMm = body.maxRadius + EDGE_REACH_SIGMAS * sigmaMax;
  let extentMm = bodyReachMm;
  spicules.forEach((s, n) => {
    extentMm = Math.max(
      extentMm,
      s.tipDistance + ROD_REACH_SIGMAS * roughRodSigma(s.baseRadius, spiculeSigma[n]!),
    );
  });

  // The noise is measured in a shell around the body (spicules reach far into other parenchyma).
  const region = voxelBox(volume, affine, nodule.centreLps, Math.max(extentMm, bodyReachMm + NOISE_SHELL_MM));
  const background = copyBox(volume.hu, volume.dimensions, region);
  const smoothed = inPlaneMean3x3(background, region);
  const backgroundNoise = measureBackgroundNoise(
    background,
    smoothed,
    region,
    affine,
    nodule.centreLps,
    bodyReachMm,
  );
  const noiseSdHu = backgroundNoise.sdHu;
  const noise = correlatedNoise(region, backgroundNoise.correlationPx, rng);

  const [ci, cj, ck, ri, rj, rk] = region;
  const rw = ri - ci + 1;
  const rh = rj - cj + 1;
  const [cx, cy, cz] = nodule.centreLps;
  const mask = options.lungMask;
  let changedVoxels = 0;
  for (let k = ck; k <= rk; k += 1)
    for (let j = cj; j <= rj; j += 1)
      for (let i = ci; i <= ri; i += 1) {
        const px = affine[0]! * i + affine[1]! * j + affine[2]! * k + affine[3]! - cx;
        const py = affine[4]! * i + affine[5]! * j + affine[6]! * k + affine[7]! - cy;
        const pz = affine[8]! * i + affine[9]! * j + affine[10]! * k + affine[11]! - cz;
        const distance = Math.hypot(px, py, pz);
        if (distance > extentMm) continue;
        const index = i + nx * (j + ny * k);
        if (mask && !mask[index]) continue;

        const bodyFraction = surfaceFraction(body, px, py, pz, distance, axisK, sigmaAcross);
        let spiculeFraction = 0;
        if (bodyFraction < 1) {
          for (let n = 0; n < spicules.length; n += 1) {
            spiculeFraction = Math.max(
              spiculeFraction,
              rodFraction(spicules[n]!, px, py, pz, spiculeSigma[n]!),
            );
          }
        }
        let fSolid = 0;
        let fGlass = 0;
        if (type === 'solid') fSolid = Math.max(bodyFraction, spiculeFraction);
        else if (type === 'ground-glass') fGlass = Math.max(bodyFraction, spiculeFraction);
        else {
          const qx = px - coreOffset[0];
          const qy = py - coreOffset[1];
          const qz = pz - coreOffset[2];
          const coreFraction = surfaceFraction(core!, qx, qy, qz, Math.hypot(qx, qy, qz), axisK, sigmaAcross);
          fSolid = Math.max(coreFraction, spiculeFraction);
          fGlass = Math.max(0, bodyFraction - fSolid);
        }
        if (fSolid + fGlass <= 0) continue;

        const local = i - ci + rw * (j - cj + rh * (k - ck));
        const before = background[local]!;
        if (fGlass > 0) {
          // A vessel crossing ground glass stays visible: the glass only replaces what is darker than it.
          const above = (smoothed[local]! - groundGlassHu!) / VESSEL_MARGIN_HU;
          fGlass *= 1 - Math.min(1, Math.max(0, above));
        }
        const f = fSolid + fGlass;
        if (f <= 0) continue;
        const value =
          before * (1 - f) +
          fSolid * (solidHu ?? 0) +
          fGlass * (groundGlassHu ?? 0) +
          noise[local]! * noiseSdHu * Math.sqrt(f * (2 - f));
        volume.hu[index] = Math.round(Math.min(HU_MAX, Math.max(HU_MIN, value)));
        changedVoxels += 1;
      }

  const spiculeVolume = spicules.reduce(
    (sum, s) => sum + (Math.PI * s.baseRadius ** 2 * s.outsideLength) / (1 + 2 * SPICULE_TAPER),
    0,
  );
  const solidVolume =
    type === 'solid'
      ? body.volumeMm3 + spiculeVolume
      : type === 'part-solid'
        ? core!.volumeMm3 + spiculeVolume
        : 0;
  return {
    centreLps: [...nodule.centreLps],
    diameterMm: nodule.diameterMm,
    type,
    shape,
    solidComponentMm: type === 'solid' ? nodule.diameterMm : coreDiameter,
    solidCentreLps: [cx + coreOffset[0], cy + coreOffset[1], cz + coreOffset[2]],
    volumeMm3: body.volumeMm3 + spiculeVolume,
    solidVolumeMm3: solidVolume,
    solidHu,
    groundGlassHu,
    noiseSdHu,
    noiseCorrelationPx: backgroundNoise.correlationPx,
    extentMm,
    changedVoxels,
  };
}

/** Options of `pickInsertionSites`. */
export interface InsertionSiteOptions {
  /** [smallest, largest] diameter of the nodules to insert, mm; the largest sets the clearances. */
  diameterMm: [number, number];
  /**
   * Clearance between the nodule's surface (largest radius) and the nearest voxel outside the lungs, mm. With
   * `allowJuxtapleural`, the clearance is measured from the centre instead (so the nodule may touch the pleura).
   */
  minDistanceFromEdgeMm: number;
  /** Least distance between the centres of two sites, mm. */
  minSeparationMm: number;
  /** Regions to keep away from (real lesions): a site's nodule (largest radius) stays outside each sphere. */
  avoidLps?: { centreLps: Vec3; radiusMm: number }[];
  /** Allows centres closer to the lung edge than the radius (juxtapleural nodules); default false. */
  allowJuxtapleural?: boolean;
  /** The parenchyma around a site must average below this, HU (so not a vessel); default -600. */
  maxBackgroundHu?: number;
  /** Random candidates tried before giving up; default 2000 per site. */
  maxTries?: number;
}

/**
 * Chooses up to `count` nodule centres (LPS mm) in the lungs by rejection sampling: each lies in `lungMask`
 * with no voxel outside the lungs (or outside the volume) within the required clearance, at least
 * `minSeparationMm` from the other sites, clear of the `avoidLps` regions, and in parenchyma (the mean HU within
 * the largest radius, at most 6 mm, and within one voxel of the centre are below `maxBackgroundHu`). Fewer
 * sites are returned where the lungs do not hold `count` of them within `maxTries`.
 */
export function pickInsertionSites(
  volume: CtVolume,
  lungMask: Uint8Array,
  count: number,
  rng: Random,
  options: InsertionSiteOptions,
): Vec3[] {
  const [nx, ny, nz] = volume.dimensions;
  if (lungMask.length !== nx * ny * nz) {
    throw new RangeError(`lung mask has ${lungMask.length} voxels, the volume ${nx * ny * nz}`);
  }
  const bounds = maskBounds(lungMask, volume.dimensions);
  if (!bounds || count <= 0) return [];
  const radius = options.diameterMm[1] / 2;
  const clearance = (options.allowJuxtapleural ? 0 : radius) + options.minDistanceFromEdgeMm;
  const maxBackgroundHu = options.maxBackgroundHu ?? -600;
  const affine = voxelToLpsAffine(volume);
  const spacing = volume.spacingMm;
  // A jittered centre lies within half a voxel diagonal of its voxel: checking that much farther is safe.
  const halfDiagonal = Math.hypot(...spacing) / 2;
  const edgeOffsets = ballOffsets(spacing, nx, ny, clearance + halfDiagonal);
  const backgroundOffsets = ballOffsets(spacing, nx, ny, Math.min(radius, 6));
  const sites: Vec3[] = [];
  const maxTries = options.maxTries ?? 2000 * count;
  const inVolume = (i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz;

  for (let attempt = 0; attempt < maxTries && sites.length < count; attempt += 1) {
    const i = bounds[0] + Math.floor(rng() * (bounds[3] - bounds[0] + 1));
    const j = bounds[1] + Math.floor(rng() * (bounds[4] - bounds[1] + 1));
    const k = bounds[2] + Math.floor(rng() * (bounds[5] - bounds[2] + 1));
    const jitter = [rng() - 0.5, rng() - 0.5, rng() - 0.5];
    const centre = indexToLps(affine, i + jitter[0]!, j + jitter[1]!, k + jitter[2]!);
    const index = i + nx * (j + ny * k);
    if (!lungMask[index]) continue;
    if (sites.some((site) => distance3(site, centre) < options.minSeparationMm)) continue;
    if (options.avoidLps?.some((r) => distance3(r.centreLps, centre) < r.radiusMm + radius)) continue;

    let near = 0;
    let nearCount = 0;
    for (let dk = -1; dk <= 1; dk += 1)
      for (let dj = -1; dj <= 1; dj += 1)
        for (let di = -1; di <= 1; di += 1) {
          if (!inVolume(i + di, j + dj, k + dk)) continue;
          near += volume.hu[index + di + nx * (dj + ny * dk)]!;
          nearCount += 1;
        }
    if (near / nearCount >= maxBackgroundHu) continue;
    let sum = 0;
    let sumCount = 0;
    for (const o of backgroundOffsets) {
      if (!inVolume(i + o.di, j + o.dj, k + o.dk)) continue;
      sum += volume.hu[index + o.offset]!;
      sumCount += 1;
    }
    if (sum / sumCount >= maxBackgroundHu) continue;

    let clear = true;
    for (const o of edgeOffsets) {
      if (!inVolume(i + o.di, j + o.dj, k + o.dk) || !lungMask[index + o.offset]) {
        clear = false;
        break;
      }
    }
    if (clear) sites.push(centre);
  }
  return sites;
}

// --- the analytic shape ---------------------------------------------------------------------------------

/** One zonal spherical harmonic of degree `degree` about `axis`, with relative amplitude `amplitude`. */
interface Harmonic {
  degree: number;
  axis: Vec3;
  amplitude: number;
}

/** r(u) = radius * (1 + sum amplitude * P_degree(u . axis)) for unit directions u. */
interface RadialSurface {
  radius: number;
  harmonics: Harmonic[];
  minRadius: number;
  maxRadius: number;
  volumeMm3: number;
}

function bodyHarmonics(shape: NoduleShape, rng: Random): Harmonic[] {
  switch (shape) {
    case 'round':
      return [{ degree: 2, axis: randomDirection(rng), amplitude: uniform(rng, -0.03, 0.03) }];
    case 'lobulated':
      // Bumps of a few lobes each (degrees 3-5), their amplitudes summing to at most 45 % of the radius.
      return limitAmplitude(
        Array.from({ length: 5 }, (_, n) => ({
          degree: 3 + (n % 3),
          axis: randomDirection(rng),
          amplitude: signed(rng, uniform(rng, 0.07, 0.12)),
        })),
        0.45,
      );
    case 'spiculated':
      return Array.from({ length: 2 }, (_, n) => ({
        degree: 2 + n,
        axis: randomDirection(rng),
        amplitude: signed(rng, uniform(rng, 0.03, 0.06)),
      }));
  }
}

function limitAmplitude(harmonics: Harmonic[], most: number): Harmonic[] {
  const total = harmonics.reduce((sum, h) => sum + Math.abs(h.amplitude), 0);
  const factor = total > most ? most / total : 1;
  return harmonics.map((h) => ({ ...h, amplitude: h.amplitude * factor }));
}

function coreHarmonics(rng: Random): Harmonic[] {
  return [2, 3].map((degree) => ({
    degree,
    axis: randomDirection(rng),
    amplitude: signed(rng, uniform(rng, 0.02, 0.06)),
  }));
}

/**
 * A radial surface whose volume-equivalent diameter is `diameterMm`. The volume (1/3) ∫ r(u)³ dΩ is
 * integrated with a midpoint rule in cos(theta) and phi (relative error < 1e-5 for these low degrees).
 */
function radialSurface(diameterMm: number, harmonics: Harmonic[]): RadialSurface {
  const unit: RadialSurface = { radius: 1, harmonics, minRadius: 1, maxRadius: 1, volumeMm3: 0 };
  const steps = 128;
  let integral = 0;
  let min = Infinity;
  let max = 0;
  for (let a = 0; a < steps; a += 1) {
    const cosTheta = -1 + (2 * (a + 0.5)) / steps;
    const sinTheta = Math.sqrt(1 - cosTheta * cosTheta);
    for (let b = 0; b < 2 * steps; b += 1) {
      const phi = (Math.PI * (b + 0.5)) / steps;
      const r = radiusAlong(unit, sinTheta * Math.cos(phi), sinTheta * Math.sin(phi), cosTheta);
      integral += r * r * r;
      min = Math.min(min, r);
      max = Math.max(max, r);
    }
  }
  const unitVolume = (integral / 3) * (2 / steps) * (Math.PI / steps);
  const radius = diameterMm / 2 / Math.cbrt(unitVolume / ((4 / 3) * Math.PI));
  // The sampled extremes, widened by the harmonics' largest slope between samples (safe bounds).
  const slack = harmonics.reduce((sum, h) => sum + Math.abs(h.amplitude), 0) * 0.02;
  return {
    radius,
    harmonics,
    minRadius: radius * Math.max(0, min - slack),
    maxRadius: radius * (max + slack),
    volumeMm3: (Math.PI / 6) * diameterMm ** 3,
  };
}

/** r(u) for the unit direction (ux, uy, uz), mm. */
function radiusAlong(surface: RadialSurface, ux: number, uy: number, uz: number): number {
  let modulation = 1;
  for (const h of surface.harmonics) {
    modulation += h.amplitude * legendre(h.degree, ux * h.axis[0] + uy * h.axis[1] + uz * h.axis[2]);
  }
  return surface.radius * modulation;
}

/**
 * Partial-volume fraction of a radial solid at offset p from its centre: the solid blurred by the point
 * spread. Locally the solid is taken as the ball of radius r(u) (u = p / |p|) blurred by an isotropic
 * Gaussian whose sigma is the point spread's across the surface there; the blurred ball is exact for a
 * sphere under an isotropic point spread (it keeps the volume and lowers the peak of a small nodule), and it
 * tends to the blurred flat edge where the radius is large against sigma.
 */
function surfaceFraction(
  surface: RadialSurface,
  px: number,
  py: number,
  pz: number,
  distance: number,
  axisK: Vec3,
  sigmaAcross: (cosK: number) => number,
): number {
  if (distance < 1e-9) return trimTails(blurredBall(0, surface.radius, sigmaAcross(Math.SQRT1_2)));
  const ux = px / distance;
  const uy = py / distance;
  const uz = pz / distance;
  const cosK = ux * axisK[0] + uy * axisK[1] + uz * axisK[2];
  return trimTails(blurredBall(distance, radiusAlong(surface, ux, uy, uz), sigmaAcross(cosK)));
}

/**
 * A ball of `radius` (indicator 1 inside) convolved with an isotropic 3-D Gaussian of `sigma`, at `distance`
 * from its centre:
 * (erf((R - r) / (s sqrt 2)) + erf((R + r) / (s sqrt 2))) / 2 - s / (r sqrt(2 pi)) (exp(-(R - r)² / 2s²) - exp(-(R + r)² / 2s²)).
 */
function blurredBall(distance: number, radius: number, sigma: number): number {
  const r = distance;
  const a = (radius - r) / sigma;
  const b = (radius + r) / sigma;
  if (r < 1e-6 * sigma) {
    // The limit at the centre: the chi distribution's CDF with 3 degrees of freedom at radius / sigma.
    return erf(b / Math.SQRT2) - Math.sqrt(2 / Math.PI) * b * Math.exp((-b * b) / 2);
  }
  const edges = 0.5 * (erf(a / Math.SQRT2) + erf(b / Math.SQRT2));
  const curvature =
    (sigma / (r * Math.sqrt(2 * Math.PI))) * (Math.exp((-a * a) / 2) - Math.exp((-b * b) / 2));
  return edges - curvature;
}

/**
 * Cuts the blur's tails symmetrically, so that the nodule changes nothing beyond 2.58 sigma outside its
 * surface (where a flat edge's blur falls below 0.5 %): 0 below EDGE_TAIL, 1 above 1 - EDGE_TAIL.
 */
function trimTails(fraction: number): number {
  return Math.min(1, Math.max(0, (fraction - EDGE_TAIL) / (1 - 2 * EDGE_TAIL)));
}

/**
 * A spicule: a tapered rod, of radius baseRadius * (1 - s / outsideLength)^SPICULE_TAPER at s mm beyond the
 * body's surface, continued inside the body at full radius where the body hides it. Its volume outside the
 * body is pi baseRadius² outsideLength / (1 + 2 SPICULE_TAPER) (the body's surface treated as flat across it).
 */
interface Spicule {
  direction: Vec3;
  /** Distance from the centre where the rod starts (inside the body), mm. */
  startDistance: number;
  /** Distance from the centre of the body's surface along the spicule, mm. */
  surfaceDistance: number;
  tipDistance: number;
  /** Radius at the body's surface, mm; it tapers to 0 at the tip. */
  baseRadius: number;
  outsideLength: number;
}

/** How a spicule narrows towards its tip (1 = a cone; smaller stays thick longer). */
const SPICULE_TAPER = 1 / 3;
const ROD_TAIL = 0.01;
const ROD_REACH_SIGMAS = Math.sqrt(2 * Math.log(1 / ROD_TAIL));
/** What cutting the profile at ROD_TAIL leaves of its cross-section integral (restored by dividing by it). */
const ROD_KEPT = 1 - ROD_TAIL - ROD_TAIL * Math.log(1 / ROD_TAIL);

function makeSpicules(body: RadialSurface, rng: Random): Spicule[] {
  const meanRadius = body.radius;
  const count = 4 + Math.floor(rng() * (3 + Math.min(5, meanRadius / 3)));
  return Array.from({ length: count }, () => {
    const direction = randomDirection(rng);
    const surfaceDistance = radiusAlong(body, ...direction);
    const outsideLength = uniform(rng, 0.5 * meanRadius + 2, Math.min(1.2 * meanRadius + 5, 20));
    return {
      direction,
      startDistance: 0.6 * surfaceDistance,
      surfaceDistance,
      tipDistance: surfaceDistance + outsideLength,
      // Thinner on small nodules, whose spicules would otherwise outweigh the body.
      baseRadius: uniform(rng, 0.8, 1.5) * Math.min(1, meanRadius / 5),
      outsideLength,
    };
  });
}

/** Sigma of a thin rod's blurred profile, mm (see rodFraction). */
function roughRodSigma(rodRadius: number, sigma: number): number {
  return Math.sqrt(sigma * sigma + (rodRadius * rodRadius) / 2);
}

/**
 * Partial-volume fraction of a tapered rod blurred by a Gaussian of `sigma` across it: a Gaussian profile
 * with the same cross-section integral (pi rho²) and width sqrt(sigma² + rho²/2), whose peak
 * rho² / (2 sigma² + rho²) tends to 1 for a thick rod and to the thin-line limit for a thin one.
 */
function rodFraction(s: Spicule, px: number, py: number, pz: number, sigma: number): number {
  const along = px * s.direction[0] + py * s.direction[1] + pz * s.direction[2];
  const t = Math.min(s.tipDistance, Math.max(s.startDistance, along));
  const rho =
    t <= s.surfaceDistance
      ? s.baseRadius
      : s.baseRadius * Math.max(0, 1 - (t - s.surfaceDistance) / s.outsideLength) ** SPICULE_TAPER;
  if (rho <= 0) return 0;
  const dx = px - t * s.direction[0];
  const dy = py - t * s.direction[1];
  const dz = pz - t * s.direction[2];
  const width2 = sigma * sigma + (rho * rho) / 2;
  const profile = Math.exp(-(dx * dx + dy * dy + dz * dz) / (2 * width2));
  if (profile <= ROD_TAIL) return 0;
  return Math.min(1, ((rho * rho) / (2 * sigma * sigma + rho * rho)) * ((profile - ROD_TAIL) / ROD_KEPT));
}

// --- background: noise level and texture ---------------------------------------------------------------

type Box = [number, number, number, number, number, number];

/** The inclusive voxel box holding the LPS ball (centre, radius), clipped to the volume. */
function voxelBox(volume: CtVolume, affine: number[], centre: Vec3, radiusMm: number): Box {
  const inverse = invert3([
    affine[0]!,
    affine[1]!,
    affine[2]!,
    affine[4]!,
    affine[5]!,
    affine[6]!,
    affine[8]!,
    affine[9]!,
    affine[10]!,
  ]);
  const d: Vec3 = [centre[0] - affine[3]!, centre[1] - affine[7]!, centre[2] - affine[11]!];
  const box: number[] = [];
  const high: number[] = [];
  for (let a = 0; a < 3; a += 1) {
    const row: Vec3 = [inverse[3 * a]!, inverse[3 * a + 1]!, inverse[3 * a + 2]!];
    const c = dot3(row, d);
    const half = radiusMm * Math.hypot(...row);
    box.push(Math.max(0, Math.floor(c - half)));
    high.push(Math.min(volume.dimensions[a]! - 1, Math.ceil(c + half)));
  }
  return [box[0]!, box[1]!, box[2]!, high[0]!, high[1]!, high[2]!];
}

function copyBox(hu: Int16Array, dimensions: Vec3, box: Box): Float32Array {
  const [nx, ny] = dimensions;
  const [ci, cj, ck, ri, rj, rk] = box;
  const rw = Math.max(0, ri - ci + 1);
  const out = new Float32Array(rw * Math.max(0, rj - cj + 1) * Math.max(0, rk - ck + 1));
  let n = 0;
  for (let k = ck; k <= rk; k += 1)
    for (let j = cj; j <= rj; j += 1) {
      const row = ci + nx * (j + ny * k);
      for (let i = 0; i < rw; i += 1) out[n++] = hu[row + i]!;
    }
  return out;
}

/** The background's noise around the nodule. */
interface BackgroundNoise {
  /** Robust standard deviation, HU. */
  sdHu: number;
  /** Sigma of the Gaussian in-plane correlation kernel that matches the noise's texture, pixels. */
  correlationPx: number;
}

/**
 * Measures the noise of the parenchyma (HU below -500) in the shell between `innerMm` and `innerMm + 6` mm
 * around the centre (all shell voxels where there is too little parenchyma):
 * - its standard deviation, robustly (1.4826 x median absolute deviation, so vessels do not count);
 * - its texture: the ratio of the residual after a 3x3 in-plane mean to the whole, which falls as the noise
 *   grows coarser; the noise model's kernel width is solved to give the same ratio (see residualRatio).
 */
function measureBackgroundNoise(
  background: Float32Array,
  smoothed: Float32Array,
  box: Box,
  affine: number[],
  centre: Vec3,
  innerMm: number,
): BackgroundNoise {
  const parenchyma: number[] = [];
  const parenchymaResidual: number[] = [];
  const all: number[] = [];
  const allResidual: number[] = [];
  forEachInBox(box, (i, j, k, local) => {
    if (i === box[0] || i === box[3] || j === box[1] || j === box[4]) return;
    const distance = distance3(indexToLps(affine, i, j, k), centre);
    if (distance <= innerMm || distance > innerMm + NOISE_SHELL_MM) return;
    const value = background[local]!;
    const residual = value - smoothed[local]!;
    all.push(value);
    allResidual.push(residual);
    if (value < PARENCHYMA_MAX_HU && value > HU_MIN + 1) {
      parenchyma.push(value);
      parenchymaResidual.push(residual);
    }
  });
  const enough = parenchyma.length >= 50;
  const values = enough ? parenchyma : all;
  const residuals = enough ? parenchymaResidual : allResidual;
  if (values.length < 10) return { sdHu: FALLBACK_NOISE_SD_HU, correlationPx: FALLBACK_CORRELATION_PX };
  const sdHu = robustSd(values);
  if (!(sdHu > 0)) return { sdHu: FALLBACK_NOISE_SD_HU, correlationPx: FALLBACK_CORRELATION_PX };
  return { sdHu, correlationPx: correlationForResidualRatio(robustSd(residuals) / sdHu) };
}

/**
 * For noise made by smoothing white noise in-plane with a Gaussian of `sigmaPx`, the standard deviation of
 * (value - its 3x3 in-plane mean) relative to that of the value. The noise's autocorrelation along one axis is
 * c(d) = exp(-d² / (4 sigma²)); the residual's variance is 1 - 2 (sum over the 3x3 of c)/9 + (sum over pairs in
 * the 3x3 of c)/81, each 2-D sum the square of its 1-D sum.
 */
function residualRatio(sigmaPx: number): number {
  const c = (d: number) => Math.exp(-(d * d) / (4 * sigmaPx * sigmaPx));
  const window = 1 + 2 * c(1);
  const pairs = 3 + 4 * c(1) + 2 * c(2);
  return Math.sqrt(Math.max(0, 1 - (2 * window * window) / 9 + (pairs * pairs) / 81));
}

/** The kernel width whose residual ratio is `ratio` (bisection; the ratio falls as the width grows). */
function correlationForResidualRatio(ratio: number): number {
  let low = MIN_CORRELATION_PX;
  let high = MAX_CORRELATION_PX;
  if (!(ratio < residualRatio(low))) return low;
  if (ratio <= residualRatio(high)) return high;
  for (let step = 0; step < 40; step += 1) {
    const middle = (low + high) / 2;
    if (residualRatio(middle) > ratio) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * Unit-variance Gaussian noise over the box, smoothed in-plane by a Gaussian of `sigmaPx` along i and j
 * (reconstructed CT noise is correlated within a slice and nearly independent between slices).
 */
function correlatedNoise(box: Box, sigmaPx: number, rng: Random): Float32Array {
  const w = box[3] - box[0] + 1;
  const h = box[4] - box[1] + 1;
  const d = box[5] - box[2] + 1;
  const reach = Math.ceil(3 * sigmaPx);
  const kernel = Array.from({ length: 2 * reach + 1 }, (_, t) =>
    Math.exp(-((t - reach) ** 2) / (2 * sigmaPx ** 2)),
  );
  const total = kernel.reduce((sum, value) => sum + value, 0);
  const weights = kernel.map((value) => value / total);
  // Two passes multiply the variance by (sum of squared weights)²: undone here.
  const unit = 1 / weights.reduce((sum, value) => sum + value * value, 0);
  const white = new Float32Array(w * h * d);
  for (let n = 0; n < white.length; n += 1) white[n] = gaussian(rng);
  const reflect = (x: number, size: number) => {
    const period = 2 * size - 2;
    if (period <= 0) return 0;
    const m = ((x % period) + period) % period;
    return m < size ? m : period - m;
  };
  const alongI = new Float32Array(white.length);
  const out = new Float32Array(white.length);
  for (let slice = 0; slice < d; slice += 1)
    for (let j = 0; j < h; j += 1) {
      const row = (slice * h + j) * w;
      for (let i = 0; i < w; i += 1) {
        let sum = 0;
        for (let t = -reach; t <= reach; t += 1) sum += weights[t + reach]! * white[row + reflect(i + t, w)]!;
        alongI[row + i] = sum;
      }
    }
  for (let slice = 0; slice < d; slice += 1)
    for (let j = 0; j < h; j += 1)
      for (let i = 0; i < w; i += 1) {
        let sum = 0;
        for (let t = -reach; t <= reach; t += 1)
          sum += weights[t + reach]! * alongI[(slice * h + reflect(j + t, h)) * w + i]!;
        out[(slice * h + j) * w + i] = sum * unit;
      }
  return out;
}

/** Mean of each voxel's 3x3 in-plane neighbourhood (clipped at the box's edges). */
function inPlaneMean3x3(values: Float32Array, box: Box): Float32Array {
  const w = box[3] - box[0] + 1;
  const h = box[4] - box[1] + 1;
  const out = new Float32Array(values.length);
  for (let n = 0; n < values.length; n += 1) {
    const i = n % w;
    const j = Math.floor(n / w) % h;
    let sum = 0;
    let count = 0;
    for (let dj = -1; dj <= 1; dj += 1) {
      if (j + dj < 0 || j + dj >= h) continue;
      for (let di = -1; di <= 1; di += 1) {
        if (i + di < 0 || i + di >= w) continue;
        sum += values[n + di + dj * w]!;
        count += 1;
      }
    }
    out[n] = sum / count;
  }
  return out;
}

// --- small numerics -------------------------------------------------------------------------------------

function forEachInBox(box: Box, visit: (i: number, j: number, k: number, local: number) => void): void {
  let local = 0;
  for (let k = box[2]; k <= box[5]; k += 1)
    for (let j = box[1]; j <= box[4]; j += 1)
      for (let i = box[0]; i <= box[3]; i += 1) visit(i, j, k, local++);
}

function maskBounds(mask: Uint8Array, dimensions: Vec3): Box | undefined {
  const [nx, ny, nz] = dimensions;
  const box: Box = [nx, ny, nz, -1, -1, -1];
  let n = 0;
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1)
      for (let i = 0; i < nx; i += 1, n += 1) {
        if (!mask[n]) continue;
        if (i < box[0]) box[0] = i;
        if (i > box[3]) box[3] = i;
        if (j < box[1]) box[1] = j;
        if (j > box[4]) box[4] = j;
        if (k < box[2]) box[2] = k;
        if (k > box[5]) box[5] = k;
      }
  return box[3] < 0 ? undefined : box;
}

/** Voxel offsets within `radiusMm` of a voxel, farthest first (so a ball check meets the edge early). */
function ballOffsets(
  spacing: Vec3,
  nx: number,
  ny: number,
  radiusMm: number,
): { di: number; dj: number; dk: number; offset: number }[] {
  const reach = spacing.map((s) => Math.floor(radiusMm / s));
  const offsets: { di: number; dj: number; dk: number; offset: number; distance: number }[] = [];
  for (let dk = -reach[2]!; dk <= reach[2]!; dk += 1)
    for (let dj = -reach[1]!; dj <= reach[1]!; dj += 1)
      for (let di = -reach[0]!; di <= reach[0]!; di += 1) {
        const distance = Math.hypot(di * spacing[0], dj * spacing[1], dk * spacing[2]);
        if (distance <= radiusMm) offsets.push({ di, dj, dk, offset: di + nx * (dj + ny * dk), distance });
      }
  return offsets.sort((a, b) => b.distance - a.distance);
}

function indexToLps(affine: number[], i: number, j: number, k: number): Vec3 {
  return [
    affine[0]! * i + affine[1]! * j + affine[2]! * k + affine[3]!,
    affine[4]! * i + affine[5]! * j + affine[6]! * k + affine[7]!,
    affine[8]! * i + affine[9]! * j + affine[10]! * k + affine[11]!,
  ];
}

function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
}

/** Legendre polynomial P_degree(x) by the three-term recurrence. */
function legendre(degree: number, x: number): number {
  let previous = 1;
  let current = x;
  if (degree === 0) return previous;
  for (let n = 1; n < degree; n += 1) {
    const next = ((2 * n + 1) * x * current - n * previous) / (n + 1);
    previous = current;
    current = next;
  }
  return current;
}

/** Error function (Abramowitz and Stegun 7.1.26, absolute error < 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

function gaussian(rng: Random): number {
  const u = 1 - rng(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function uniform(rng: Random, low: number, high: number): number {
  return low + (high - low) * rng();
}

function signed(rng: Random, value: number): number {
  return rng() < 0.5 ? -value : value;
}

function randomDirection(rng: Random): Vec3 {
  const z = 2 * rng() - 1;
  const phi = 2 * Math.PI * rng();
  const s = Math.sqrt(1 - z * z);
  return [s * Math.cos(phi), s * Math.sin(phi), z];
}

function robustSd(values: number[]): number {
  const median = medianOf(values);
  return 1.4826 * medianOf(values.map((v) => Math.abs(v - median)));
}

function medianOf(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function dot3(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function normalised(v: Vec3): Vec3 {
  const length = Math.hypot(...v);
  return [v[0] / length, v[1] / length, v[2] / length];
}

function distance3(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
