// Time from the last instance received (storescu's last C-STORE answered) to findings stored, for a full
// series sent over one association to a running nodus (PostgreSQL at DATABASE_URL or 127.0.0.1:5432, the
// embedded Temporal dev server, the worker with the default detector). The series quiet period is part of
// that time and is printed with it. Needs DCMTK (storescu).
// Usage: npm run bench:latency [-- <series-folder>]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../src/config/env.js';
import { latestSeriesFindings } from '../src/db/repositories/findings.js';
import { readInstanceHeader } from '../src/dicom/read-instance.js';
import { startDicomScp } from '../src/ingest/dicom-scp.js';
import { benchCaller } from './bench-caller.js';
import { isPart10, listFiles } from '../src/dicom/part10-files.js';
import { createLogger } from '../src/logging/logger.js';
import { sampleDataDir } from '../src/main/demo.js';
import { openPlatform } from '../src/main/platform.js';
import { startWorker } from '../src/main/worker.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { dcmtk } from '../test/fixtures/dcmtk.js';

const QUIET_PERIOD_MS = 2000;
const folder =
  process.argv[2] ?? path.join(sampleDataDir(process.env.NODUS_SAMPLE_DIR), 'lidc', 'LIDC-IDRI-0001');
const files = (await listFiles([folder])).filter((file) => isPart10(fs.readFileSync(file)));
const seriesUid = readInstanceHeader(fs.readFileSync(files[0]!)).seriesInstanceUid;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-bench-latency-'));
const series = path.join(work, 'series');
fs.mkdirSync(series);
files.forEach((file, index) => fs.copyFileSync(file, path.join(series, `${index}.dcm`)));

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = postgres(server, { max: 1, onnotice: () => {} });
const database = `nodus_bench_latency_${Date.now()}`;
await admin`create database ${admin(database)}`;
const url = new URL(server);
url.pathname = `/${database}`;
const logger = createLogger('warn');
installTemporalRuntime(logger);
const config = loadConfig({
  DATABASE_URL: url.toString(),
  NODUS_DATA_DIR: path.join(work, 'data'),
  NODUS_LOG_LEVEL: 'warn',
  NODUS_SERIES_QUIET_PERIOD_MS: String(QUIET_PERIOD_MS),
});
const platform = await openPlatform(config, logger);
try {
  const worker = await startWorker(platform);
  const scp = await startDicomScp({
    aeTitle: 'NODUS',
    host: '127.0.0.1',
    port: 0,
    ingest: platform.ingest,
    logger,
    callers: await benchCaller(platform),
  });
  const sendStarted = performance.now();
  const sent = await dcmtk(
    'storescu',
    ['-aec', 'NODUS', '+sd', '127.0.0.1', String(scp.port), series],
    600_000,
  );
  if (sent.code !== 0) throw new Error(sent.output);
  const lastReceived = performance.now();
  let stored: Awaited<ReturnType<typeof latestSeriesFindings>>;
  while (!(stored = await latestSeriesFindings(platform.database.db, seriesUid))) {
    if (performance.now() - lastReceived > 300_000) throw new Error('no findings after 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const findingsStored = performance.now();
  console.log(`series latency: ${files.length} instances from ${folder}; ${os.cpus().length} cores`);
  console.log('stage | seconds');
  console.log(
    `storescu sends the series (1 association) | ${((lastReceived - sendStarted) / 1000).toFixed(2)}`,
  );
  console.log(
    `last instance received -> findings stored | ${((findingsStored - lastReceived) / 1000).toFixed(2)}`,
  );
  console.log(
    `  of which the quiet period (NODUS_SERIES_QUIET_PERIOD_MS) | ${(QUIET_PERIOD_MS / 1000).toFixed(2)}`,
  );
  console.log(`  inference run timings (ms) | ${JSON.stringify(stored.run.timings)}`);
  console.log(`findings | ${stored.findings.length}`);
  await scp.close();
  await worker.handle.shutdown();
} finally {
  await platform.close();
  await admin`drop database if exists ${admin(database)} with (force)`;
  await admin.end();
  fs.rmSync(work, { recursive: true, force: true });
}
