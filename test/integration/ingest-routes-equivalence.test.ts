import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorized, seedTestAdminToken } from '../fixtures/authorized.js';
import { createApp } from '../../src/api/app.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { listSeriesInstanceBlobs } from '../../src/db/repositories/instances.js';
import { writeCtSeries } from '../../src/dicom/write-ct-series.js';
import { upsertApplicationEntity } from '../../src/db/repositories/application-entities.js';
import { startDicomScp } from '../../src/ingest/dicom-scp.js';
import { knownCallersIn } from '../../src/ingest/dimse/known-callers.js';
import type { IngestDeps } from '../../src/ingest/store-instance.js';
import { buildChestPhantom } from '../../src/phantom/chest-phantom.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { reconstructSeries } from '../../src/volume/reconstruct-series.js';
import { dcmtk } from '../fixtures/dcmtk.js';
import { stowRequest } from '../fixtures/stow-request.js';
import { connectTestServices, testLogger } from './services.js';

/**
 * The same series through both network routes, each into its own database and blob store, must give the
 * same voxels and geometry: the route must not change what is stored.
 */
describe('C-STORE (storescu) and STOW-RS give identical volumes', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let second: { handle: DatabaseHandle; drop: () => Promise<void> };
  let work: string;

  beforeAll(async () => {
    services = await connectTestServices();
    // A second database on the same server, so the two routes do not deduplicate each other.
    const url = new URL(services.databaseUrl);
    const name = `${url.pathname.slice(1)}_stow`;
    const adminUrl = new URL(url);
    adminUrl.pathname = '/postgres';
    const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
    await admin`create database ${admin(name)}`;
    url.pathname = `/${name}`;
    const handle = openDatabase(url.toString(), { max: 3 });
    await runMigrations(handle);
    second = {
      handle,
      drop: async () => {
        await handle.close();
        await admin`drop database if exists ${admin(name)} with (force)`;
        await admin.end();
      },
    };
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-routes-'));
  });

  afterAll(async () => {
    await second?.drop();
    await services?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  async function volumeOf(db: DatabaseHandle['db'], blobs: BlobStore, seriesInstanceUid: string) {
    const entries = await listSeriesInstanceBlobs(db, seriesInstanceUid);
    async function* instances() {
      for (const entry of entries)
        yield { source: entry.sopInstanceUid, bytes: await blobs.get(entry.blobKey) };
    }
    return reconstructSeries(instances());
  }

  it('for a synthetic chest series', async () => {
    const phantom = buildChestPhantom({ matrix: 96, pixelSpacingMm: 3.5, sliceSpacingMm: 5, lengthMm: 150 });
    const series = writeCtSeries({
      ...phantom,
      patientId: 'ROUTES-1',
      patientName: 'Routes^Test',
      seriesDescription: 'routes',
    });
    const folder = path.join(work, 'series');
    await fs.mkdir(folder);
    await Promise.all(series.files.map((bytes, k) => fs.writeFile(path.join(folder, `${k}.dcm`), bytes)));

    const noSignal = () => Promise.resolve();
    const dimse: IngestDeps = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(path.join(work, 'a')),
      notifySeries: noSignal,
    };
    const stow: IngestDeps = {
      db: second.handle.db,
      blobs: new FilesystemBlobStore(path.join(work, 'b')),
      notifySeries: noSignal,
    };

    await upsertApplicationEntity(services.database.db, {
      aeTitle: 'STORESCU',
      address: '127.0.0.1',
      institutionCode: 'ROUTES-SITE',
    });
    const scp = await startDicomScp({
      aeTitle: 'NODUS',
      host: '127.0.0.1',
      port: 0,
      ingest: dimse,
      logger: testLogger,
      callers: knownCallersIn(services.database.db, 0),
    });
    try {
      const sent = await dcmtk('storescu', ['-aec', 'NODUS', '+sd', '127.0.0.1', String(scp.port), folder]);
      expect(sent.code, sent.output).toBe(0);
    } finally {
      await scp.close();
    }
    const api = createApp({
      db: stow.db,
      ingest: stow,
      seriesWorkflows: {} as never,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    const app = authorized(api, await seedTestAdminToken(stow.db));
    const posted = await app.request('/dicomweb/studies', stowRequest(series.files));
    expect(posted.status).toBe(200);

    const [a, b] = await Promise.all([
      volumeOf(dimse.db, dimse.blobs, series.seriesInstanceUid),
      volumeOf(stow.db, stow.blobs, series.seriesInstanceUid),
    ]);
    expect(a.volume).toBeDefined();
    expect(a.volume!.dimensions).toEqual([96, 96, 30]);
    const { hu: huA, ...geometryA } = a.volume!;
    const { hu: huB, ...geometryB } = b.volume!;
    expect(geometryB).toEqual(geometryA);
    expect(Buffer.from(huB.buffer).equals(Buffer.from(huA.buffer))).toBe(true);
    expect(b.issues).toEqual(a.issues);
  });
});
