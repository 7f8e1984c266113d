// Times the candidate generator graph (models/recipes/candidate-generator-graph.ts) in onnxruntime-node on a
// chest-sized model grid (200 x 240 x 240 voxels at 1.5 mm) with 2 intra-op threads, and prints the peak RSS
// of the process (node itself, both inputs and the outputs included). Each scan has its own grid size, so
// after the first runs it also times a run on a grid of another size.
// The session is created with enableMemPattern: false (onnxruntime's memory pattern plans one more block per
// input shape: about 0.6 GB more here); --memory-pattern keeps onnxruntime's default.
// Run: node --import tsx bench/candidate-generator.ts [D H W] [--memory-pattern]
import * as ort from 'onnxruntime-node';
import {
  buildCandidateGeneratorGraph,
  DEFAULT_CANDIDATE_SIGMAS_MM,
} from '../models/recipes/candidate-generator-graph.js';

const memoryPattern = process.argv.includes('--memory-pattern');
const sizes = process.argv.slice(2).filter((argument) => /^\d+$/.test(argument));
const [D, H, W] = sizes.length === 3 ? sizes.map(Number) : [200, 240, 240];
const spacingMm = 1.5;
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Lung-like texture: a dark field with bright blobs and streaks and noise, values in [0, 1]. */
function chestLikeVolume(d: number, h: number, w: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const data = new Float32Array(d * h * w);
  for (let z = 0; z < d; z += 1)
    for (let y = 0; y < h; y += 1)
      for (let x = 0; x < w; x += 1) {
        const wave = Math.sin(x * 0.21) * Math.sin(y * 0.17) * Math.sin(z * 0.13);
        const body = Math.hypot((x - w / 2) / (w / 2), (y - h / 2) / (h / 2)) > 0.85 ? 0.7 : 0.1;
        data[x + w * (y + h * z)] = Math.min(
          1,
          Math.max(0, body + 0.25 * Math.max(0, wave) + 0.03 * random()),
        );
      }
  return data;
}

async function timeRun(session: ort.InferenceSession, shape: number[], data: Float32Array) {
  const started = performance.now();
  const outputs = await session.run({ volume: new ort.Tensor('float32', data, [1, 1, ...shape]) });
  const ms = performance.now() - started;
  for (const output of Object.values(outputs)) output.dispose();
  return Math.round(ms);
}

const baselineMb = peakRssMb();
const buildStarted = performance.now();
const model = buildCandidateGeneratorGraph({ spacingMm, sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM });
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 2,
  enableMemPattern: memoryPattern,
});
const sessionMs = Math.round(performance.now() - buildStarted);
const volume = chestLikeVolume(D!, H!, W!, 1);
const otherShape = [D! - 9, H! - 11, W! - 3];
const other = chestLikeVolume(otherShape[0]!, otherShape[1]!, otherShape[2]!, 2);
const inputMb = mb(volume.byteLength + other.byteLength);

const first = await timeRun(session, [D!, H!, W!], volume);
const again = await timeRun(session, [D!, H!, W!], volume);
const otherSize = await timeRun(session, otherShape, other);
const back = await timeRun(session, [D!, H!, W!], volume);
process.stdout.write(
  `${JSON.stringify({
    grid: `${D}x${H}x${W} @ ${spacingMm} mm`,
    sigmasMm: DEFAULT_CANDIDATE_SIGMAS_MM,
    enableMemPattern: memoryPattern,
    modelKb: Math.round(model.byteLength / 1024),
    sessionMs,
    firstRunMs: first,
    sameSizeAgainMs: again,
    otherSizeMs: otherSize,
    firstSizeAgainMs: back,
    peakRssMb: peakRssMb(),
    baselineRssMb: baselineMb,
    inputsMb: inputMb,
  })}\n`,
);
