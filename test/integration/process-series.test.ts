import { findInstanceBlobKey } from '../../src/db/repositories/instances.js';
import { and, eq, sql } from 'drizzle-orm';
import { ensureInstitution } from '../../src/db/repositories/users.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorized, seedTestAdminToken } from '../fixtures/authorized.js';
import { decodeNifti1Volume } from '../../src/volume/nifti.js';
import { createApp } from '../../src/api/app.js';
import { openDatabase } from '../../src/db/client.js';
import {
  auditEvents,
  inferenceRuns,
  quarantinedInstances,
  series,
  shares,
  studyReviews,
} from '../../src/db/schema/index.js';
import { TransferSession } from '../../src/ingest/transfer-session.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { seriesWorkflows, type SeriesWorkflows } from '../../src/temporal/series-workflows.js';
import { createSeriesWorker, type SeriesWorkerHandle } from '../../src/temporal/worker.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import { phantomSeries } from '../fixtures/phantom-series.js';
import { syntheticCtInstance, testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger, uniqueTaskQueue } from './services.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

describe('processSeries through the API, on real PostgreSQL and Temporal', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let worker: SeriesWorkerHandle;
  let workflows: SeriesWorkflows;
  let app: ReturnType<typeof authorized>;
  let ingest: IngestDeps;
  let blobDir: string;

  beforeAll(async () => {
    services = await connectTestServices();
    const taskQueue = uniqueTaskQueue('process-series');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-blobs-'));
    const blobs = new FilesystemBlobStore(blobDir);
    // One worker does everything here (no inference task queue): the workflow then runs detection on its own.
    worker = await createSeriesWorker({
      address: services.temporalAddress,
      namespace: 'default',
      taskQueue,
      deps: { db: services.database.db, blobs, detector: await loadDetector(undefined) },
    });
    void worker.run();
    workflows = seriesWorkflows(services.client, { taskQueue, quietPeriodMs: 500 });
    ingest = { db: services.database.db, blobs, notifySeries: () => Promise.resolve() };
    const api = createApp({
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
    app = authorized(api, await seedTestAdminToken(services.database.db));
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

  /** The synthetic chest (body, lungs, vessels, nodules of known size) as a stored DICOM series. */
  async function storePhantomSeries() {
    const { phantom, files, seriesInstanceUid } = phantomSeries();
    for (const bytes of files) await storeInstance(ingest, bytes, 'test');
    return { seriesUid: seriesInstanceUid, phantom, slices: files.length };
  }

  it('starts processSeries through the API, reconstructs, detects and serves the findings', async () => {
    const { seriesUid, phantom, slices } = await storePhantomSeries();
    // The phantom's institution is made a consortium member: its screened study is offered to the hub.
    const db = services.database.db;
    const hub = `PROCESS-HUB-${Date.now().toString(36)}`;
    await ensureInstitution(db, hub);
    const [institution] = await db.execute<{ code: string }>(sql`
      select i.code from series se join studies st on st.id = se.study_id join patients p on p.id = st.patient_id
        join institutions i on i.id = p.institution_id where se.series_instance_uid = ${seriesUid}`);
    const member = institution!.code;
    const joined = await app.request(`/api/consortium/members/${encodeURIComponent(member)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hub, secondReadHours: 24 }),
    });
    expect(joined.status).toBe(200);

    const before = await app.request(`/api/series/${seriesUid}`);
    expect(await before.json()).toMatchObject({ status: 'receiving', instanceCount: slices });
    const none = await app.request(`/api/series/${seriesUid}/findings`);
    expect(await none.json()).toMatchObject({ run: null, findings: [] });

    const started = await app.request(`/api/series/${seriesUid}/process`, { method: 'POST' });
    expect(started.status).toBe(202);
    const { workflowId } = (await started.json()) as { workflowId: string };
    expect(workflowId).toBe(`series:${seriesUid}`);

    // A second start joins the running workflow instead of starting another.
    const again = await app.request(`/api/series/${seriesUid}/process`, { method: 'POST' });
    expect(again.status).toBe(202);

    const result = await workflows.result(seriesUid);
    expect(result).toMatchObject({ seriesInstanceUid: seriesUid, status: 'done', instanceCount: slices });
    expect(result.volumeKey).toMatch(new RegExp(`^volumes/${seriesUid}/[0-9a-f]{64}\\.nii$`));
    expect(result.detection?.findings).toBeGreaterThan(0);

    const after = await app.request(`/api/series/${seriesUid}`);
    expect(await after.json()).toMatchObject({
      seriesInstanceUid: seriesUid,
      status: 'done',
      instanceCount: slices,
      volume: {
        dimensions: phantom.dimensions,
        spacing: [3.5, 3.5, 5],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      },
    });

    const response = await app.request(`/api/series/${seriesUid}/findings`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      run: { id: string; model: { id: string; sha256: string } };
      findings: { centreLps: number[]; meanDiameterMm: number; score: number; maskBlobKey: string }[];
    };
    expect(body.run.id).toBe(result.detection?.runId);
    // The run records the detector that ran (the default, nodus-detector-2).
    expect(body.run.model.id).toBe('nodus-detector-2');
    expect(body.findings).toHaveLength(result.detection!.findings);
    // Every phantom nodule of 8 mm or more (known centre and size) has a finding centred within its radius.
    for (const nodule of phantom.nodules.filter((n) => n.diameterMm >= 8)) {
      const hit = body.findings.some(
        (f) => Math.hypot(...f.centreLps.map((v, a) => v - nodule.centreLps[a]!)) < nodule.diameterMm / 2,
      );
      expect(hit, `${nodule.type} ${nodule.diameterMm} mm at ${nodule.centreLps.join(', ')}`).toBe(true);
    }
    // Every finding is ranked by score, measured, and has its mask (a NIfTI-1 file) in the blob store.
    expect(body.findings.map((f) => f.score)).toEqual(
      [...body.findings.map((f) => f.score)].sort((x, y) => y - x),
    );
    for (const finding of body.findings) {
      expect(finding.meanDiameterMm).toBeGreaterThan(0);
      expect(Buffer.from(await ingest.blobs.get(finding.maskBlobKey)).readInt32LE(0)).toBe(348);
    }

    const events = await services.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, seriesUid), eq(auditEvents.action, 'series.processed')));
    expect(events).toHaveLength(1);

    // The study is on the worklist with its AI Lung-RADS category, its nodules, and pixels to view.
    // By the phantom's truth the study is 4A (solid 14 mm: 8 to < 15 mm; part-solid 16 mm with a 7 mm solid
    // core). Its pixels are 3.5 mm, so one pixel of measurement puts the 14 mm nodule at >= 15 mm: 4B.
    expect(result.lungRadsCategory).toMatch(/^4[AB]$/);
    const [own] = await services.database.db
      .select({ studyId: series.studyId, seriesId: series.id })
      .from(series)
      .where(eq(series.seriesInstanceUid, seriesUid));
    const detail = (await (await app.request(`/api/studies/${own!.studyId}`)).json()) as {
      review: { status: string; aiCategory: string };
      nodules: { noduleId: string; hasMask: boolean }[];
    };
    expect(detail.review).toMatchObject({ status: 'ready', aiCategory: result.lungRadsCategory });
    expect(detail.nodules).toHaveLength(result.detection!.findings);
    const images = `/api/studies/${own!.studyId}/series/${own!.seriesId}`;
    const png = await app.request(`${images}/slices/10?window=lung`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer()).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const stored = decodeNifti1Volume(await ingest.blobs.get(result.volumeKey!), {
      spacingMm: [3.5, 3.5, 5],
      originLps: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    });
    const [nx, ny] = stored.dimensions;
    const slabResponse = await app.request(`${images}/slab?first=10&count=2`);
    expect(slabResponse.headers.get('x-volume-dimensions')).toBe(stored.dimensions.join(','));
    const slab = new Int16Array(await slabResponse.arrayBuffer());
    expect(slab).toEqual(stored.hu.slice(10 * nx * ny, 12 * nx * ny));
    expect((await app.request(`${images}/slab?first=${stored.dimensions[2]}&count=1`)).status).toBe(404);
    const withMask = detail.nodules.find((n) => n.hasMask);
    if (withMask) {
      const mask = await app.request(`/api/studies/${own!.studyId}/nodules/${withMask.noduleId}/mask`);
      expect(Buffer.from(await mask.arrayBuffer()).readInt32LE(0)).toBe(348);
    }

    // Processing again reconstructs the same volume and runs the same model: nothing new is stored.
    await workflows.start(seriesUid);
    const rerun = await workflows.result(seriesUid);
    expect(rerun.detection).toEqual(result.detection);
    const runs = await services.database.db
      .select()
      .from(inferenceRuns)
      .where(eq(inferenceRuns.id, body.run.id));
    expect(runs).toHaveLength(1);
    const again2 = (await (await app.request(`/api/series/${seriesUid}/findings`)).json()) as typeof body;
    expect(again2.findings).toEqual(body.findings);

    // Offered once (the rerun found the offer), to the hub, with its timers running in Temporal.
    const offers = await db.select().from(shares).where(eq(shares.studyId, own!.studyId));
    expect(offers).toHaveLength(1);
    expect(offers[0]).toMatchObject({ audience: 'institution', offeredByConsortium: true });
    expect(offers[0]!.secondReadDueAt!.getTime() - offers[0]!.createdAt.getTime()).toBeCloseTo(
      24 * 3_600_000,
      -4,
    );
    const timers = await services.client.workflow.getHandle(`share:${offers[0]!.id}`).describe();
    expect(timers.status.name).toBe('RUNNING');
    await services.client.workflow.getHandle(`share:${offers[0]!.id}`).terminate('test over');
    const left = await app.request(`/api/consortium/members/${encodeURIComponent(member)}`, {
      method: 'DELETE',
    });
    expect(left.status).toBe(204);
  });

  it('fails a series whose volume breaks the model contract, and shows the reason', async () => {
    const seriesUid = await storeSeries(30); // 8 x 8 pixel slices: far below the detector's input contract
    await workflows.start(seriesUid);
    const result = await workflows.result(seriesUid);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('MODEL_CONTRACT_VIOLATED');
    const shown = (await (await app.request(`/api/series/${seriesUid}`)).json()) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(shown.status).toBe('failed');
    expect(shown.error.code).toBe('MODEL_CONTRACT_VIOLATED');
    expect(shown.error.message).toMatch(/too small/);
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
    expect(conflict).toMatchObject({ outcome: 'conflict', keptAside: true });
    const [keptAside] = await services.database.db
      .select()
      .from(quarantinedInstances)
      .where(eq(quarantinedInstances.sopInstanceUid, ids.sopInstanceUid));
    expect(keptAside).toMatchObject({ reason: 'conflict', source: 'test' });
    expect(Buffer.from(await ingest.blobs.get(keptAside!.blobKey))).toEqual(Buffer.from(altered));
    // The same conflicting content again is not kept twice.
    expect(await storeInstance(ingest, altered, 'test')).toMatchObject({
      outcome: 'conflict',
      keptAside: true,
    });
    expect(
      await services.database.db
        .select()
        .from(quarantinedInstances)
        .where(eq(quarantinedInstances.sopInstanceUid, ids.sopInstanceUid)),
    ).toHaveLength(1);
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

  describe('a series is triaged only once it is complete', () => {
    const signalling = () => ({
      ...ingest,
      notifySeries: (s: string, sop: string) => workflows.instanceStored(s, sop),
    });

    /** The study's worklist row of a series. */
    async function reviewOf(seriesUid: string) {
      const [row] = await services.database.db
        .select({
          status: studyReviews.status,
          aiCategory: studyReviews.aiCategory,
          lungRads: studyReviews.lungRads,
        })
        .from(series)
        .innerJoin(studyReviews, eq(studyReviews.studyId, series.studyId))
        .where(eq(series.seriesInstanceUid, seriesUid));
      return row;
    }

    async function seriesStatus(seriesUid: string) {
      return ((await (await app.request(`/api/series/${seriesUid}`)).json()) as { status: string }).status;
    }

    async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let value = await read();
      while (!done(value) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        value = await read();
      }
      return value;
    }

    /** Stores files in one transfer that ends as given. */
    async function transfer(files: readonly Uint8Array[], end: 'complete' | 'interrupted') {
      const session = new TransferSession(services.database.db);
      for (const bytes of files) {
        await storeInstance(signalling(), bytes, { source: 'test:transfer', transfer: session });
      }
      await session.end(end);
    }

    it('marks a series whose sender died at 30 of 60 slices incomplete (Lung-RADS 0), then processes the rest', async () => {
      const { files, seriesInstanceUid } = phantomSeries();
      await transfer(files.slice(0, 30), 'interrupted');
      const review = await until(
        () => reviewOf(seriesInstanceUid),
        (r) => r?.status === 'incomplete',
      );
      expect(review).toMatchObject({ status: 'incomplete', aiCategory: '0' });
      expect(JSON.stringify(review!.lungRads)).toMatch(
        /transfer-interrupted: the transfer of this series was cut off after 30/,
      );
      expect(await seriesStatus(seriesInstanceUid)).toBe('incomplete');
      // The review row is written by the workflow's last activity; the workflow goes back to waiting once that
      // activity's completion reaches it, so a query right after may still see 'processing'.
      const handle = services.client.workflow.getHandle(`series:${seriesInstanceUid}`);
      const progress = await until(
        () => handle.query<{ stage: string }>('progress'),
        (p) => p.stage !== 'processing',
        10_000,
      );
      expect(progress).toMatchObject({ stage: 'waiting-for-instances' });

      await transfer(files.slice(30), 'complete');
      const result = await workflows.result(seriesInstanceUid);
      expect(result).toMatchObject({ status: 'done', instanceCount: 60 });
      const after = await reviewOf(seriesInstanceUid);
      expect(after?.status).toBe('ready');
      expect(after?.aiCategory).not.toBe('0');
    });

    it('marks a series with a gap in its slice stack incomplete until the missing slices arrive', async () => {
      const { files, seriesInstanceUid } = phantomSeries();
      const missing = new Set([20, 21, 22]);
      await transfer(
        files.filter((_, k) => !missing.has(k)),
        'complete',
      );
      const review = await until(
        () => reviewOf(seriesInstanceUid),
        (r) => r?.status === 'incomplete',
      );
      expect(review?.aiCategory).toBe('0');
      expect(JSON.stringify(review!.lungRads)).toMatch(/missing-slices: 1 gap\(s\)/);
      await transfer(
        files.filter((_, k) => missing.has(k)),
        'complete',
      );
      expect(await workflows.result(seriesInstanceUid)).toMatchObject({ status: 'done', instanceCount: 60 });
    });

    it('shows a series as receiving, never as a final status, while its transfer is still open', async () => {
      const study = testUid();
      const seriesUid = testUid();
      const session = new TransferSession(services.database.db);
      const slice = (z: number) =>
        syntheticCtInstance({
          studyInstanceUid: study,
          seriesInstanceUid: seriesUid,
          sopInstanceUid: testUid(),
          z,
        });
      await storeInstance(signalling(), slice(0), { source: 'test:slow', transfer: session });
      // Three quiet periods pass with the association open and one slice in: no verdict on one slice.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await seriesStatus(seriesUid)).toBe('receiving');
      await storeInstance(signalling(), slice(5), { source: 'test:slow', transfer: session });
      await session.end('complete');
      // Two slices, complete: now the quality gate may reject it, finally.
      expect(await workflows.result(seriesUid)).toMatchObject({ status: 'rejected', instanceCount: 2 });
      expect(await seriesStatus(seriesUid)).toBe('rejected');
      // A new instance after the verdict makes the series receiving again, not "rejected, 2 slices".
      await storeInstance(ingest, slice(10), 'test');
      expect(await seriesStatus(seriesUid)).toBe('receiving');
    });
  });
});
