// Detection speed and peak memory per CT (targets: <= 10 s and <= 3 GB on a 2-core machine), each run in a
// fresh process; reconstruction (dcm2niix-comparable, see bench:reconstruct) and model loading are shown apart.
// Usage: npm run bench:detect [-- <series-folder>...]
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
  : ['lidc/LIDC-IDRI-0001', 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom'].map((s) => path.join(data, s));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Run {
  loadMs: number;
  reconstructMs: number;
  detectMs: number;
  stages: Record<string, number>;
  findings: number;
  maxRssMb: number;
}

console.log(`detection: median of ${RUNS} fresh processes, ${os.cpus().length} cores, default detector`);
console.log(
  'series | detect s | stages ms (median run) | model load ms | reconstruct ms | peak RSS MB (process) | findings',
);
for (const folder of folders) {
  if (!fs.existsSync(folder)) {
    console.log(`${folder}: missing, skipped`);
    continue;
  }
  const runs: Run[] = Array.from({ length: RUNS }, () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'detect-once.ts'), folder],
      {
        encoding: 'utf8',
      },
    );
    return JSON.parse(out.trim().split('\n').pop()!) as Run;
  });
  const byDetect = [...runs].sort((a, b) => a.detectMs - b.detectMs);
  const mid = byDetect[RUNS >> 1]!;
  console.log(
    [
      path.relative(data, folder) || folder,
      (mid.detectMs / 1000).toFixed(2),
      JSON.stringify(mid.stages),
      median(runs.map((r) => r.loadMs)).toFixed(0),
      median(runs.map((r) => r.reconstructMs)).toFixed(0),
      median(runs.map((r) => r.maxRssMb)).toFixed(0),
      mid.findings,
    ].join(' | '),
  );
}
