// `nodus volume` against dcm2niix, whole process (what a user meets: start, reading, decoding, writing the
// NIfTI), on the same series in the same run, alternating, median of RUNS; then in-process figures.
// Series: LIDC-IDRI-0001 (133 slices), 261- and 500-slice series derived from it (written to a temporary
// folder here, never into the repository: see long-series.ts) and Lung_Dx-A0001 (64), or the folders given.
//
// The nodus command measured is NODUS_BENCH_COMMAND when set (e.g. "node dist/main/cli.js"), else the one
// users run, `node scripts/nodus.mjs`. The sources are also compiled with esbuild into a temporary folder
// and `volume` run from there through a launcher that loads only the volume command ("compiled"): what a
// built, lazily loading CLI costs.
// Usage: npm run bench:reconstruct [-- <series-folder>...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sampleDataDir } from '../src/main/demo.js';
import { writeLongSeries } from './long-series.js';

const RUNS = 5;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const data = sampleDataDir(process.env.NODUS_SAMPLE_DIR);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-reconstruct-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const mb = (kb: number) => kb / 1024;

async function seriesFolders(): Promise<{ label: string; folder: string }[]> {
  const given = process.argv.slice(2);
  if (given.length) return given.map((folder) => ({ label: path.basename(folder), folder }));
  const lidc = path.join(data, 'lidc/LIDC-IDRI-0001');
  const lungDx = path.join(data, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom');
  const out: { label: string; folder: string }[] = [];
  if (fs.existsSync(lidc)) {
    out.push({ label: 'LIDC-IDRI-0001', folder: lidc });
    for (const slices of [261, 500]) {
      const folder = path.join(work, `lidc-${slices}`);
      await writeLongSeries(lidc, folder, slices);
      out.push({ label: `LIDC-0001 x${slices}`, folder });
    }
  }
  if (fs.existsSync(lungDx)) out.push({ label: 'Lung_Dx-A0001', folder: lungDx });
  return out;
}

/**
 * The sources built with esbuild into the temporary folder (one file per module, as a compiled dist/ would
 * be), with reconstruct-once.ts, and a launcher of the volume command alone. Returns the folder.
 */
async function compile(): Promise<string> {
  const out = path.join(work, 'compiled');
  const entryPoints = fs
    .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(root, 'src', file));
  entryPoints.push(path.join(here, 'reconstruct-once.ts'));
  await build({
    entryPoints,
    outdir: out,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  fs.writeFileSync(
    path.join(out, 'volume.mjs'),
    [
      "const { volumeCommand } = await import('./src/main/volume-command.js');",
      'const [input, , out] = process.argv.slice(3);',
      'process.exitCode = await volumeCommand([input], out);',
    ].join('\n'),
  );
  return out;
}

/** Runs `command` under /usr/bin/time: wall ms (spawn to exit) and peak RSS of the process, MB. */
function timed(command: string[]): { ms: number; peakMb: number } {
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', ...command], { encoding: 'utf8', cwd: root });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed: ${run.stderr}`);
  return { ms, peakMb: mb(Number(run.stderr.trim().split('\n').pop())) };
}

function nodusVolume(prefix: string[], folder: string) {
  const out = fs.mkdtempSync(path.join(work, 'nodus-'));
  try {
    return timed([...prefix, 'volume', folder, '--out', path.join(out, 'volume.nii')]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function dcm2niix(folder: string) {
  const out = fs.mkdtempSync(path.join(work, 'dcm2niix-'));
  try {
    return timed(['dcm2niix', '-z', 'n', '-b', 'n', '-o', out, folder]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function inProcess(folder: string, threads: number) {
  const once = path.join(compiled, 'bench/reconstruct-once.js');
  const run = spawnSync(process.execPath, [once, folder, String(threads)], { encoding: 'utf8', cwd: root });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as {
    ms: number;
    maxRssMb: number;
    volumeMb: number;
    dimensions: number[];
  };
}

const series = await seriesFolders();
const compiled = await compile();
const variants: { name: string; prefix: string[] }[] = [
  { name: 'compiled', prefix: [process.execPath, path.join(compiled, 'volume.mjs')] },
  {
    name: process.env.NODUS_BENCH_COMMAND ?? 'node scripts/nodus.mjs',
    prefix: process.env.NODUS_BENCH_COMMAND?.split(' ') ?? [process.execPath, 'scripts/nodus.mjs'],
  },
];

console.log(
  `nodus volume vs dcm2niix, whole process, alternating, median of ${RUNS}; ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}`,
);
console.log(
  'series | slices | volume MB | command | nodus ms | dcm2niix ms | nodus/dcm2niix | nodus peak MB (x volume) | dcm2niix peak MB',
);
const inProcessRows: string[] = [];
for (const { label, folder } of series) {
  const { volumeMb, dimensions } = inProcess(folder, 1);
  const ours = variants.map(() => [] as ReturnType<typeof timed>[]);
  const theirs: ReturnType<typeof timed>[] = [];
  // Interleaved, so that every command meets the same machine state (this VM's speed drifts).
  for (let run = 0; run < RUNS; run += 1) {
    variants.forEach((variant, v) => ours[v]!.push(nodusVolume(variant.prefix, folder)));
    theirs.push(dcm2niix(folder));
  }
  const theirsMs = median(theirs.map((r) => r.ms));
  const slices = dimensions[2];
  variants.forEach((variant, v) => {
    const ms = median(ours[v]!.map((r) => r.ms));
    const peak = median(ours[v]!.map((r) => r.peakMb));
    console.log(
      [
        label,
        slices,
        volumeMb.toFixed(1),
        variant.name,
        ms.toFixed(0),
        theirsMs.toFixed(0),
        (ms / theirsMs).toFixed(2),
        `${peak.toFixed(0)} (${(peak / volumeMb).toFixed(2)}x)`,
        median(theirs.map((r) => r.peakMb)).toFixed(0),
      ].join(' | '),
    );
  });
  // In-process: from listing to volume, compiled, a fresh process per run.
  for (const threads of [1, 2]) {
    const runs = Array.from({ length: RUNS }, () => inProcess(folder, threads));
    inProcessRows.push(
      [
        label,
        threads === 1 ? 'calling thread' : 'calling thread + 1 worker',
        median(runs.map((r) => r.ms)).toFixed(0),
        `${median(runs.map((r) => r.maxRssMb)).toFixed(0)} (${(median(runs.map((r) => r.maxRssMb)) / volumeMb).toFixed(2)}x)`,
      ].join(' | '),
    );
  }
}
console.log('\nin-process reconstruction, compiled (listing to volume: no start, no write), median of', RUNS);
console.log('series | decoding | ms | process peak MB (x volume)');
for (const row of inProcessRows) console.log(row);
