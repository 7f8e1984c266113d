import type { DicomPeer } from '../../src/shared/dicom-peer.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { auditEvents, series } from '../../src/db/schema/index.js';
import { findFreePort, waitForPort } from '../../src/embedded/free-port.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import type { UserRole } from '../../src/shared/roles.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { seriesWorkflows } from '../../src/temporal/series-workflows.js';
import { createSeriesWorker, type SeriesWorkerHandle } from '../../src/temporal/worker.js';
import { decodeNifti1Volume } from '../../src/volume/nifti.js';
import type { CtVolume } from '../../src/volume/volume.js';
import { callerWithRole, type authorized } from '../fixtures/authorized.js';
import { dciodvfy, messagesOfOurs } from '../fixtures/dciodvfy.js';
import { DCMTK_ENV, dcmtk } from '../fixtures/dcmtk.js';
import { items, readNaturalized } from '../fixtures/nodule-outputs.js';
import { phantomSeries } from '../fixtures/phantom-series.js';
import { connectTestServices, testLogger, uniqueTaskQueue } from './services.js';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument
   -- response bodies are loosely typed JSON here; the assertions check their shape. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Caller = ReturnType<typeof authorized>;

/** Masks of a BINARY SEG on the volume's grid, one per segment, from the frames' positions (axial volumes). */
function decodeSegments(dataset: Record<string, unknown>, volume: CtVolume): Uint8Array[] {
  const [nx, ny, nz] = volume.dimensions;
  const pixels = new Uint8Array((dataset.PixelData as ArrayBuffer[])[0]!);
  const masks = items(dataset.SegmentSequence).map(() => new Uint8Array(nx * ny * nz));
  items(dataset.PerFrameFunctionalGroupsSequence).forEach((frame, f) => {
    const segment = items(frame.SegmentIdentificationSequence)[0]!.ReferencedSegmentNumber as number;
    const z = Number((items(frame.PlanePositionSequence)[0]!.ImagePositionPatient as number[])[2]);
    const k = Math.round((z - volume.originLps[2]) / volume.spacingMm[2]);
    for (let p = 0; p < nx * ny; p += 1) {
      const bit = f * nx * ny + p;
      if (pixels[bit >> 3]! & (1 << (bit & 7))) masks[segment - 1]![k * nx * ny + p] = 1;
    }
  });
  return masks;
}

describe('signed-off SR and SEG through the API: read, verify, send by C-STORE', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let worker: SeriesWorkerHandle;
  let ingest: IngestDeps;
  let api: ReturnType<typeof createApp>;
  let blobDir: string;
  let outDir: string;
  /** The DICOM nodes the API may send to; each test adds the ones it starts. */
  const peers: DicomPeer[] = [];
  const callers = {} as Record<'radiologist' | 'researcher' | 'programme', Caller>;
  let studyId: string;
  let seriesId: string;
  let volumeKey: string;
  let maskedNodules: { noduleId: string; maskBlobKey: string; boundingBoxIjk: number[] }[] = [];

  const caller = (role: UserRole, institution: string) =>
    callerWithRole(services.database.db, api, role, institution);

  const act = async (body: Record<string, unknown>) => {
    const detail = (await (await callers.radiologist.request(`/api/studies/${studyId}`)).json()) as Json;
    const response = await callers.radiologist.request(`/api/studies/${studyId}/review-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: detail.review.version, ...body }),
    });
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
    return (await response.json()) as Json;
  };

  beforeAll(async () => {
    services = await connectTestServices();
    const taskQueue = uniqueTaskQueue('reports');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-blobs-'));
    outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-reports-'));
    const blobs = new FilesystemBlobStore(blobDir);
    worker = await createSeriesWorker({
      address: services.temporalAddress,
      namespace: 'default',
      taskQueue,
      deps: { db: services.database.db, blobs, detector: await loadDetector(undefined) },
    });
    void worker.run();
    const workflows = seriesWorkflows(services.client, { taskQueue, quietPeriodMs: 500 });
    ingest = { db: services.database.db, blobs, notifySeries: () => Promise.resolve() };
    api = createApp({
      db: services.database.db,
      seriesWorkflows: workflows,
      ingest,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      dicomPeers: peers,
    });

    const { files, seriesInstanceUid } = phantomSeries();
    for (const bytes of files) await storeInstance(ingest, bytes, 'test');
    await workflows.start(seriesInstanceUid);
    const result = await workflows.result(seriesInstanceUid);
    expect(result.status).toBe('done');
    volumeKey = result.volumeKey!;
    const [own] = await services.database.db
      .select({ studyId: series.studyId, seriesId: series.id })
      .from(series)
      .where(eq(series.seriesInstanceUid, seriesInstanceUid));
    studyId = own!.studyId;
    seriesId = own!.seriesId;
    const institution = institutionCode('nodus phantom');
    callers.radiologist = await caller('radiologist', institution);
    callers.researcher = await caller('researcher', institution);
    callers.programme = await caller('programme', institution);
  }, 240_000);

  afterAll(async () => {
    await worker?.shutdown();
    await services?.close();
    await fs.rm(blobDir, { recursive: true, force: true });
    await fs.rm(outDir, { recursive: true, force: true });
  });

  it('answers 409 before sign-off, then serves a valid SR and SEG that decode to the stored masks', async () => {
    for (const object of ['sr', 'seg']) {
      const early = await callers.radiologist.request(`/api/studies/${studyId}/${object}`);
      expect(early.status).toBe(409);
      expect(((await early.json()) as Json).error.message).toMatch(/not signed off/);
    }

    // Accept the first AI nodule, reject the others, add one of the reader's own, sign off.
    const detail = (await (await callers.radiologist.request(`/api/studies/${studyId}`)).json()) as Json;
    const aiNodules = detail.nodules.filter((n: Json) => n.origin === 'ai');
    expect(aiNodules.length).toBeGreaterThan(0);
    expect(aiNodules[0].hasMask).toBe(true);
    for (const [n, nodule] of aiNodules.entries()) {
      await act(
        n === 0
          ? { action: 'accept', noduleId: nodule.noduleId }
          : { action: 'reject', noduleId: nodule.noduleId, reason: 'vessel' },
      );
    }
    maskedNodules = [{ ...aiNodules[0].ai, noduleId: aiNodules[0].noduleId }];
    await act({
      action: 'add',
      seriesId,
      nodule: { centreLps: [60, 120, 150], longAxisMm: 7, shortAxisMm: 5, type: 'solid' },
    });
    const signed = await act({ action: 'sign-off', finalCategory: '4A' });
    expect(signed.status).toBe('signed-off');

    const sr = await callers.radiologist.request(`/api/studies/${studyId}/sr`);
    expect(sr.status).toBe(200);
    expect(sr.headers.get('content-type')).toBe('application/dicom');
    const srBytes = new Uint8Array(await sr.arrayBuffer());
    const seg = await callers.radiologist.request(`/api/studies/${studyId}/seg`);
    expect(seg.status).toBe(200);
    const segBytes = new Uint8Array(await seg.arrayBuffer());
    for (const [name, bytes] of [
      ['sr.dcm', srBytes],
      ['seg.dcm', segBytes],
    ] as const) {
      const file = path.join(outDir, name);
      await fs.writeFile(file, bytes);
      const report = await dciodvfy(file);
      expect(messagesOfOurs(report), `${name}:\n${report.output}`).toEqual([]);
    }

    // The SEG has one segment, the accepted AI nodule, and its frames give back the stored mask.
    const segment = readNaturalized(segBytes);
    expect(items(segment.SegmentSequence)).toHaveLength(1);
    const volumeRecord = detail.series.find((s: Json) => s.seriesId === seriesId).volume;
    const volume = decodeNifti1Volume(await ingest.blobs.get(volumeKey), volumeRecord);
    const [decoded] = decodeSegments(segment, volume);
    const { maskBlobKey, boundingBoxIjk } = maskedNodules[0]!;
    const mask = decodeNifti1Volume(await ingest.blobs.get(maskBlobKey), volumeRecord);
    const [nx, ny] = volume.dimensions;
    const [i0, j0, k0, i1, j1, k1] = boundingBoxIjk as [number, number, number, number, number, number];
    const expected = new Uint8Array(decoded!.length);
    for (let k = k0; k <= k1; k += 1)
      for (let j = j0; j <= j1; j += 1)
        for (let i = i0; i <= i1; i += 1) {
          const v = mask.hu[i - i0 + (i1 - i0 + 1) * (j - j0 + (j1 - j0 + 1) * (k - k0))]!;
          if (v) expected[i + nx * (j + ny * k)] = 1;
        }
    expect(expected.some((v) => v === 1)).toBe(true);
    expect(decoded).toEqual(expected);

    // The SR: two measurement groups (the segmented one first, referencing segment 1), VERIFIED by the
    // radiologist, the final category as a qualitative evaluation, the same tracking UID as the SEG.
    const report = readNaturalized(srBytes);
    expect(report.VerificationFlag).toBe('VERIFIED');
    const root = items(report.ContentSequence);
    const measurements = items(
      root.find((i) => items(i.ConceptNameCodeSequence)[0]!.CodeValue === '126010')!.ContentSequence,
    );
    expect(measurements).toHaveLength(2);
    const segmentRefs = measurements.map(
      (group) => items(group.ContentSequence).filter((i) => i.ValueType === 'IMAGE').length,
    );
    expect(segmentRefs).toEqual([1, 0]);
    const trackingUid = items(measurements[0]!.ContentSequence).find((i) => i.ValueType === 'UIDREF')!.UID;
    expect(trackingUid).toBe(items(segment.SegmentSequence)[0]!.TrackingUID);
    const evaluations = root.find((i) => items(i.ConceptNameCodeSequence)[0]!.CodeValue === 'C0034375')!;
    expect(items(items(evaluations.ContentSequence)[0]!.ConceptCodeSequence)[0]).toMatchObject({
      CodingSchemeDesignator: 'RADLEX',
      CodeValue: 'RID50139',
      CodeMeaning: 'Lung-RADS 4A',
    });
    // The signer as PN, from the user's display name; the user's e-mail appears nowhere.
    const signer = items(report.VerifyingObserverSequence)[0]!;
    expect(items(signer.VerifyingObserverName)[0]).toMatchObject({ Alphabetic: 'Reader^radiologist' });
    expect(Buffer.from(srBytes).toString('latin1')).not.toContain('@example.org');

    // Reading again gives the same objects (UIDs from the study and its review version).
    const again = readNaturalized(
      new Uint8Array(await (await callers.programme.request(`/api/studies/${studyId}/sr`)).arrayBuffer()),
    );
    expect(again.SOPInstanceUID).toBe(report.SOPInstanceUID);
    const segAgain = readNaturalized(
      new Uint8Array(await (await callers.radiologist.request(`/api/studies/${studyId}/seg`)).arrayBuffer()),
    );
    expect(segAgain.SOPInstanceUID).toBe(segment.SOPInstanceUID);
    expect(items(report.CurrentRequestedProcedureEvidenceSequence)).toHaveLength(1);

    // Sign-off stored both as series of the study: QIDO-RS lists them, WADO-RS gives the same objects back.
    const studyUid = report.StudyInstanceUID as string;
    const listed = (await (
      await callers.radiologist.request(`/dicomweb/studies/${studyUid}/series`)
    ).json()) as Json[];
    const byModality = Object.fromEntries(
      listed.map((s) => [s['00080060'].Value[0], s['0020000E'].Value[0]]),
    );
    expect(Object.keys(byModality).sort()).toEqual(['CT', 'SEG', 'SR']);
    for (const [modality, bytes, sop] of [
      ['SR', srBytes, report.SOPInstanceUID as string],
      ['SEG', segBytes, segment.SOPInstanceUID as string],
    ] as const) {
      const retrieved = await callers.radiologist.request(
        `/wado?requestType=WADO&studyUID=${studyUid}&seriesUID=${byModality[modality]}&objectUID=${sop}&contentType=application/dicom`,
      );
      expect(retrieved.status, modality).toBe(200);
      expect(Buffer.compare(Buffer.from(await retrieved.arrayBuffer()), Buffer.from(bytes)), modality).toBe(
        0,
      );
    }

    const reads = await services.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, studyId), eq(auditEvents.action, 'report.read')));
    expect(reads).toHaveLength(4);
  });

  it('refuses researchers (identifying data) with 403', async () => {
    for (const object of ['sr', 'seg']) {
      expect((await callers.researcher.request(`/api/studies/${studyId}/${object}`)).status).toBe(403);
    }
    const send = await callers.programme.request(`/api/studies/${studyId}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: 104, calledAeTitle: 'PACS' }),
    });
    expect(send.status).toBe(403);
  });

  it('sends the SR and SEG to a DICOM node by C-STORE, and answers 503 when none listens', async () => {
    const port = await findFreePort();
    const received = path.join(outDir, 'received');
    await fs.mkdir(received);
    const storescp: ChildProcess = spawn('storescp', ['-od', received, '+xa', '-aet', 'PACS', String(port)], {
      env: DCMTK_ENV,
      stdio: 'ignore',
    });
    try {
      await waitForPort('127.0.0.1', port, 10_000);
      const target = { host: '127.0.0.1', port, calledAeTitle: 'PACS' };
      // A node that is not configured is refused before any connection is made.
      const unlisted = await callers.radiologist.request(`/api/studies/${studyId}/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(target),
      });
      expect(unlisted.status).toBe(403);
      expect(await fs.readdir(received)).toHaveLength(0);
      peers.push({ aeTitle: 'PACS', host: '127.0.0.1', port });
      const response = await callers.radiologist.request(`/api/studies/${studyId}/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          host: '127.0.0.1',
          port,
          calledAeTitle: 'PACS',
          callingAeTitle: 'NODUS-TEST',
        }),
      });
      const body = (await response.json()) as Json;
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.objects.map((o: Json) => [o.object, o.outcome, o.status])).toEqual([
        ['sr', 'stored', 0],
        ['seg', 'stored', 0],
      ]);
      const files = await fs.readdir(received);
      expect(files).toHaveLength(2);
      const dumps = await Promise.all(
        files.map((f) => dcmtk('dcmdump', ['+P', '0008,0018', path.join(received, f)])),
      );
      const uids = dumps.map((d) => /\[([0-9.]+)\]/.exec(d.output)?.[1]).sort();
      expect(uids).toEqual(body.objects.map((o: Json) => o.sopInstanceUid).sort());
      // What arrived is what GET serves, byte for byte in the data set.
      const served = new Uint8Array(
        await (await callers.radiologist.request(`/api/studies/${studyId}/sr`)).arrayBuffer(),
      );
      const srFile = files.find((f) => f.startsWith('SR'))!;
      expect(
        readNaturalized(new Uint8Array(await fs.readFile(path.join(received, srFile)))).ContentSequence,
      ).toEqual(readNaturalized(served).ContentSequence);
    } finally {
      storescp.kill();
    }

    const closed = await findFreePort();
    peers.push({ aeTitle: 'PACS', host: '127.0.0.1', port: closed });
    const refused = await callers.radiologist.request(`/api/studies/${studyId}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: closed, calledAeTitle: 'PACS' }),
    });
    expect(refused.status).toBe(503);
    const error = ((await refused.json()) as Json).error;
    expect(error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(error.message).toMatch(/ECONNREFUSED|refused/i);
    const sends = await services.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, studyId), eq(auditEvents.action, 'report.sent')));
    expect(sends.map((s) => (s.details as Json).outcome).sort()).toEqual(['stored', 'unavailable']);
  });
});
