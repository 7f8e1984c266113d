// Ingest throughput over one association (storescu -> nodus C-STORE) and over STOW-RS (one request),
// durable before each response, with workflow signalling on; DCMTK's storescp (writes files only) is the
// reference in the same run. Needs PostgreSQL at DATABASE_URL or 127.0.0.1:5432 and DCMTK.
// Usage: npm run bench:ingest [-- <series-folder>]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../src/config/env.js';
import { startDicomScp } from '../src/ingest/dicom-scp.js';
import { benchCaller } from './bench-caller.js';
import { isPart10, listFiles } from '../src/dicom/part10-files.js';
import { createLogger } from '../src/logging/logger.js';
import { startApi } from '../src/main/api.js';
import { sampleDataDir } from '../src/main/demo.js';
import { openPlatform, type Platform } from '../src/main/platform.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { DCMTK_ENV, dcmtk } from '../test/fixtures/dcmtk.js';
import { stowRequest } from '../test/fixtures/stow-request.js';

const folder =
  process.argv[2] ?? path.join(sampleDataDir(process.env.NODUS_SAMPLE_DIR), 'lidc', 'LIDC-IDRI-0001');
const files = (await listFiles([folder])).filter((file) => isPart10(fs.readFileSync(file)));
const megabytes = files.reduce((n, file) => n + fs.statSync(file).size, 0) / 2 ** 20;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-bench-ingest-'));
const series = path.join(work, 'series');
fs.mkdirSync(series);
files.forEach((file, index) => fs.copyFileSync(file, path.join(series, `${index}.dcm`)));

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = postgres(server, { max: 1, onnotice: () => {} });
const results: { route: string; seconds: number }[] = [];

async function timeRun(route: string, run: () => Promise<void>) {
  const started = performance.now();
  await run();
  results.push({ route, seconds: (performance.now() - started) / 1000 });
}

/** The administrator's token of the STOW-RS run (STOW-RS needs a bearer token). */
const BENCH_TOKEN = `bench-${randomBytes(24).toString('hex')}`;

/** A fresh database on the server and a platform on it (embedded Temporal dev server: signals are real). */
async function withPlatform(label: string, run: (platform: Platform) => Promise<void>) {
  const database = `nodus_bench_${label}_${Date.now()}`;
  await admin`create database ${admin(database)}`;
  const url = new URL(server);
  url.pathname = `/${database}`;
  const logger = createLogger('warn');
  installTemporalRuntime(logger);
  const config = loadConfig({
    DATABASE_URL: url.toString(),
    NODUS_DATA_DIR: path.join(work, `data-${label}`),
    NODUS_API_PORT: '0',
    NODUS_VIEWER_PORT: '0',
    NODUS_LOG_LEVEL: 'warn',
    NODUS_ADMIN_TOKEN: BENCH_TOKEN,
  });
  const platform = await openPlatform(config, logger);
  try {
    await run(platform);
  } finally {
    await platform.close();
    await admin`drop database if exists ${admin(database)} with (force)`;
  }
}

async function nodusRuns() {
  await withPlatform('cstore', async (platform) => {
    const logger = platform.logger;
    const scp = await startDicomScp({
      aeTitle: 'NODUS',
      host: '127.0.0.1',
      port: 0,
      ingest: platform.ingest,
      logger,
      callers: await benchCaller(platform),
    });
    await timeRun('nodus C-STORE (storescu, 1 association)', async () => {
      const sent = await dcmtk(
        'storescu',
        ['-aec', 'NODUS', '+sd', '127.0.0.1', String(scp.port), series],
        600_000,
      );
      if (sent.code !== 0) throw new Error(sent.output);
    });
    await scp.close();
  });
  await withPlatform('stow', async (platform) => {
    const api = await startApi(platform);
    const body = stowRequest(
      files.map((file) => fs.readFileSync(file)),
      { authorization: `Bearer ${BENCH_TOKEN}` },
    );
    await timeRun('nodus STOW-RS (1 request)', async () => {
      const response = await fetch(`${api.url}/dicomweb/studies`, body);
      if (response.status !== 200) throw new Error(`STOW-RS answered ${response.status}`);
    });
    await api.close();
  });
}

async function storescpRun() {
  const out = path.join(work, 'storescp');
  fs.mkdirSync(out);
  const port = 11000 + Math.floor(Math.random() * 1000);
  const child = spawn('storescp', ['-od', out, '+xa', '-aet', 'REF', String(port)], {
    stdio: 'ignore',
    env: DCMTK_ENV,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await timeRun('DCMTK storescp (files only, no database)', async () => {
    const sent = await dcmtk('storescu', ['-aec', 'REF', '+sd', '127.0.0.1', String(port), series], 600_000);
    if (sent.code !== 0) throw new Error(sent.output);
  });
  child.kill();
}

await storescpRun();
await nodusRuns();
await admin.end();
fs.rmSync(work, { recursive: true, force: true });

console.log(
  `ingest: ${files.length} instances, ${megabytes.toFixed(1)} MiB from ${folder}; ${os.cpus().length} cores`,
);
console.log('route | seconds | instances/s | MiB/s');
for (const { route, seconds } of results) {
  console.log(
    `${route} | ${seconds.toFixed(2)} | ${(files.length / seconds).toFixed(1)} | ${(megabytes / seconds).toFixed(1)}`,
  );
}
