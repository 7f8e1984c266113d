import type { NoduleType } from './nodule-type.js';

/** A nodule placed in the phantom: ground truth for detection and measurement tests. */
export interface PhantomNodule {
  type: NoduleType;
  /** Centre, DICOM patient frame (LPS), mm. */
  centreLps: [number, number, number];
  /** Diameter of the whole nodule, mm. */
  diameterMm: number;
  /** Diameter of the solid core of a part-solid nodule, mm. */
  solidComponentMm?: number;
}

export interface ChestPhantomOptions {
  /** Pixels per row and column. */
  matrix: number;
  /** In-plane pixel size, mm. */
  pixelSpacingMm: number;
  /** Distance between slice centres (and slice thickness), mm. */
  sliceSpacingMm: number;
  /** Craniocaudal length, mm. */
  lengthMm: number;
  /** Seed of the deterministic noise. */
  seed: number;
  /** Standard deviation of image noise, HU. */
  noiseHu: number;
}

export const DEFAULT_PHANTOM: ChestPhantomOptions = {
  matrix: 256,
  pixelSpacingMm: 1.4,
  sliceSpacingMm: 2.5,
  lengthMm: 300,
  seed: 1,
  noiseHu: 15,
};

/** The synthetic chest: HU voxels in the same layout as CtVolume plus the geometry to write it as DICOM. */
export interface ChestPhantom {
  /** [columns, rows, slices]. */
  dimensions: [number, number, number];
  pixelSpacingMm: number;
  sliceSpacingMm: number;
  /** ImagePositionPatient of slice k is originLps + [0, 0, k * sliceSpacingMm]. */
  originLps: [number, number, number];
  /** HU, index i + nx*(j + ny*k); voxels outside the circular field of view are `undefined` padding (see paddingMask). */
  hu: Int16Array;
  /** 1 where the voxel lies outside the scanner's circular field of view (written as PixelPaddingValue). */
  paddingMask: Uint8Array;
  nodules: PhantomNodule[];
}

const HU = {
  air: -1000,
  fat: -100,
  soft: 40,
  lung: -860,
  vessel: 40,
  bone: 700,
  ggo: -620,
  solid: 30,
} as const;

/** Default nodules: one of each type, 4-20 mm, in both lungs. Positions are relative to the lung centres. */
function defaultNodules(lengthMm: number): PhantomNodule[] {
  const z = (fraction: number) => -lengthMm / 2 + fraction * lengthMm;
  return [
    { type: 'solid', centreLps: [-75, -10, z(0.45)], diameterMm: 8 },
    { type: 'solid', centreLps: [80, 15, z(0.6)], diameterMm: 14 },
    { type: 'solid', centreLps: [70, -25, z(0.35)], diameterMm: 5 },
    { type: 'ground-glass', centreLps: [-85, 20, z(0.65)], diameterMm: 12 },
    { type: 'part-solid', centreLps: [90, -5, z(0.5)], diameterMm: 16, solidComponentMm: 7 },
  ];
}

/** Deterministic pseudo-random numbers (mulberry32) so phantoms are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds a synthetic chest CT: elliptic body with a fat layer, two lungs, branching vessels, ribs and a spine,
 * and nodules of known position, size and type (solid, part-solid, ground-glass) with soft margins.
 * The patient frame is LPS with the isocentre at x = y = 0; slices run feet to head.
 */
export function buildChestPhantom(
  options: Partial<ChestPhantomOptions> = {},
  nodules?: PhantomNodule[],
): ChestPhantom {
  const o = { ...DEFAULT_PHANTOM, ...options };
  const nx = o.matrix;
  const ny = o.matrix;
  const nz = Math.max(1, Math.round(o.lengthMm / o.sliceSpacingMm));
  const half = ((o.matrix - 1) * o.pixelSpacingMm) / 2;
  const originLps: [number, number, number] = [-half, -half, -o.lengthMm / 2];
  const placed = nodules ?? defaultNodules(o.lengthMm);
  const hu = new Int16Array(nx * ny * nz);
  const paddingMask = new Uint8Array(nx * ny * nz);
  const rand = random(o.seed);
  const fov = half;

  for (let k = 0; k < nz; k += 1) {
    const z = originLps[2] + k * o.sliceSpacingMm;
    const t = (z - originLps[2]) / o.lengthMm; // 0 at the feet end, 1 at the head end
    const lungScale = Math.sin(Math.PI * Math.min(1, Math.max(0, (t - 0.08) / 0.84))); // lungs taper at both ends
    const ribPhase = Math.abs(((z / 25) % 1) + 1) % 1 < 0.28; // a rib every 25 mm
    for (let j = 0; j < ny; j += 1) {
      const y = originLps[1] + j * o.pixelSpacingMm;
      for (let i = 0; i < nx; i += 1) {
        const x = originLps[0] + i * o.pixelSpacingMm;
        const index = i + nx * (j + ny * k);
        if (x * x + y * y > fov * fov) {
          paddingMask[index] = 1;
          hu[index] = HU.air;
          continue;
        }
        const body = (x / 165) ** 2 + (y / 115) ** 2;
        let value: number = HU.air;
        if (body <= 1) {
          value = body > 0.82 ? HU.fat : HU.soft;
          const ribRing = body > 0.7 && body < 0.78 && ribPhase && y < 60;
          if (ribRing) value = HU.bone;
          const spine = (x / 18) ** 2 + ((y - 75) / 18) ** 2 <= 1;
          if (spine) value = HU.bone;
          for (const side of [-1, 1]) {
            const lung =
              ((x - side * 75) / (55 * lungScale + 1e-6)) ** 2 + ((y + 5) / (80 * lungScale + 1e-6)) ** 2;
            if (lung <= 1) {
              value = HU.lung;
              // Vessels: tubes fanning out from the hilum, thinner towards the periphery.
              const angle = Math.atan2(y + 5, x - side * 25);
              const radius = Math.hypot(x - side * 25, y + 5);
              const branch = Math.abs(Math.sin(angle * 5 + z / 40));
              if (branch < 0.06 * (1 - Math.min(1, radius / 90)) + 0.01) value = HU.vessel;
            }
          }
        }
        hu[index] = value;
      }
    }
  }

  for (const nodule of placed)
    paintNodule(hu, nodule, { nx, ny, nz, originLps, pixel: o.pixelSpacingMm, slice: o.sliceSpacingMm });
  for (let index = 0; index < hu.length; index += 1) {
    if (paddingMask[index]) continue;
    const noise = (rand() + rand() + rand() - 1.5) * 2 * o.noiseHu; // ~N(0, noiseHu)
    hu[index] = Math.round(hu[index]! + noise);
  }
  return {
    dimensions: [nx, ny, nz],
    pixelSpacingMm: o.pixelSpacingMm,
    sliceSpacingMm: o.sliceSpacingMm,
    originLps,
    hu,
    paddingMask,
    nodules: placed,
  };
}

/** Paints a sphere with a 1 mm soft margin; a part-solid nodule gets a solid core inside ground glass. */
function paintNodule(
  hu: Int16Array,
  nodule: PhantomNodule,
  g: {
    nx: number;
    ny: number;
    nz: number;
    originLps: [number, number, number];
    pixel: number;
    slice: number;
  },
): void {
  const radius = nodule.diameterMm / 2;
  const core = (nodule.solidComponentMm ?? 0) / 2;
  const peak = nodule.type === 'solid' ? HU.solid : HU.ggo;
  const [cx, cy, cz] = nodule.centreLps;
  const lo = (c: number, o: number, s: number) => Math.max(0, Math.floor((c - radius - 1 - o) / s));
  const hi = (c: number, o: number, s: number, n: number) =>
    Math.min(n - 1, Math.ceil((c + radius + 1 - o) / s));
  for (let k = lo(cz, g.originLps[2], g.slice); k <= hi(cz, g.originLps[2], g.slice, g.nz); k += 1)
    for (let j = lo(cy, g.originLps[1], g.pixel); j <= hi(cy, g.originLps[1], g.pixel, g.ny); j += 1)
      for (let i = lo(cx, g.originLps[0], g.pixel); i <= hi(cx, g.originLps[0], g.pixel, g.nx); i += 1) {
        const d = Math.hypot(
          g.originLps[0] + i * g.pixel - cx,
          g.originLps[1] + j * g.pixel - cy,
          g.originLps[2] + k * g.slice - cz,
        );
        const index = i + g.nx * (j + g.ny * k);
        const background = hu[index]!;
        const edge = Math.min(1, Math.max(0, radius + 0.5 - d)); // 1 inside, ramps to 0 over 1 mm
        let value = background + (peak - background) * edge;
        if (core > 0) {
          const coreEdge = Math.min(1, Math.max(0, core + 0.5 - d));
          value = value + (HU.solid - value) * coreEdge;
        }
        hu[index] = Math.round(Math.max(background, value));
      }
}
