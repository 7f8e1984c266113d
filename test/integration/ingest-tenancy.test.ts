import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_REASON } from '../../src/api/dicomweb/failure-reasons.js';
import { upsertApplicationEntity } from '../../src/db/repositories/application-entities.js';
import { findSeries } from '../../src/db/repositories/series.js';
import { quarantinedInstances } from '../../src/db/schema/index.js';
import { startDicomScp, type RunningDicomScp } from '../../src/ingest/dicom-scp.js';
import { knownCallersIn } from '../../src/ingest/dimse/known-callers.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { authorized, callerWithRole, seedTestAdminToken } from '../fixtures/authorized.js';
import { dcmtk } from '../fixtures/dcmtk.js';
import { institutionOfSeries } from '../fixtures/institution-of-series.js';
import { stowRequest } from '../fixtures/stow-request.js';
import { syntheticCtInstance, testUid } from '../fixtures/synthetic-instance.js';
import { ingestTestApp } from '../fixtures/ingest-app.js';
import { connectTestServices, testLogger } from './services.js';

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

/** What a STOW-RS caller learns: the status, and per part stored or the failure reason (UIDs left out). */
async function answer(response: Response) {
  const json = (await response.json()) as DicomJson;
  const items = (tag: string) => (json[tag]?.Value ?? []) as DicomJson[];
  return {
    status: response.status,
    stored: items('00081199').length,
    failures: items('00081198').map((item) => item['00081197']?.Value?.[0]),
  };
}

describe('ingest tenancy: senders bound to institutions, no probing across them', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let work: string;
  let ingest: IngestDeps;
  let api: ReturnType<typeof ingestTestApp>;
  let scp: RunningDicomScp;
  let quarantiningScp: RunningDicomScp;
  const A = `TENANT-A-${Date.now()}`;
  const B = `TENANT-B-${Date.now()}`;
  const nameOf = (code: string) => code.replace(/-/g, ' ');

  beforeAll(async () => {
    services = await connectTestServices();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-tenancy-'));
    ingest = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(path.join(work, 'blobs')),
      notifySeries: () => Promise.resolve(),
    };
    api = ingestTestApp(services.database.db, ingest);
    // Institution B holds a study, stored by an unrestricted sender (the local import).
    await upsertApplicationEntity(services.database.db, {
      aeTitle: 'TENANT_A_CT',
      address: '127.0.0.1',
      institutionCode: A,
    });
    await upsertApplicationEntity(services.database.db, {
      aeTitle: 'B_ONLY',
      address: '127.0.0.1',
      institutionCode: B,
    });
    const callers = knownCallersIn(services.database.db, 0);
    scp = await startDicomScp({
      aeTitle: 'NODUS',
      host: '127.0.0.1',
      port: 0,
      ingest,
      logger: testLogger,
      callers,
    });
    quarantiningScp = await startDicomScp({
      aeTitle: 'NODUS',
      host: '127.0.0.1',
      port: 0,
      ingest,
      logger: testLogger,
      callers,
      unknownCallers: 'quarantine',
    });
  });

  afterAll(async () => {
    await scp?.close();
    await quarantiningScp?.close();
    await services?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** A study of institution B with one instance, registered by an unrestricted sender. */
  async function studyOfB() {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const bytes = syntheticCtInstance({ ...ids, institutionName: nameOf(B) });
    expect((await storeInstance(ingest, bytes, 'import:test')).outcome).toBe('stored');
    expect(await institutionOfSeries(services.database.db, ids.seriesInstanceUid)).toBe(B);
    return { ...ids, bytes };
  }

  const quarantined = (sopInstanceUid: string) =>
    services.database.db
      .select({ reason: quarantinedInstances.reason, source: quarantinedInstances.source })
      .from(quarantinedInstances)
      .where(eq(quarantinedInstances.sopInstanceUid, sopInstanceUid));

  it("refuses a radiologist's STOW-RS of an instance labelled with another institution (0124H)", async () => {
    await studyOfB();
    const radiologist = await callerWithRole(services.database.db, api, 'radiologist', A);
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const labelledB = syntheticCtInstance({ ...ids, institutionName: nameOf(B) });
    const response = await radiologist.request('/dicomweb/studies', stowRequest([labelledB]));
    expect(await answer(response)).toEqual({
      status: 409,
      stored: 0,
      failures: [FAILURE_REASON.notAuthorized],
    });
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toBeUndefined();

    const labelledA = syntheticCtInstance({ ...ids, institutionName: nameOf(A) });
    expect((await radiologist.request('/dicomweb/studies', stowRequest([labelledA]))).status).toBe(200);
    expect(await institutionOfSeries(services.database.db, ids.seriesInstanceUid)).toBe(A);
  });

  it("answers a probe of B's instances exactly like a new instance, and never joins B's study", async () => {
    const b = await studyOfB();
    const radiologist = await callerWithRole(services.database.db, api, 'radiologist', A);
    const asA = (
      ids: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string },
      seed = 0,
    ) => syntheticCtInstance({ ...ids, institutionName: nameOf(A), pixelSeed: seed });
    const probes = {
      fresh: asA({ studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() }),
      sameInstance: asA(b),
      otherContent: asA(b, 9),
      intoTheStudy: asA({ ...b, sopInstanceUid: testUid() }),
    };
    const answers: Record<string, unknown> = {};
    for (const [name, bytes] of Object.entries(probes)) {
      answers[name] = await answer(await radiologist.request('/dicomweb/studies', stowRequest([bytes])));
    }
    const fresh = { status: 200, stored: 1, failures: [] };
    expect(answers).toEqual({ fresh, sameInstance: fresh, otherContent: fresh, intoTheStudy: fresh });
    // B's series holds only its own instance; A's copies are kept aside for an administrator.
    expect(await findSeries(services.database.db, b.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
    expect(await institutionOfSeries(services.database.db, b.seriesInstanceUid)).toBe(B);
    expect(await quarantined(b.sopInstanceUid)).toHaveLength(2);
    expect((await quarantined(b.sopInstanceUid))[0]).toMatchObject({ reason: 'foreign-institution' });
  });

  it("keeps a bound DICOM sender's instance of another institution's study aside, answering Success", async () => {
    const b = await studyOfB();
    const folder = await fs.mkdtemp(path.join(work, 'cstore-'));
    const intruder = syntheticCtInstance({ ...b, sopInstanceUid: testUid() });
    await fs.writeFile(path.join(folder, 'x.dcm'), intruder);
    const sent = await dcmtk('storescu', [
      '-aet',
      'TENANT_A_CT',
      '-aec',
      'NODUS',
      '127.0.0.1',
      String(scp.port),
      '+sd',
      folder,
    ]);
    expect(sent.code, sent.output).toBe(0);
    expect(await findSeries(services.database.db, b.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
  });

  it('keeps every instance of an unknown caller aside when configured to, answering Success', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const folder = await fs.mkdtemp(path.join(work, 'unknown-'));
    await fs.writeFile(path.join(folder, 'x.dcm'), syntheticCtInstance(ids));
    const sent = await dcmtk('storescu', [
      '-aet',
      'NOBODY',
      '-aec',
      'NODUS',
      '127.0.0.1',
      String(quarantiningScp.port),
      '+sd',
      folder,
    ]);
    expect(sent.code, sent.output).toBe(0);
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toBeUndefined();
    expect(await quarantined(ids.sopInstanceUid)).toEqual([
      { reason: 'unknown-caller', source: 'dimse:NOBODY@127.0.0.1' },
    ]);
  });

  it('bounds the copies kept aside per instance, however many encodings a conflict arrives in', async () => {
    const bounded: IngestDeps = {
      ...ingest,
      quarantineLimits: { copiesPerInstance: 2, maxBytes: 1024 ** 3 },
    };
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    await storeInstance(bounded, syntheticCtInstance(ids), 'import:test');
    const kept: boolean[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const result = await storeInstance(
        bounded,
        syntheticCtInstance({ ...ids, pixelSeed: seed }),
        'import:test',
      );
      expect(result.outcome).toBe('conflict');
      if (result.outcome === 'conflict') kept.push(result.keptAside);
    }
    expect(kept).toEqual([true, true, false, false]);
    expect(await quarantined(ids.sopInstanceUid)).toHaveLength(2);
  });

  it("lets an administrator's STOW-RS store into any institution, as its InstitutionName says", async () => {
    const admin = authorized(api, await seedTestAdminToken(services.database.db));
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const response = await admin.request(
      '/dicomweb/studies',
      stowRequest([syntheticCtInstance({ ...ids, institutionName: nameOf(B) })]),
    );
    expect(response.status).toBe(200);
    expect(await institutionOfSeries(services.database.db, ids.seriesInstanceUid)).toBe(B);
  });
});
