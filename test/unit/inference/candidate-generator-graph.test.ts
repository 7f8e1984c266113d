import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildCandidateGeneratorGraph,
  candidateGeneratorHaloVoxels,
  DEFAULT_CANDIDATE_SIGMAS_MM,
} from '../../../models/recipes/candidate-generator-graph.js';

const SPACING_MM = 1.5;
/** A solid nodule in lung: about -850 HU over 0 HU in the (clip(HU, -1000, 400) + 1000) / 1400 window. */
const CONTRAST = 0.6;

/** A grid [D, H, W] (z, y, x) in model voxels. */
type Shape = [number, number, number];

/**
 * A bright shape of CONTRAST in a zero background, with a one-voxel linear soft edge: `distanceMm` gives the
 * distance (mm) from the shape's axis or centre of the voxel (x, y, z).
 */
function render(shape: Shape, radiusMm: number, distanceMm: (x: number, y: number, z: number) => number) {
  const [D, H, W] = shape;
  const data = new Float32Array(D * H * W);
  for (let z = 0; z < D; z += 1)
    for (let y = 0; y < H; y += 1)
      for (let x = 0; x < W; x += 1) {
        const inside = (radiusMm - distanceMm(x, y, z)) / SPACING_MM + 0.5;
        data[x + W * (y + H * z)] = CONTRAST * Math.min(1, Math.max(0, inside));
      }
  return data;
}

/** Room around a shape of this radius for the largest scales: a grid a little different on each axis. */
function gridFor(radiusMm: number): Shape {
  const n = Math.ceil((2 * radiusMm + 50) / SPACING_MM);
  return [n, n + 3, n + 1];
}

/** A centre off the voxel grid, differently on each axis: [x, y, z] in voxels. */
const centreOf = ([D, H, W]: Shape): [number, number, number] => [W / 2 + 0.3, H / 2 - 0.4, D / 2 + 0.6];

describe('candidate generator graph', () => {
  const RADII_MM = [2, 4, 8, 15];
  let session: ort.InferenceSession;
  const spheres = new Map<number, Awaited<ReturnType<typeof sphere>>>();
  beforeAll(async () => {
    const model = buildCandidateGeneratorGraph({
      spacingMm: SPACING_MM,
      sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM,
    });
    session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
    for (const radiusMm of RADII_MM) spheres.set(radiusMm, await sphere(radiusMm));
  });

  async function detect(shape: Shape, data: Float32Array) {
    const outputs = await session.run({ volume: new ort.Tensor('float32', data, [1, 1, ...shape]) });
    expect(outputs.response!.dims).toEqual([1, 1, ...shape]);
    expect(outputs.radiusMm!.dims).toEqual([1, 1, ...shape]);
    return {
      response: outputs.response!.data as Float32Array,
      radiusMm: outputs.radiusMm!.data as Float32Array,
    };
  }

  /** The largest response among voxels accepted by `where`, and its position [x, y, z]. */
  function maximum(
    shape: Shape,
    response: Float32Array,
    where: (x: number, y: number, z: number) => boolean,
  ) {
    const [D, H, W] = shape;
    let best = { value: -Infinity, index: -1, at: [0, 0, 0] };
    for (let z = 0; z < D; z += 1)
      for (let y = 0; y < H; y += 1)
        for (let x = 0; x < W; x += 1) {
          const index = x + W * (y + H * z);
          if (response[index]! > best.value && where(x, y, z))
            best = { value: response[index]!, index, at: [x, y, z] };
        }
    return best;
  }

  const sphere = async (radiusMm: number) => {
    const shape = gridFor(radiusMm);
    const [cx, cy, cz] = centreOf(shape);
    const data = render(shape, radiusMm, (x, y, z) => Math.hypot(x - cx, y - cy, z - cz) * SPACING_MM);
    const { response, radiusMm: radii } = await detect(shape, data);
    const peak = maximum(shape, response, () => true);
    return { shape, response, peak, centre: [cx, cy, cz], radiusAtPeak: radii[peak.index]! };
  };

  it.each(RADII_MM)('finds a sphere of radius %d mm at its centre with its radius', (radiusMm) => {
    const { peak, centre, radiusAtPeak } = spheres.get(radiusMm)!;
    peak.at.forEach((voxel, axis) => expect(Math.abs(voxel - centre[axis]!)).toBeLessThanOrEqual(1));
    expect(Math.abs(radiusAtPeak / radiusMm - 1)).toBeLessThan(0.25);
    // Calibrated: the peak is about the sphere's contrast.
    expect(peak.value / CONTRAST).toBeGreaterThan(0.6);
    expect(peak.value / CONTRAST).toBeLessThan(1.25);
  });

  it.each(RADII_MM)('falls off steadily from the peak of a sphere of radius %d mm', (radiusMm) => {
    // Within half the radius along each axis (where the coarse grid's responses are interpolated for the
    // larger spheres): no ripple, no checkerboard.
    const { shape, response, peak } = spheres.get(radiusMm)!;
    const [D, H, W] = shape;
    const strides = [1, W, W * H];
    const reach = Math.max(1, Math.floor(radiusMm / SPACING_MM / 2));
    for (const [axis, stride] of strides.entries()) {
      for (const direction of [-1, 1]) {
        let previous = peak.value;
        for (let step = 1; step <= reach; step += 1) {
          expect(peak.at[axis]! + direction * step).toBeGreaterThanOrEqual(0);
          expect(peak.at[axis]! + direction * step).toBeLessThan([W, H, D][axis]!);
          const value = response[peak.index + direction * step * stride]!;
          expect(value).toBeLessThanOrEqual(previous);
          previous = value;
        }
      }
    }
  });

  it('gives spheres of 2 to 15 mm radius responses within a factor 2 of each other', () => {
    const values = RADII_MM.map((radiusMm) => spheres.get(radiusMm)!.peak.value);
    expect(Math.max(...values) / Math.min(...values)).toBeLessThan(2);
  });

  it.each([2, 4, 8])(
    'gives a vessel-like cylinder of radius %d mm a clearly lower response than a sphere of that radius',
    async (radiusMm) => {
      const spherePeak = spheres.get(radiusMm)!.peak;
      // Along y through the whole grid; away from its cut ends (where it stops like a blob) by the largest
      // scale's reach, which the grid leaves by being long in y.
      const base = gridFor(radiusMm);
      const shape: Shape = [base[0], base[1] + 60, base[2]];
      const [cx, , cz] = centreOf(shape);
      const data = render(shape, radiusMm, (x, _y, z) => Math.hypot(x - cx, z - cz) * SPACING_MM);
      const { response } = await detect(shape, data);
      const endMargin = 30;
      const cylinderPeak = maximum(shape, response, (_x, y) => y >= endMargin && y < shape[1] - endMargin);
      expect(cylinderPeak.value).toBeGreaterThan(0);
      expect(cylinderPeak.value / spherePeak.value).toBeLessThan(0.85);
    },
  );

  it('runs on the fine grid alone when no scale is smooth enough for the coarse one', async () => {
    const small = buildCandidateGeneratorGraph({ spacingMm: SPACING_MM, sigmasMm: [1, 1.4, 1.96, 2.744] });
    const fineOnly = await ort.InferenceSession.create(small, { intraOpNumThreads: 2 });
    const shape: Shape = [25, 28, 27];
    const [cx, cy, cz] = centreOf(shape);
    const data = render(shape, 3, (x, y, z) => Math.hypot(x - cx, y - cy, z - cz) * SPACING_MM);
    const { response, radiusMm } = await fineOnly.run({
      volume: new ort.Tensor('float32', data, [1, 1, ...shape]),
    });
    expect(response!.dims).toEqual([1, 1, ...shape]);
    const peak = maximum(shape, response!.data as Float32Array, () => true);
    peak.at.forEach((voxel, axis) => expect(Math.abs(voxel - [cx, cy, cz][axis]!)).toBeLessThanOrEqual(1));
    expect(Math.abs((radiusMm!.data as Float32Array)[peak.index]! / 3 - 1)).toBeLessThan(0.25);
  });

  it('declares an even halo of at least three standard deviations of the largest scale', () => {
    const halo = candidateGeneratorHaloVoxels({
      spacingMm: SPACING_MM,
      sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM,
    });
    expect(halo % 2).toBe(0);
    expect(halo * SPACING_MM).toBeGreaterThanOrEqual(3 * DEFAULT_CANDIDATE_SIGMAS_MM.at(-1)!);
  });

  it('refuses scales that do not grow in a constant ratio', () => {
    expect(() => buildCandidateGeneratorGraph({ spacingMm: 1.5, sigmasMm: [1, 2, 3, 4] })).toThrow(
      /constant ratio/,
    );
  });
});
