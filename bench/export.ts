// Export of a research cohort (volumes, label maps, tables): how fast nodus freezes and exports a snapshot,
// side by side with tar, and tar piped to gzip -6, over the same uncompressed bytes in the same run.
// Each nodus step runs in a fresh process (this file with --phase) so its peak RSS is its own; the
// reference pipelines run under /usr/bin/time. Before every timed step dirty pages are flushed (sync) and the
// step's input is read once untimed, so each starts from the page cache: the figures compare CPU and
// compression, not who found the data on disk. The reference outputs are not fsynced; nodus export fsyncs
// each file before its rename, as it does in use.
// Usage: npm run bench:export [-- --studies N]   (BENCH_KEEP=1 keeps the database and the files)
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createSnapshotRow } from '../src/db/repositories/cohort-snapshots.js';
import { sampleDataDir } from '../src/main/demo.js';
import {
  freezeSnapshot,
  frozenSnapshotFiles,
  loadFrozenSnapshot,
  type SnapshotDeps,
} from '../src/research/cohort-snapshot.js';
import { writeExportFolder } from '../src/research/export/export-folder.js';
import { MANIFEST_PATH } from '../src/research/export/export-manifest.js';
import { studyFolder } from '../src/research/export/snapshot-tables.js';
import { tarArchive } from '../src/research/export/tar-archive.js';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.js';
import { loadBenchVolume, seedExportCohort } from './export-cohort-seed.js';

const PHASES = ['freeze', 'export', 'archive'] as const;
type Phase = (typeof PHASES)[number];

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '100' },
    // Internal: run one nodus step in this process and print its figures as one JSON line.
    phase: { type: 'string' },
    database: { type: 'string' },
    blobs: { type: 'string' },
    snapshot: { type: 'string' },
    out: { type: 'string' },
  },
});
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEID_KEY = 'bench-export-deidentification-key-not-a-secret';
const MB = 1e6;
const here = path.dirname(fileURLToPath(import.meta.url));

/** What one nodus step reports from its own process. */
interface PhaseFigures {
  ms: number;
  cpuS: number;
  bytesOut: number;
  files: number;
  /** RSS when the step began (modules loaded, database open) and the most it reached (sampled every 100 ms). */
  baselineRssMb: number;
  peakRssMb: number;
  /** getrusage maxrss of the whole process. */
  maxRssMb: number;
}

function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function rssMb(): number {
  return process.memoryUsage().rss / MB;
}

async function runPhase(phase: Phase, database: string, blobDir: string, snapshotId: string, out: string) {
  const handle = openDatabase(databaseUrl(database), { max: 4 });
  const deps: SnapshotDeps = {
    db: handle.db,
    blobs: new FilesystemBlobStore(blobDir),
    deidentificationKey: DEID_KEY,
  };
  try {
    await handle.sql`select 1`;
    const baselineRssMb = rssMb();
    let peakRssMb = baselineRssMb;
    const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb())), 100);
    const cpu = process.cpuUsage();
    const started = performance.now();
    let bytesOut = 0;
    let files = 0;
    switch (phase) {
      case 'freeze': {
        const manifest = await freezeSnapshot(deps, snapshotId);
        bytesOut = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
        files = manifest.files.length;
        break;
      }
      case 'export': {
        const frozen = await loadFrozenSnapshot(deps, snapshotId);
        const progress = await writeExportFolder(frozenSnapshotFiles(deps, frozen), frozen.manifest, out);
        bytesOut = progress.bytesWritten + fs.statSync(path.join(out, MANIFEST_PATH)).size;
        files = progress.filesDone + 1;
        break;
      }
      case 'archive': {
        const frozen = await loadFrozenSnapshot(deps, snapshotId);
        await pipeline(
          tarArchive(frozenSnapshotFiles(deps, frozen), frozen.manifest),
          fs.createWriteStream(out),
        );
        bytesOut = fs.statSync(out).size;
        files = frozen.manifest.files.length + 1;
        break;
      }
    }
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    peakRssMb = Math.max(peakRssMb, rssMb());
    const figures: PhaseFigures = {
      ms,
      cpuS: (used.user + used.system) / 1e6,
      bytesOut,
      files,
      baselineRssMb,
      peakRssMb,
      maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await handle.close();
  }
}

if (values.phase) {
  const phase = values.phase as Phase;
  if (!PHASES.includes(phase)) throw new Error(`--phase must be one of ${PHASES.join(', ')}`);
  await runPhase(phase, values.database!, values.blobs!, values.snapshot!, values.out!);
} else {
  await runBench(Number(values.studies));
}

function log(message: string) {
  const load = os.loadavg()[0]!.toFixed(2);
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${load}] ${message}\n`);
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function bytesUnder(dir: string): number {
  return filesUnder(dir).reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

/** Reads every file under `dir` once and drops the bytes: puts the step's input in the page cache. */
function warm(dir: string): void {
  const buffer = Buffer.allocUnsafe(8 << 20);
  for (const file of filesUnder(dir)) {
    const fd = fs.openSync(file, 'r');
    try {
      while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Flushes dirty pages of earlier steps so they do not throttle the next one's writes. */
function flush(): void {
  execFileSync('sync');
}

function nodusStep(phase: Phase, args: { database: string; blobs: string; snapshot: string; out: string }) {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(here, 'export.ts'),
      '--phase',
      phase,
      '--database',
      args.database,
      '--blobs',
      args.blobs,
      '--snapshot',
      args.snapshot,
      '--out',
      args.out,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (run.status !== 0) throw new Error(`nodus ${phase} step exited with ${run.status ?? run.signal}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as PhaseFigures;
}

/** A shell pipeline: wall time, and CPU seconds and peak RSS summed over its timed commands. */
function referenceStep(commands: string[], out: string, cwd: string) {
  const timings = commands.map((_, n) => path.join(path.dirname(out), `.time-${n}`));
  const line = commands
    .map((command, n) => `/usr/bin/time -f '%U %S %M' -o ${timings[n]} ${command}`)
    .join(' | ');
  const started = performance.now();
  execFileSync('bash', ['-c', `set -o pipefail; ${line} > ${out}`], { cwd, stdio: 'inherit' });
  const ms = performance.now() - started;
  let cpuS = 0;
  let peakRssMb = 0;
  for (const file of timings) {
    const [user, system, maxKb] = fs.readFileSync(file, 'utf8').trim().split('\n').pop()!.split(' ');
    cpuS += Number(user) + Number(system);
    peakRssMb += (Number(maxKb) * 1024) / MB;
    fs.rmSync(file);
  }
  return { ms, cpuS, peakRssMb, bytesOut: fs.statSync(out).size };
}

/**
 * The bytes a tar would archive: the export with every .nii.gz as its uncompressed .nii (the CT linked to
 * its stored blob, which is exactly what ct.nii.gz compresses), the tables and manifest as they are.
 */
async function writeReferenceFolder(
  deps: Pick<SnapshotDeps, 'db' | 'blobs'>,
  blobDir: string,
  snapshotId: string,
  exportDir: string,
  refDir: string,
) {
  const { data } = await loadFrozenSnapshot(deps, snapshotId);
  const blobOf = new Map(
    data.studies.map((s) => [`${studyFolder(s)}/ct.nii.gz`, path.join(blobDir, s.source.volumeBlobKey)]),
  );
  for (const file of filesUnder(exportDir)) {
    const relative = path.relative(exportDir, file);
    const target = path.join(refDir, relative.replace(/\.nii\.gz$/, '.nii'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const blob = blobOf.get(relative.split(path.sep).join('/'));
    if (blob) {
      try {
        fs.linkSync(blob, target);
      } catch {
        fs.copyFileSync(blob, target);
      }
    } else if (relative.endsWith('.nii.gz')) {
      fs.writeFileSync(target, gunzipSync(fs.readFileSync(file)));
    } else {
      fs.copyFileSync(file, target);
    }
  }
}

interface Row {
  step: string;
  inBytes: number;
  outBytes: number;
  ms: number;
  cpuS: number;
  rss: string;
}

async function runBench(studyCount: number) {
  if (!Number.isInteger(studyCount) || studyCount < 1)
    throw new Error('--studies must be a positive integer');
  const load = os.loadavg().map((l) => l.toFixed(2));
  log(`load average ${load.join(' ')} on ${os.cpus().length} cores`);

  const bench = await loadBenchVolume(
    path.join(sampleDataDir(process.env.NODUS_SAMPLE_DIR), 'lidc', 'LIDC-IDRI-0001'),
  );
  // Per study: the stored CT and a label map of the same grid (both int16 NIfTI-1), uncompressed.
  const cohortBytes = studyCount * 2 * bench.nifti.byteLength;
  const tmp = os.tmpdir();
  const stat = fs.statfsSync(tmp);
  const free = stat.bavail * stat.bsize;
  // Outputs are deleted once measured, so the most on disk at once is the blobs (1/2 of the cohort), the
  // uncompressed label maps (1/2), the export (< 1/2) and the largest output, the plain tar (1).
  if (free < 3 * cohortBytes) {
    throw new Error(
      `${tmp} has ${(free / 1e9).toFixed(1)} GB free; ${studyCount} studies need about ${((3 * cohortBytes) / 1e9).toFixed(1)} GB ` +
        `(3 x their ${(cohortBytes / 1e9).toFixed(1)} GB uncompressed). Use fewer --studies or set TMPDIR.`,
    );
  }

  const work = fs.mkdtempSync(path.join(tmp, 'nodus-bench-export-'));
  const dirs = {
    blobs: path.join(work, 'blobs'),
    export: path.join(work, 'export'),
    ref: path.join(work, 'reference'),
    out: path.join(work, 'out'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir);
  const databaseName = `nodus_bench_export_${Date.now()}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  await admin`create database ${admin(databaseName)}`;
  const handle = openDatabase(databaseUrl(databaseName), { max: 4 });
  const blobs = new FilesystemBlobStore(dirs.blobs);
  const keep = Boolean(process.env.BENCH_KEEP);
  try {
    await runMigrations(handle);
    log(`seeding ${studyCount} studies (${bench.source}, ${bench.volume.dimensions.join('x')}) in ${work}`);
    const started = performance.now();
    const seeded = await seedExportCohort(handle.db, blobs, bench, {
      studies: studyCount,
      onStudy: (done) => {
        if (done % 10 === 0) log(`  seeded ${done}/${studyCount}`);
      },
    });
    const seedS = (performance.now() - started) / 1000;
    const snapshot = await createSnapshotRow(handle.db, seeded.cohortId, seeded.userId);
    await handle.sql`checkpoint`;
    const step = { database: databaseName, blobs: dirs.blobs, snapshot: snapshot.id };

    const rows: Row[] = [];
    flush();
    warm(dirs.blobs);
    log('nodus freeze');
    const freeze = nodusStep('freeze', { ...step, out: '' });

    flush();
    warm(dirs.blobs);
    log('nodus export to a folder');
    const exported = nodusStep('export', { ...step, out: dirs.export });

    log('writing the uncompressed reference folder (untimed)');
    await writeReferenceFolder({ db: handle.db, blobs }, dirs.blobs, snapshot.id, dirs.export, dirs.ref);
    const inBytes = bytesUnder(dirs.ref);
    const exportBytes = bytesUnder(dirs.export);
    const ctBytes = bench.nifti.byteLength;
    const fileCount = filesUnder(dirs.ref).length;
    fs.rmSync(dirs.export, { recursive: true, force: true });

    const nodusRss = (f: PhaseFigures) =>
      `${Math.round(f.peakRssMb)} (base ${Math.round(f.baselineRssMb)}, maxrss ${Math.round(f.maxRssMb)})`;
    rows.push({
      step: 'nodus freeze: capture, make + SHA-256 every file, no write',
      inBytes,
      outBytes: freeze.bytesOut,
      ms: freeze.ms,
      cpuS: freeze.cpuS,
      rss: nodusRss(freeze),
    });
    rows.push({
      step: 'nodus export: writeExportFolder (make, verify, write)',
      inBytes,
      outBytes: exportBytes,
      ms: exported.ms,
      cpuS: exported.cpuS,
      rss: nodusRss(exported),
    });

    flush();
    warm(dirs.blobs);
    log('nodus archive (tarArchive, the API download) to a file');
    const apiTar = path.join(dirs.out, 'api.tar');
    const archive = nodusStep('archive', { ...step, out: apiTar });
    fs.rmSync(apiTar);
    rows.push({
      step: 'nodus archive: tarArchive -> file (API download)',
      inBytes,
      outBytes: archive.bytesOut,
      ms: archive.ms,
      cpuS: archive.cpuS,
      rss: nodusRss(archive),
    });

    const references: { step: string; commands: string[]; out: string }[] = [
      { step: 'tar -cf - . | gzip -6', commands: ['tar -cf - .', 'gzip -6'], out: 'ref.tar.gz' },
      {
        step: `tar -cf - . | pigz -6 -p ${os.cpus().length}`,
        commands: ['tar -cf - .', `pigz -6 -p ${os.cpus().length}`],
        out: 'ref-pigz.tar.gz',
      },
      // Last: it writes the most, and would push the other steps' input out of the page cache.
      { step: 'tar -cf - . > out.tar (disk only)', commands: ['tar -cf - .'], out: 'ref.tar' },
    ];
    for (const reference of references) {
      if (reference.commands.some((c) => c.startsWith('pigz')) && !hasCommand('pigz')) continue;
      flush();
      warm(dirs.ref);
      log(reference.step);
      const out = path.join(dirs.out, reference.out);
      const figures = referenceStep(reference.commands, out, dirs.ref);
      fs.rmSync(out);
      rows.push({
        step: reference.step,
        inBytes,
        outBytes: figures.bytesOut,
        ms: figures.ms,
        cpuS: figures.cpuS,
        rss: String(Math.round(figures.peakRssMb)),
      });
    }
    const endLoad = os.loadavg().map((l) => l.toFixed(2));

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nexport benchmark: ${studyCount} studies, ${fileCount} files, ${(inBytes / MB).toFixed(0)} MB uncompressed ` +
        `(per study: CT ${(ctBytes / MB).toFixed(1)} MB + label map ${(ctBytes / MB).toFixed(1)} MB, ${bench.source}, ` +
        `${bench.volume.dimensions.join('x')} int16; 2 masked nodules, 2 labels; tables ` +
        `${((inBytes - studyCount * 2 * ctBytes) / MB).toFixed(2)} MB)`,
    );
    console.log(
      `machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ` +
        `load average ${load.join(' ')} at start, ${endLoad.join(' ')} at end; seeding took ${seedS.toFixed(0)} s`,
    );
    console.log(
      'input from the page cache (read once untimed before each step), reference outputs not fsynced (nodus export fsyncs each file); MB = 10^6 bytes; ' +
        'MB/s = uncompressed input MB / wall s',
    );
    console.log(
      '\n| step | in MB | out MB | ratio in/out | wall s | in MB/s | CPU s | s per study | peak RSS MB |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const seconds = row.ms / 1000;
      console.log(
        `| ${row.step} | ${(row.inBytes / MB).toFixed(0)} | ${(row.outBytes / MB).toFixed(0)} | ` +
          `${(row.inBytes / row.outBytes).toFixed(2)} | ${seconds.toFixed(1)} | ${(row.inBytes / MB / seconds).toFixed(1)} | ` +
          `${row.cpuS.toFixed(1)} | ${(seconds / studyCount).toFixed(2)} | ${row.rss} |`,
      );
    }
    if (keep) log(`kept database ${databaseName} and ${work}`);
  } finally {
    await handle.close();
    if (!keep) {
      await admin`drop database if exists ${admin(databaseName)} with (force)`;
      fs.rmSync(work, { recursive: true, force: true });
    }
    await admin.end();
  }
}

function hasCommand(name: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
