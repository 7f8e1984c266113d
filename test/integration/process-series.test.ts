import { findInstanceBlobKey } from '../../src/db/repositories/instances.js';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { openDatabase } from '../../src/db/client.js';
import { auditEvents } from '../../src/db/schema/index.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { seriesWorkflows, type SeriesWorkflows } from '../../src/temporal/series-workflows.js';
import { createSeriesWorker, type SeriesWorkerHandle } from '../../src/temporal/worker.js';
import { syntheticCtInstance, testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger, uniqueTaskQueue } from './services.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

describe('processSeries through the API, on real PostgreSQL and Temporal', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let worker: SeriesWorkerHandle;
  let workflows: SeriesWorkflows;
  let app: ReturnType<typeof createApp>;
  let ingest: IngestDeps;
  let blobDir: string;

  beforeAll(async () => {
    services = await connectTestServices();
    const taskQueue = uniqueTaskQueue('process-series');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-blobs-'));
    const blobs = new FilesystemBlobStore(blobDir);
    worker = await createSeriesWorker({
      address: services.temporalAddress,
      namespace: 'default',
      taskQueue,
      deps: { db: services.database.db, blobs },
    });
    void worker.run();
    workflows = seriesWorkflows(services.client, { taskQueue, quietPeriodMs: 500 });
    ingest = { db: services.database.db, blobs, notifySeries: () => Promise.resolve() };
    app = createApp({
      db: services.database.db,
      seriesWorkflows: workflows,
      ingest,
      logger: testLogger,
      readiness: {
        postgres: async () => {
          await services.database.sql`select 1`;
        },
        temporal: async () => {
          await services.connection.workflowService.getSystemInfo({});
        },
      },
    });
  });

  afterAll(async () => {
    await worker?.shutdown();
    await services?.close();
    await fs.rm(blobDir, { recursive: true, force: true });
  });

  /** A synthetic axial series: `count` slices 5 mm apart (30 slices cover 150 mm, enough for the quality gate). */
  async function storeSeries(count: number) {
    const study = testUid();
    const seriesUid = testUid();
    for (let i = 0; i < count; i += 1) {
      const bytes = syntheticCtInstance({
        studyInstanceUid: study,
        seriesInstanceUid: seriesUid,
        sopInstanceUid: testUid(),
        instanceNumber: i + 1,
        z: i * 5,
      });
      await storeInstance(ingest, bytes, 'test');
    }
    return seriesUid;
  }

  it('starts processSeries through the API and sees it complete', async () => {
    const seriesUid = await storeSeries(30);

    const before = await app.request(`/api/series/${seriesUid}`);
    expect(await before.json()).toMatchObject({ status: 'receiving', instanceCount: 30 });

    const started = await app.request(`/api/series/${seriesUid}/process`, { method: 'POST' });
    expect(started.status).toBe(202);
    const { workflowId } = (await started.json()) as { workflowId: string };
    expect(workflowId).toBe(`series:${seriesUid}`);

    // A second start joins the running workflow instead of starting another.
    const again = await app.request(`/api/series/${seriesUid}/process`, { method: 'POST' });
    expect(again.status).toBe(202);

    const result = await workflows.result(seriesUid);
    expect(result).toMatchObject({ seriesInstanceUid: seriesUid, status: 'done', instanceCount: 30 });
    expect(result.volumeKey).toMatch(new RegExp(`^volumes/${seriesUid}/[0-9a-f]{64}\\.nii$`));
    expect(result.quality?.map((issue) => issue.code)).toEqual(['incomplete-coverage']);

    const after = await app.request(`/api/series/${seriesUid}`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({
      seriesInstanceUid: seriesUid,
      status: 'done',
      instanceCount: 30,
      volume: {
        dimensions: [8, 8, 30],
        spacing: [0.7, 0.7, 5],
        origin: [-100, -100, 0],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      },
    });

    const events = await services.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, seriesUid), eq(auditEvents.action, 'series.processed')));
    expect(events).toHaveLength(1);
  });

  it('answers 404 with the error envelope for an unknown series', async () => {
    const response = await app.request(`/api/series/${testUid()}/process`, { method: 'POST' });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('SERIES_NOT_FOUND');
    expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('ends a workflow for a series with no stored instance as failed with a typed reason', async () => {
    const seriesUid = testUid();
    await workflows.start(seriesUid);
    const result = await workflows.result(seriesUid);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SERIES_NOT_FOUND');
  });

  it('signal-with-start: instances arriving during the quiet period join the same run', async () => {
    const study = testUid();
    const seriesUid = testUid();
    const signalling: IngestDeps = { ...ingest, notifySeries: (s, sop) => workflows.instanceStored(s, sop) };
    for (let i = 0; i < 4; i += 1) {
      await storeInstance(
        signalling,
        syntheticCtInstance({
          studyInstanceUid: study,
          seriesInstanceUid: seriesUid,
          sopInstanceUid: testUid(),
        }),
        'test',
      );
    }
    const result = await workflows.result(seriesUid);
    // Four slices at one position: stored and processed, then rejected by the quality gate with the reasons.
    expect(result).toMatchObject({ status: 'rejected', instanceCount: 4 });
    expect(result.quality?.map((issue) => issue.code)).toEqual(
      expect.arrayContaining(['too-few-slices', 'duplicate-positions']),
    );
    const handle = services.client.workflow.getHandle(`series:${seriesUid}`);
    expect(await handle.query('progress')).toEqual({ stage: 'finished', instancesSignalled: 4 });
  });

  it('stores a repeated instance once and keeps a same-UID instance with other content aside', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const original = syntheticCtInstance(ids);
    expect((await storeInstance(ingest, original, 'test')).outcome).toBe('stored');
    expect((await storeInstance(ingest, original, 'test')).outcome).toBe('duplicate');
    const altered = syntheticCtInstance({ ...ids, pixelSeed: 7 });
    const conflict = await storeInstance(ingest, altered, 'test');
    expect(conflict.outcome).toBe('conflict');
    if (conflict.outcome !== 'conflict') return;
    expect(await ingest.blobs.get(conflict.conflictBlobKey)).toEqual(Buffer.from(altered));
    const stored = await ingest.blobs.get(
      (await findInstanceBlobKey(services.database.db, ids.sopInstanceUid))!,
    );
    expect(Buffer.from(stored)).toEqual(Buffer.from(original));
    const series = await app.request(`/api/series/${ids.seriesInstanceUid}`);
    expect(await series.json()).toMatchObject({ instanceCount: 1 });
  });

  it('refuses a truncated instance with the reason and registers nothing', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const whole = syntheticCtInstance(ids);
    const truncated = storeInstance(ingest, whole.subarray(0, whole.length - 40), 'test');
    await expect(truncated).rejects.toMatchObject({ code: 'INVALID_DICOM' });
    await expect(truncated).rejects.toThrow(/truncated/);
    expect((await app.request(`/api/series/${ids.seriesInstanceUid}`)).status).toBe(404);
  });

  it('reports ready when PostgreSQL and Temporal answer, and 503 naming the one that does not', async () => {
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, temporal: { ok: true } },
    });

    const unreachable = openDatabase('postgres://nobody@127.0.0.1:1/none', { max: 1 });
    const broken = createApp({
      db: unreachable.db,
      seriesWorkflows: workflows,
      ingest: { ...ingest, db: unreachable.db },
      logger: testLogger,
      readiness: {
        postgres: async () => {
          await unreachable.sql`select 1`;
        },
        temporal: async () => {
          await services.connection.workflowService.getSystemInfo({});
        },
      },
    });
    const notReady = await broken.request('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      status: 'unavailable',
      checks: { postgres: { ok: false }, temporal: { ok: true } },
    });
    await unreachable.close();
  });
});
