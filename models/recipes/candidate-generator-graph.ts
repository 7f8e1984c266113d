import {
  encodeOnnxModel,
  OnnxGraphBuilder,
  type OnnxAttribute,
  type OnnxDim,
} from '../../src/inference/onnx/onnx-model-writer.js';

export interface CandidateGeneratorOptions {
  /** Voxel size of the model grid, mm (isotropic). */
  spacingMm: number;
  /**
   * Gaussian smoothing scales, mm, increasing in a constant ratio (a geometric sequence, at least 3). Each pair
   * of neighbours gives one difference-of-Gaussians band centred on their geometric mean.
   */
  sigmasMm: readonly number[];
}

/**
 * Default scales: 1.0 mm to 20.7 mm in ratio 1.4 (10 levels, 9 bands centred on 1.18 ... 17.5 mm), which
 * finds spheres of radius about 2 to 30 mm (nodules of 3-30 mm diameter and tumours up to ~60 mm).
 */
export const DEFAULT_CANDIDATE_SIGMAS_MM: readonly number[] = Array.from(
  { length: 10 },
  (_, k) => Math.round(1000 * 1.4 ** k) / 1000,
);

/**
 * Peak band response at the centre of a uniform sphere of contrast 1 before calibration: 0.925 in the
 * continuum (see buildCandidateGeneratorGraph), 0.87 measured (mean over spheres of radius 3-25 mm at six
 * sub-voxel positions; 0.88 at 1.0 mm voxels, 0.86 at 2.0 mm). Bands are divided by it.
 */
const RESPONSE_PER_CONTRAST = 0.87;
/**
 * radiusMm = RADIUS_PER_SIGMA * sqrt(sigma^2 + blur), sigma the refined maximising scale: sqrt(3) in the
 * continuum, sqrt(3) / 1.032 measured (the estimate was 3.2% high on average, as at 1.0 mm voxels; 3.9% at 2.0 mm).
 */
const RADIUS_PER_SIGMA = Math.sqrt(3) / 1.032;
/** Variance (voxels^2) of the blur every image has on the grid: a voxel-wide box, 1/12. */
const GRID_BLUR_VOXELS2 = 1 / 12;
/**
 * Levels at least this smooth (standard deviation, voxels) go to the coarse grid. Aliasing alone would allow
 * 2.5; at 3.5 the bands peaking for radii below ~7 mm stay on the fine grid, where the radius is not
 * interpolated from coarse voxels up to 1.7 fine voxels off a small nodule's centre.
 */
const DECIMATE_AT_VOXELS = 3.5;
/** A Slice end past any dimension. */
const MAX_INDEX = 2 ** 53 - 1;
/** Gaussian kernels reach this many standard deviations each side. */
const KERNEL_REACH = 3;

/**
 * The nodule candidate generator: a multi-scale blob detector written as an ONNX graph.
 *
 * Input `volume`: float32 [1, 1, D, H, W] (D, H, W symbolic: z along k, y along j, x along i), isotropic
 * voxels of `spacingMm`, values (clip(HU, -1000, 400) + 1000) / 1400, so 0 is air. Outside the volume
 * counts as 0 (zero padding), as the heatmap contract pads tiles.
 *
 * Outputs, float32 [1, 1, D, H, W]:
 * - `response`: the largest over scales of the scale-normalised negative Laplacian of Gaussian, calibrated
 *   so that a uniform sphere of contrast c (in the input's units) over its background gives about c at its
 *   centre whatever its radius. Positive at bright blobs, negative at dark ones.
 * - `radiusMm`: the radius, mm, of the sphere whose peak would be at the maximising scale.
 *
 * Method. Let u(s) be the volume smoothed by a Gaussian of standard deviation s. By the heat equation,
 * du/ds = s * Laplacian(u), so the scale-normalised negative Laplacian -s^2 Laplacian(u) equals -du/d(ln s).
 * For consecutive scales s_k < s_(k+1) the band response (u(s_k) - u(s_(k+1))) / ln(s_(k+1) / s_k) is
 * that derivative at s = sqrt(s_k s_(k+1)) (a difference of Gaussians with the exact normalisation; the
 * scales are taken as sqrt(s^2 + spacing^2 / 12), the grid's own blur included).
 * At the centre of a sphere of radius r and contrast c, u(s) = c * P(chi_3 < r/s), so with x = r/s,
 * -du/d(ln s) = c sqrt(2/pi) x^3 exp(-x^2/2): largest at x = sqrt(3) (s = r / sqrt(3)), where it is
 * 0.925 c for every r. An infinitely long cylinder gives c x^2 exp(-x^2/2), at most 0.736 c (0.80 of a
 * sphere's); a plane edge 0.242 c. The maximising scale is refined by a parabola through the best band and
 * its neighbours (in ln s), then turned into a radius: r = sqrt(3) * scale, calibrated below.
 *
 * Calibration and accuracy (synthetic spheres with a one-voxel linear soft edge in a zero background, 1.5 mm
 * voxels, six sub-voxel centre positions, radius 2-25 mm): before calibration the centre peak was
 * 0.87 c on average (0.84-0.90 c for radius 3-25 mm, 0.63-0.81 c for 2 mm) and the radius estimate
 * 3.2% high on average; with RESPONSE_PER_CONTRAST and RADIUS_PER_SIGMA the peaks are 0.85-1.04 c for
 * radius 3-25 mm (0.73-0.93 c at 2 mm), the radius within 2% for 3-25 mm (6% high at 2 mm), and the
 * maximum lies on the voxel nearest the centre. A cylinder of the same radius gives 0.78-0.82 of the
 * sphere's response along its length (its cut ends at the grid's faces respond like a blob).
 *
 * Cost. Gaussians are separable and incremental (level k+1 smooths level k by sqrt(s_(k+1)^2 - s_k^2)):
 * one Conv per axis with a (k,1,1), (1,k,1) or (1,1,k) kernel on the whole volume (onnxruntime's MLAS
 * convolution works on a single image in segments: no k x N im2col buffer; measured as fast as a folded
 * [B,1,L] Conv1d, without the transposes). Levels smoother than DECIMATE_AT_VOXELS go to a coarse grid (every
 * other voxel: 1/8 of the voxels), whose best response and radius come back by cubic interpolation, so the
 * large kernels never run on the full grid. Measured with onnxruntime-node 1.30 on 2 threads of an AMD
 * EPYC VM (bench/candidate-generator.ts), 200 x 240 x 240 voxels: first run of a session 1.7-2.2 s (page
 * faults of the allocator's first arena take about half of it), later runs 0.7-0.8 s (of which ~0.25 s
 * hands the two outputs to JavaScript; twice as long while another process keeps a core busy), peak RSS
 * 0.95 GB with `enableMemPattern: false` (1.56 GB with onnxruntime's default memory pattern, which plans
 * a block per input shape). All nine bands on the full grid took 2.8-3.1 s, 1.4-1.6 s and 1.2-1.3 GB; trilinear Resize
 * instead of the cubic upsampling was as fast but put the maximum of a sphere whose centre falls between
 * coarse voxels a voxel off, 15% lower.
 */
export function buildCandidateGeneratorGraph(options: CandidateGeneratorOptions): Uint8Array {
  const { spacingMm, sigmasMm } = options;
  const ratio = geometricRatio(sigmasMm);
  const bandCount = sigmasMm.length - 1;
  const g = new OnnxGraphBuilder();
  const fine: Grid = { spacingMm, shape: [1, 1, 'D', 'H', 'W'] };
  const coarse: Grid = { spacingMm: 2 * spacingMm, shape: [1, 1, 'Dc', 'Hc', 'Wc'] };
  // The image on the grid is already blurred by the voxels' footprint: its scales are sqrt(s^2 + blur).
  const blurMm2 = GRID_BLUR_VOXELS2 * spacingMm ** 2;
  const effectiveSigma = (k: number) => Math.sqrt(sigmasMm[k]! ** 2 + blurMm2);
  const lnRatio = Math.log(ratio);

  /** An intermediate value on a grid, declared so onnxruntime can reuse buffers of the same shape. */
  const op = (grid: Grid, opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>) =>
    g.declare(g.op(opType, inputs, attributes), opType === 'Greater' ? 'bool' : 'float32', grid.shape);
  const scalar = (hint: string, value: number) => g.floats(hint, [value], []);

  /** Separable Gaussian of standard deviation `sigmaMm`, zero outside the grid: one Conv per axis. */
  const smooth = (grid: Grid, input: string, sigmaMm: number): string => {
    const kernel = discreteGaussian(sigmaMm / grid.spacingMm);
    const reach = (kernel.length - 1) / 2;
    let value = input;
    for (const axis of [2, 1, 0]) {
      const shape = [1, 1, 1, 1, 1];
      shape[2 + axis] = kernel.length;
      const pads = [0, 0, 0, 0, 0, 0];
      pads[axis] = reach;
      pads[3 + axis] = reach;
      value = op(grid, 'Conv', [value, g.floats(`gauss_${'dhw'[axis]}`, kernel, shape)], {
        pads: { ints: pads },
      });
    }
    return value;
  };

  /** Band k: -du/d(ln s) between levels k and k+1, scaled so a sphere of contrast 1 peaks at about 1. */
  const band = (grid: Grid, k: number, level: string, next: string) => {
    const scale = 1 / (Math.log(effectiveSigma(k + 1) / effectiveSigma(k)) * RESPONSE_PER_CONTRAST);
    return op(grid, 'Mul', [op(grid, 'Sub', [level, next]), scalar('band_scale', scale)]);
  };

  /**
   * ln of the scale (mm) where a parabola through bands k-1, k, k+1 (in ln s) peaks, at most one band from
   * band k's centre sigma_0 sqrt(ratio) ratio^k. Where band k is the largest of the three the vertex is within
   * half a band; further only for the last band of the fine grid, whose upper neighbour competes on the coarse
   * grid and may be the larger here.
   */
  const peakLnSigma = (grid: Grid, k: number, below: string, response: string, above: string) => {
    const curvature = op(grid, 'Sub', [
      op(grid, 'Add', [below, above]),
      op(grid, 'Add', [response, response]),
    ]);
    const slope = op(grid, 'Sub', [below, above]);
    const bandsFromCentre = op(grid, 'Clip', [
      op(grid, 'Div', [slope, op(grid, 'Min', [curvature, scalar('minus_epsilon', -1e-6)])]),
      scalar('minus_two', -2),
      scalar('two', 2),
    ]);
    const centre = Math.log(sigmasMm[0]! * Math.sqrt(ratio)) + k * lnRatio;
    return op(grid, 'Add', [
      op(grid, 'Mul', [bandsFromCentre, scalar('half_ln_ratio', lnRatio / 2)]),
      scalar('ln_centre', centre),
    ]);
  };

  /**
   * Band by band, the best response so far at each voxel and the ln scale of its peak. Band k is considered
   * once band k+1 exists (its upper neighbour); at the ends of the scale range the missing neighbour is
   * taken equal to the present one (no refinement). Nodes are added in execution order, so only a few
   * volumes are alive at a time.
   */
  interface Best {
    response: string;
    lnSigma: string;
  }
  const consider = (grid: Grid, best: Best | undefined, k: number, bands: Map<number, string>): Best => {
    const response = bands.get(k)!;
    const below = bands.get(k - 1) ?? bands.get(k + 1)!;
    const above = bands.get(k + 1) ?? bands.get(k - 1)!;
    const lnSigma = peakLnSigma(grid, k, below, response, above);
    if (!best) return { response, lnSigma };
    const better = op(grid, 'Greater', [response, best.response]);
    return {
      response: op(grid, 'Max', [best.response, response]),
      lnSigma: op(grid, 'Where', [better, lnSigma, best.lnSigma]),
    };
  };

  const radiusMm = (grid: Grid, lnSigma: string) => {
    const sigma = op(grid, 'Exp', [lnSigma]);
    const variance = op(grid, 'Add', [op(grid, 'Mul', [sigma, sigma]), scalar('blur_mm2', blurMm2)]);
    return op(grid, 'Mul', [op(grid, 'Sqrt', [variance]), scalar('radius_per_sigma', RADIUS_PER_SIGMA)]);
  };

  // Fine grid: bands 0 .. decimateAt-2 compete there, band decimateAt-1 is their upper neighbour, where
  // level decimateAt is the first smooth enough to be decimated; or every band when none is.
  const decimateAt = sigmasMm.findIndex(
    (sigma, k) => k >= 2 && k < bandCount && sigma / spacingMm >= DECIMATE_AT_VOXELS,
  );
  const lastFineBand = decimateAt < 0 ? bandCount - 1 : decimateAt - 1;
  // Coarse grid: every other voxel on each axis (coarse voxel c is fine voxel 2c).
  const decimate = (value: string) =>
    op(coarse, 'Slice', [
      value,
      g.int64s('starts', [0, 0, 0]),
      g.int64s('ends', [MAX_INDEX, MAX_INDEX, MAX_INDEX]),
      g.int64s('axes', [2, 3, 4]),
      g.int64s('steps', [2, 2, 2]),
    ]);
  const bandsOnFine = new Map<number, string>();
  const bandsOnCoarse = new Map<number, string>();
  let level = smooth(fine, 'volume', sigmasMm[0]!);
  let coarseLevel = '';
  let fineBest: Best | undefined;
  for (let k = 0; k <= lastFineBand; k += 1) {
    const next = smooth(fine, level, Math.sqrt(sigmasMm[k + 1]! ** 2 - sigmasMm[k]! ** 2));
    bandsOnFine.set(k, band(fine, k, level, next));
    level = next;
    if (k === lastFineBand && decimateAt >= 0) {
      // Decimated as soon as they exist, so that the fine volumes are released early.
      coarseLevel = decimate(level);
      bandsOnCoarse.set(k - 1, decimate(bandsOnFine.get(k - 1)!));
      bandsOnCoarse.set(k, decimate(bandsOnFine.get(k)!));
    }
    if (k >= 1) fineBest = consider(fine, fineBest, k - 1, bandsOnFine);
  }
  if (decimateAt < 0) fineBest = consider(fine, fineBest, bandCount - 1, bandsOnFine);
  const fineResult = { response: fineBest!.response, radiusMm: radiusMm(fine, fineBest!.lnSigma) };

  if (decimateAt < 0) {
    g.op('Identity', [fineResult.response], undefined, 'response');
    g.op('Identity', [fineResult.radiusMm], undefined, 'radiusMm');
  } else {
    // The other bands on the coarse grid, from level decimateAt on; band decimateAt-1 competes here, with
    // band decimateAt-2 as its lower neighbour.
    let coarseBest: Best | undefined;
    for (let k = decimateAt; k < bandCount; k += 1) {
      const next = smooth(coarse, coarseLevel, Math.sqrt(sigmasMm[k + 1]! ** 2 - sigmasMm[k]! ** 2));
      bandsOnCoarse.set(k, band(coarse, k, coarseLevel, next));
      coarseLevel = next;
      coarseBest = consider(coarse, coarseBest, k - 1, bandsOnCoarse);
    }
    coarseBest = consider(coarse, coarseBest, bandCount - 1, bandsOnCoarse);
    // Back on the fine grid (coarse voxel c is fine voxel 2c), the larger response wins.
    const upsample = cubicUpsampler(g, 'volume', coarseBest.response);
    const coarseResponse = upsample(coarseBest.response);
    const coarseRadius = upsample(radiusMm(coarse, coarseBest.lnSigma));
    const coarseWins = op(fine, 'Greater', [coarseResponse, fineResult.response]);
    g.op('Max', [fineResult.response, coarseResponse], undefined, 'response');
    g.op('Where', [coarseWins, coarseRadius, fineResult.radiusMm], undefined, 'radiusMm');
  }

  return encodeOnnxModel({
    graph: {
      name: 'candidate_generator',
      nodes: g.nodes,
      initializers: g.initializers,
      valueInfo: g.valueInfo,
      inputs: [{ name: 'volume', type: 'float32', shape: fine.shape }],
      outputs: [
        { name: 'response', type: 'float32', shape: fine.shape },
        { name: 'radiusMm', type: 'float32', shape: fine.shape },
      ],
    },
    docString:
      'Multi-scale blob detector (scale-normalised negative Laplacian of Gaussian by differences of Gaussians). ' +
      'Input: (clip(HU, -1000, 400) + 1000) / 1400 on an isotropic grid. Outputs: response and radiusMm.',
    metadata: {
      spacingMm: String(spacingMm),
      sigmasMm: sigmasMm.join(','),
      huWindow: '-1000,400',
      haloVoxels: String(candidateGeneratorHaloVoxels(options)),
    },
  });
}

/**
 * Upsampling by 2 on each axis with the Catmull-Rom cubic (interpolating: coarse voxel c is fine voxel 2c),
 * written as three matrix products with interpolation matrices built in the graph from the grids' sizes
 * (rows normalised, so the weights that would fall outside the volume go to the voxels inside).
 * Returns a function that upsamples any volume with the shape of `coarseReference` to that of `fineReference`.
 */
function cubicUpsampler(g: OnnxGraphBuilder, fineReference: string, coarseReference: string) {
  const fineShape = g.op('Shape', [fineReference]);
  const coarseShape = g.op('Shape', [coarseReference]);
  const size = (shape: string, axis: number) => g.op('Gather', [shape, g.int64s('axis', [axis], [])]);
  const positions = (length: string) =>
    g.op('Cast', [g.op('Range', [g.int64s('zero', [0], []), length, g.int64s('one', [1], [])])], {
      to: { int: 1 },
    });
  const scalar = (hint: string, value: number) => g.floats(hint, [value], []);
  /** weights[f, c] of coarse voxel c for fine voxel f, [fine, coarse]; transposed: [coarse, fine]. */
  const matrix = (axis: number, transposed: boolean) => {
    const fineAt = g.op('Mul', [positions(size(fineShape, axis)), scalar('half', 0.5)]);
    const coarseAt = positions(size(coarseShape, axis));
    const column = (vector: string) => g.op('Unsqueeze', [vector, g.int64s('axes', [1])]);
    const t = g.op('Abs', [
      transposed ? g.op('Sub', [fineAt, column(coarseAt)]) : g.op('Sub', [column(fineAt), coarseAt]),
    ]);
    // Keys' cubic, a = -0.5: 1.5|t|^3 - 2.5|t|^2 + 1 below 1; -0.5|t|^3 + 2.5|t|^2 - 4|t| + 2 below 2.
    const polynomial = (coefficients: number[]) =>
      coefficients
        .slice(1)
        .reduce(
          (value, coefficient) => g.op('Add', [g.op('Mul', [value, t]), scalar('c', coefficient)]),
          scalar('c', coefficients[0]!),
        );
    const near = polynomial([1.5, -2.5, 0, 1]);
    const far = polynomial([-0.5, 2.5, -4, 2]);
    const weights = g.op('Where', [
      g.op('Less', [t, scalar('one', 1)]),
      near,
      g.op('Where', [g.op('Less', [t, scalar('two', 2)]), far, scalar('zero', 0)]),
    ]);
    const total = g.op('ReduceSum', [weights, g.int64s('axes', [transposed ? 0 : 1])], {
      keepdims: { int: 1 },
    });
    return g.op('Div', [weights, total]);
  };
  const alongW = matrix(4, true);
  const alongH = matrix(3, false);
  const alongD = matrix(2, false);
  return (value: string) => {
    const wide = g.op('MatMul', [value, alongW]);
    const tall = g.op('MatMul', [alongH, wide]);
    const deep = g.op('MatMul', [alongD, g.op('Flatten', [tall], { axis: { int: 3 } })]);
    return g.declare(g.op('Reshape', [deep, fineShape]), 'float32', [1, 1, 'D', 'H', 'W']);
  };
}

/** A grid the graph computes on: its voxel size and the (symbolic) shape of its volumes. */
interface Grid {
  spacingMm: number;
  shape: OnnxDim[];
}

/**
 * Voxels each side of a tile that the filters reach (the heatmap contract's `haloVoxels`): three standard
 * deviations of the largest scale (beyond which the combined Gaussian's weights are under 0.3% per axis) plus
 * the cubic upsampling's two coarse voxels, rounded up to even so that tiles starting at even offsets keep
 * the coarse grid (every other voxel) where an untiled run has it.
 */
export function candidateGeneratorHaloVoxels(options: CandidateGeneratorOptions): number {
  const largest = options.sigmasMm[options.sigmasMm.length - 1]!;
  const reach = Math.ceil((KERNEL_REACH * largest) / options.spacingMm) + 4;
  return reach + (reach % 2);
}

/** The constant ratio of a geometric sequence of at least 3 increasing scales. */
function geometricRatio(sigmasMm: readonly number[]): number {
  if (sigmasMm.length < 3) throw new Error('candidate generator: at least 3 scales');
  const ratio = sigmasMm[1]! / sigmasMm[0]!;
  sigmasMm.forEach((sigma, k) => {
    if (!(sigma > 0) || Math.abs(sigma / (sigmasMm[0]! * ratio ** k) - 1) > 0.01 || !(ratio > 1)) {
      throw new Error(
        `candidate generator: scales must grow in a constant ratio, got ${sigmasMm.join(', ')}`,
      );
    }
  });
  return ratio;
}

/**
 * A sampled, normalised Gaussian over +-ceil(3 sigma) voxels whose variance is exactly sigma^2 (voxels^2):
 * below about one voxel a sampled Gaussian's variance differs from its parameter's, so the parameter is
 * solved for.
 */
function discreteGaussian(sigmaVoxels: number): Float32Array {
  const reach = Math.max(1, Math.ceil(KERNEL_REACH * sigmaVoxels));
  const weights = (tau: number) =>
    Array.from({ length: 2 * reach + 1 }, (_, i) => Math.exp(-((i - reach) ** 2) / (2 * tau * tau)));
  const variance = (tau: number) => {
    const w = weights(tau);
    const total = w.reduce((a, b) => a + b, 0);
    return w.reduce((sum, v, i) => sum + v * (i - reach) ** 2, 0) / total;
  };
  let low = 1e-3;
  let high = 2 * sigmaVoxels + 1;
  for (let iteration = 0; iteration < 60; iteration += 1) {
    const middle = (low + high) / 2;
    if (variance(middle) < sigmaVoxels ** 2) low = middle;
    else high = middle;
  }
  const w = weights((low + high) / 2);
  const total = w.reduce((a, b) => a + b, 0);
  return Float32Array.from(w, (v) => v / total);
}
