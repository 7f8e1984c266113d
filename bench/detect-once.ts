// One detection of a series folder in a fresh process (so its peak memory is its own). Prints JSON.
import { detectNodules } from '../src/inference/detect-nodules.js';
import { loadDetector } from '../src/inference/model-registry.js';
import { reconstructFolder } from '../src/main/detect-command.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: detect-once.ts <series-folder> [detector]');
const baselineMb = process.resourceUsage().maxRSS / 1024;
let started = performance.now();
const detector = await loadDetector(process.argv[3]);
const loadMs = performance.now() - started;
started = performance.now();
const { volume } = await reconstructFolder([folder]);
const reconstructMs = performance.now() - started;
started = performance.now();
const detection = await detectNodules(volume, detector);
const detectMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    loadMs,
    reconstructMs,
    detectMs,
    stages: detection.timingsMs,
    findings: detection.nodules.length,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    baselineMb,
  })}\n`,
);
