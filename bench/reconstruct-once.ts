// One reconstruction of a series folder, in a fresh process so its peak memory (maxRSS) is its own; timed
// in-process, from the file listing to the volume (no process start, no NIfTI written).
// Usage: reconstruct-once.ts <series-folder> [decodeThreads]. Prints JSON: { ms, maxRssMb, baselineMb, volumeMb, dimensions }.
import { reconstructSeries } from '../src/volume/reconstruct-series.js';
import { listFiles } from '../src/dicom/part10-files.js';
import { seriesFileInstances } from '../src/volume/series-files.js';

const [folder, threads] = process.argv.slice(2);
if (!folder) throw new Error('usage: reconstruct-once.ts <series-folder> [decodeThreads]');
const baselineMb = process.resourceUsage().maxRSS / 1024;
const started = performance.now();
const files = await listFiles([folder]);
const result = await reconstructSeries(seriesFileInstances(files), {
  expectedSlices: files.length,
  decodeThreads: threads === undefined ? undefined : Number(threads),
});
const ms = performance.now() - started;
const volume = result.volume;
process.stdout.write(
  `${JSON.stringify({
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    baselineMb,
    volumeMb: volume ? volume.hu.byteLength / 2 ** 20 : 0,
    dimensions: volume?.dimensions,
  })}\n`,
);
