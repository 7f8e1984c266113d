// DICOMweb retrieve speed, nodus against Orthanc's DICOMweb plugin on the same series in the same run (goal:
// >= 2x Orthanc's throughput, series metadata < 100 ms). The series: 261 slices derived from LIDC-IDRI-0001
// (bench/long-series.ts). nodus's API runs in a process of its own on a fresh database; Orthanc (Debian's,
// with its DICOMweb plugin) holds the same files. Measured, alternating nodus and Orthanc:
//   - series metadata (261 data sets): first request, then the median of 5;
//   - the first frame (median of 15 requests);
//   - all 261 frames, 6 requests at a time as a browser does (median of 3 passes): frames/s and MB/s.
// Frames are asked as OHIF asks (multipart/related; type=application/octet-stream; transfer-syntax=*).
// Usage: npm run bench:dicomweb
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createUser, issueToken } from '../src/db/repositories/users.js';
import { listFiles } from '../src/dicom/part10-files.js';
import { readInstanceHeader } from '../src/dicom/read-instance.js';
import { sampleDataDir } from '../src/main/demo.js';
import { storeInstance } from '../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.js';
import { startOrthanc } from '../test/fixtures/orthanc.js';
import { writeLongSeries } from './long-series.js';

const SLICES = 261;
const FRAMES_ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
const CONCURRENCY = 6;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const here = path.dirname(new URL(import.meta.url).pathname);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-bench-dicomweb-'));
const seriesDir = path.join(work, 'series');
await writeLongSeries(
  path.join(sampleDataDir(process.env.NODUS_SAMPLE_DIR), 'lidc/LIDC-IDRI-0001'),
  seriesDir,
  SLICES,
);
const files = (await listFiles([seriesDir])).map((file) => fs.readFileSync(file));
const header = readInstanceHeader(files[0]!);
const sops = files
  .map((file) => readInstanceHeader(file))
  .sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0))
  .map((h) => h.sopInstanceUid);

// nodus: a fresh database, the series stored through the ingest path, the API in its own process.
const databaseName = `nodus_bench_dicomweb_${Date.now()}`;
const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
await admin`create database ${admin(databaseName)}`;
const url = new URL(SERVER_URL);
url.pathname = `/${databaseName}`;
const database = openDatabase(url.toString(), { max: 4 });
await runMigrations(database);
const blobDir = path.join(work, 'blobs');
const ingest = {
  db: database.db,
  blobs: new FilesystemBlobStore(blobDir),
  notifySeries: () => Promise.resolve(),
};
for (const file of files) await storeInstance(ingest, file, 'bench');
const user = await createUser(database.db, {
  email: 'bench@example.org',
  displayName: 'Bench^Reader',
  role: 'radiologist',
  institutionCodes: ['UNKNOWN'],
});
const { token } = await issueToken(database.db, user.id, { label: 'bench' });
await database.close();
const api = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'review-api-server.ts')], {
  env: { ...process.env, DATABASE_URL: url.toString(), BENCH_BLOB_DIR: blobDir },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const apiPort = await new Promise<number>((resolve) => {
  api.stdout.on('data', (chunk: Buffer) => {
    const match = /listening (\d+)/.exec(chunk.toString());
    if (match) resolve(Number(match[1]));
  });
});

// Orthanc with the same files.
const orthanc = await startOrthanc(work);
for (const file of files) await orthanc.rest('POST', '/instances', file);

const targets = [
  {
    name: 'nodus',
    base: `http://127.0.0.1:${apiPort}/dicomweb`,
    headers: { authorization: `Bearer ${token}` },
  },
  { name: 'Orthanc', base: `${orthanc.url}/dicom-web`, headers: {} as Record<string, string> },
];
const seriesUrl = (base: string) =>
  `${base}/studies/${header.studyInstanceUid}/series/${header.seriesInstanceUid}`;

async function timed(url: string, headers: Record<string, string>): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  const response = await fetch(url, { headers });
  const body = await response.arrayBuffer();
  if (response.status !== 200)
    throw new Error(`${url}: ${response.status} ${Buffer.from(body).toString().slice(0, 200)}`);
  return { ms: performance.now() - start, bytes: body.byteLength };
}

async function allFrames(target: (typeof targets)[number]): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  let bytes = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < sops.length) {
        const sop = sops[next++]!;
        const result = await timed(`${seriesUrl(target.base)}/instances/${sop}/frames/1`, {
          ...target.headers,
          accept: FRAMES_ACCEPT,
        });
        bytes += result.bytes;
      }
    }),
  );
  return { ms: performance.now() - start, bytes };
}

const results = new Map<
  string,
  {
    firstMetadata: number;
    metadata: number[];
    frame: number[];
    all: { ms: number; bytes: number }[];
    metadataBytes: number;
  }
>();
for (const target of targets)
  results.set(target.name, { firstMetadata: 0, metadata: [], frame: [], all: [], metadataBytes: 0 });
for (const target of targets) {
  const first = await timed(`${seriesUrl(target.base)}/metadata`, {
    ...target.headers,
    accept: 'application/dicom+json',
  });
  results.get(target.name)!.firstMetadata = first.ms;
  results.get(target.name)!.metadataBytes = first.bytes;
}
for (let round = 0; round < 5; round += 1) {
  for (const target of targets) {
    const r = results.get(target.name)!;
    r.metadata.push(
      (
        await timed(`${seriesUrl(target.base)}/metadata`, {
          ...target.headers,
          accept: 'application/dicom+json',
        })
      ).ms,
    );
    for (let n = 0; n < 3; n += 1) {
      r.frame.push(
        (
          await timed(`${seriesUrl(target.base)}/instances/${sops[0]}/frames/1`, {
            ...target.headers,
            accept: FRAMES_ACCEPT,
          })
        ).ms,
      );
    }
  }
}
for (let round = 0; round < 3; round += 1) {
  for (const target of targets) results.get(target.name)!.all.push(await allFrames(target));
}

console.log(
  `DICOMweb, ${SLICES}-slice series (512x512, Explicit VR LE), ${os.cpus().length} cores, nodus vs Orthanc ${await orthancVersion()}`,
);
console.log(
  'server | metadata first ms | metadata median ms | metadata MB | first frame median ms | all frames s (median of 3) | frames/s | MB/s',
);
const rows: Record<string, { framesPerSecond: number; metadata: number; frame: number }> = {};
for (const target of targets) {
  const r = results.get(target.name)!;
  const all = median(r.all.map((a) => a.ms));
  const bytes = r.all[0]!.bytes;
  rows[target.name] = {
    framesPerSecond: SLICES / (all / 1000),
    metadata: median(r.metadata),
    frame: median(r.frame),
  };
  console.log(
    [
      target.name,
      r.firstMetadata.toFixed(0),
      median(r.metadata).toFixed(1),
      (r.metadataBytes / 1e6).toFixed(2),
      median(r.frame).toFixed(1),
      (all / 1000).toFixed(2),
      (SLICES / (all / 1000)).toFixed(0),
      (bytes / 1e6 / (all / 1000)).toFixed(0),
    ].join(' | '),
  );
}
const n = rows.nodus!;
const o = rows.Orthanc!;
console.log(
  `nodus / Orthanc: all-frames throughput ${(n.framesPerSecond / o.framesPerSecond).toFixed(2)}x, ` +
    `metadata ${(o.metadata / n.metadata).toFixed(2)}x faster, first frame ${(o.frame / n.frame).toFixed(2)}x faster`,
);

async function orthancVersion(): Promise<string> {
  return (await orthanc.rest<{ Version: string }>('GET', '/system')).Version;
}

api.kill('SIGTERM');
await orthanc.stop();
await admin`drop database if exists ${admin(databaseName)} with (force)`;
await admin.end();
fs.rmSync(work, { recursive: true, force: true });
