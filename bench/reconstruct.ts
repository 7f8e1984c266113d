// Reconstruction speed and memory, side by side with dcm2niix on the same series in the same run.
// Usage: npm run bench:reconstruct [-- <series-folder>...]  (default: the series in ../shared/data)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleDataDir } from '../src/main/demo.js';

const RUNS = 7;
const here = path.dirname(fileURLToPath(import.meta.url));
const data = sampleDataDir(process.env.NODUS_SAMPLE_DIR);
const folders = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['lidc/LIDC-IDRI-0001', 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom'].map((s) => path.join(data, s));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

function nodusOnce(folder: string) {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'reconstruct-once.ts'), folder],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as {
    ms: number;
    maxRssMb: number;
    baselineMb: number;
    volumeMb: number;
  };
}

function dcm2niixOnce(folder: string) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dcm2niix-'));
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', 'dcm2niix', '-z', 'n', '-b', 'n', '-o', out, folder], {
    encoding: 'utf8',
  });
  const ms = performance.now() - started;
  fs.rmSync(out, { recursive: true, force: true });
  const maxRssKb = Number(run.stderr.trim().split('\n').pop());
  return { ms, maxRssMb: maxRssKb / 1024 };
}

console.log(`reconstruction: nodus vs dcm2niix, median of ${RUNS} runs each, ${os.cpus().length} cores`);
console.log(
  'series | slices | volume MB | nodus ms | dcm2niix ms | nodus/dcm2niix | nodus peak MB (above Node baseline) | dcm2niix peak MB',
);
for (const folder of folders) {
  if (!fs.existsSync(folder)) {
    console.log(`${folder}: missing, skipped`);
    continue;
  }
  // Interleaved, so both tools meet the same machine state (this VM's speed drifts between minutes).
  const ours: ReturnType<typeof nodusOnce>[] = [];
  const theirs: ReturnType<typeof dcm2niixOnce>[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    ours.push(nodusOnce(folder));
    theirs.push(dcm2niixOnce(folder));
  }
  const oursMs = median(ours.map((r) => r.ms));
  const theirsMs = median(theirs.map((r) => r.ms));
  const peak = median(ours.map((r) => r.maxRssMb - r.baselineMb));
  console.log(
    [
      path.relative(data, folder) || folder,
      fs.readdirSync(folder, { recursive: true }).length,
      ours[0]!.volumeMb.toFixed(1),
      oursMs.toFixed(0),
      theirsMs.toFixed(0),
      (oursMs / theirsMs).toFixed(2),
      `${peak.toFixed(0)} (${(peak / ours[0]!.volumeMb).toFixed(2)}x volume)`,
      median(theirs.map((r) => r.maxRssMb)).toFixed(0),
    ].join(' | '),
  );
}
