// Detection speed and peak memory per CT (targets: <= 10 s and <= 3 GB on a 2-core machine), each run in a
// fresh process, the detectors side by side in one run (NODUS_BENCH_DETECTORS, default: the 1.x feature
// classifier and the 2.x CNN); reconstruction (dcm2niix-comparable, see bench:reconstruct) and model loading
// are shown apart. Usage: npm run bench:detect [-- <series-folder>...]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleDataDir } from '../src/main/demo.js';

const RUNS = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const data = sampleDataDir(process.env.NODUS_SAMPLE_DIR);
const folders = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['lidc/LIDC-IDRI-0001', 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom', 'cptac-luad/C3N-00247'].map((s) =>
      path.join(data, s),
    );
const detectors = (process.env.NODUS_BENCH_DETECTORS ?? 'nodus-detector,nodus-detector-2').split(',');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Run {
  loadMs: number;
  reconstructMs: number;
  detectMs: number;
  stages: Record<string, number>;
  findings: number;
  maxRssMb: number;
}

console.log(`detection: median of ${RUNS} fresh processes, ${os.cpus().length} cores, alternating detectors`);
console.log(
  'series | detector | detect s | slowest stage | stages ms (median run) | model load ms | reconstruct ms | peak RSS MB (process) | findings',
);
for (const folder of folders) {
  if (!fs.existsSync(folder)) {
    console.log(`${folder}: missing, skipped`);
    continue;
  }
  // Alternating runs (old, new, old, new, ...) so both see the same machine load.
  const runs = new Map<string, Run[]>(detectors.map((d) => [d, []]));
  for (let round = 0; round < RUNS; round += 1) {
    for (const detector of detectors) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', path.join(here, 'detect-once.ts'), folder, detector],
        { encoding: 'utf8' },
      );
      runs.get(detector)!.push(JSON.parse(out.trim().split('\n').pop()!) as Run);
    }
  }
  for (const [detector, list] of runs) {
    const byDetect = [...list].sort((a, b) => a.detectMs - b.detectMs);
    const mid = byDetect[RUNS >> 1]!;
    const slowest = Object.entries(mid.stages).sort((a, b) => b[1] - a[1])[0];
    console.log(
      [
        path.relative(data, folder) || folder,
        detector,
        (mid.detectMs / 1000).toFixed(2),
        slowest ? `${slowest[0]} ${slowest[1]} ms` : '-',
        JSON.stringify(mid.stages),
        median(list.map((r) => r.loadMs)).toFixed(0),
        median(list.map((r) => r.reconstructMs)).toFixed(0),
        median(list.map((r) => r.maxRssMb)).toFixed(0),
        mid.findings,
      ].join(' | '),
    );
  }
}
