// One reconstruction of a series folder, in a fresh process so its peak memory (maxRSS) is its own.
// Prints JSON: { ms, maxRssMb, volumeMb, dimensions }.
import { listFiles } from '../src/ingest/import-files.js';
import { reconstructSeries } from '../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../src/volume/series-files.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: reconstruct-once.ts <series-folder>');
const baselineMb = process.resourceUsage().maxRSS / 1024;
const started = performance.now();
const files = await listFiles([folder]);
const result = await reconstructSeries(readPart10FilesReusingBuffer(files), {
  expectedSlices: files.length,
  scratchInput: true,
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
