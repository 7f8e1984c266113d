import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { eq, sql } from 'drizzle-orm';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { exportCommand } from '../../src/main/export-command.js';
import { series } from '../../src/db/schema/index.js';
import { writeCtSeries } from '../../src/dicom/write-ct-series.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { sha256Hex } from '../../src/research/export/export-manifest.js';
import { buildChestPhantom } from '../../src/phantom/chest-phantom.js';
import type { UserRole } from '../../src/shared/roles.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { researchWorkflows } from '../../src/temporal/research-workflows.js';
import { seriesWorkflows } from '../../src/temporal/series-workflows.js';
import { createSeriesWorker, type SeriesWorkerHandle } from '../../src/temporal/worker.js';
import { callerWithRole, type authorized } from '../fixtures/authorized.js';
import { dciodvfy } from '../fixtures/dciodvfy.js';
import { connectTestServices, testLogger, uniqueTaskQueue } from './services.js';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument
   -- response bodies are loosely typed JSON here; the assertions check their shape. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Caller = ReturnType<typeof authorized>;

const KEY = 'research-export-test-key-0123456789abcdef';
/** What the source series says about the patient: none of it may leave in an export. */
const IDENTITY = {
  patientName: 'Identifiable^Research^Person',
  patientId: 'RESEARCH-PT-7781',
  birthDate: ['19600101', '1960-01-01'],
  accessionNumber: 'PHANTOM',
  institution: 'nodus phantom',
  studyDate: ['20260101', '2026-01-01'],
};

/** Every string in a DICOM dataset, sequences and person names included (a recursive walk of every element). */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number') out.push(String(value));
  else if (Array.isArray(value)) value.forEach((v) => stringsOf(v, out));
  else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return out;
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => stringsOf(v, out));
  return out;
}

async function untar(bytes: Uint8Array): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        files.set(header.name, new Uint8Array(Buffer.concat(chunks)));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([Buffer.from(bytes)]).pipe(extract);
  await done;
  return files;
}

describe('research: labels, cohorts, frozen snapshots and de-identified exports', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let worker: SeriesWorkerHandle;
  let api: ReturnType<typeof createApp>;
  let blobDir: string;
  let exportDir: string;
  let blobs: FilesystemBlobStore;
  const callers = {} as Record<'researcher' | 'radiologist' | 'reader2' | 'programme', Caller>;
  let studyId: string;
  let projectId: string;
  let cohortId: string;
  let snapshotId: string;
  let detectorKey: string;

  const caller = (role: UserRole, institution: string) =>
    callerWithRole(services.database.db, api, role, institution);
  const post = (who: Caller, url: string, body: unknown) =>
    who.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const ok = async (response: Response, status = 200): Promise<Json> => {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    return JSON.parse(text) as Json;
  };
  const act = async (body: Record<string, unknown>) => {
    const detail = await ok(await callers.radiologist.request(`/api/studies/${studyId}`));
    return ok(
      await post(callers.radiologist, `/api/studies/${studyId}/review-actions`, {
        version: detail.review.version,
        ...body,
      }),
      201,
    );
  };
  const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    services = await connectTestServices();
    const taskQueue = uniqueTaskQueue('research');
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-blobs-'));
    exportDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-exports-'));
    blobs = new FilesystemBlobStore(blobDir);
    const detector = await loadDetector(undefined);
    detectorKey = `${detector.entry.id}@${detector.entry.version}`;
    worker = await createSeriesWorker({
      address: services.temporalAddress,
      namespace: 'default',
      taskQueue,
      deps: {
        db: services.database.db,
        blobs,
        detector: await loadDetector(undefined),
        deidentificationKey: KEY,
      },
    });
    void worker.run();
    const workflows = seriesWorkflows(services.client, { taskQueue, quietPeriodMs: 500 });
    const ingest: IngestDeps = { db: services.database.db, blobs, notifySeries: () => Promise.resolve() };
    api = createApp({
      db: services.database.db,
      seriesWorkflows: workflows,
      ingest,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      research: {
        deidentificationKey: KEY,
        workflows: researchWorkflows(services.client, { taskQueue }),
        exportDir,
      },
    });

    const phantom = buildChestPhantom({ matrix: 96, pixelSpacingMm: 3.5, sliceSpacingMm: 5, lengthMm: 300 });
    const { files, seriesInstanceUid } = writeCtSeries({
      ...phantom,
      patientId: IDENTITY.patientId,
      patientName: IDENTITY.patientName,
      seriesDescription: 'research export test',
    });
    for (const bytes of files) await storeInstance(ingest, bytes, 'test');
    await workflows.start(seriesInstanceUid);
    expect((await workflows.result(seriesInstanceUid)).status).toBe('done');
    const [own] = await services.database.db
      .select({ studyId: series.studyId })
      .from(series)
      .where(eq(series.seriesInstanceUid, seriesInstanceUid));
    studyId = own!.studyId;
    const institution = institutionCode(IDENTITY.institution);
    callers.researcher = await caller('researcher', institution);
    callers.radiologist = await caller('radiologist', institution);
    callers.reader2 = await caller('radiologist', institution);
    callers.programme = await caller('programme', institution);

    // A reviewed study: first AI nodule accepted, the rest rejected, signed off (so SR and SEG are exported).
    const detail = await ok(await callers.radiologist.request(`/api/studies/${studyId}`));
    const aiNodules = detail.nodules.filter((n: Json) => n.origin === 'ai');
    for (const [n, nodule] of aiNodules.entries()) {
      await act(
        n === 0
          ? { action: 'accept', noduleId: nodule.noduleId }
          : { action: 'reject', noduleId: nodule.noduleId, reason: 'vessel' },
      );
    }
    await act({ action: 'sign-off', finalCategory: '4B' });
  }, 300_000);

  afterAll(async () => {
    await worker?.shutdown();
    await services?.close();
    await fs.rm(blobDir, { recursive: true, force: true });
    await fs.rm(exportDir, { recursive: true, force: true });
  });

  it('manages vocabularies and labels with provenance, and refuses labels outside the vocabulary', async () => {
    const project = await ok(
      await post(callers.researcher, '/api/projects', { name: `cohort-${randomUUID().slice(0, 8)}` }),
      201,
    );
    projectId = project.id;
    expect((await post(callers.programme, '/api/projects', { name: 'not-allowed' })).status).toBe(403);
    const base = `/api/projects/${projectId}`;
    await ok(
      await post(callers.researcher, `${base}/vocabularies`, {
        name: 'malignancy',
        target: 'nodule',
        kind: 'category',
        codes: [
          { code: 'malignant', meaning: 'pathology-proven malignant' },
          { code: 'benign', meaning: 'benign' },
        ],
      }),
      201,
    );
    await ok(
      await post(callers.researcher, `${base}/vocabularies`, {
        name: 'reader-category',
        target: 'study',
        kind: 'category',
        codes: ['1', '2', '3', '4A', '4B', '4X'].map((code) => ({ code, meaning: `Lung-RADS ${code}` })),
      }),
      201,
    );
    await ok(
      await post(callers.researcher, `${base}/vocabularies`, {
        name: 'diameter',
        target: 'nodule',
        kind: 'number',
        unit: 'mm',
      }),
      201,
    );
    expect(
      (
        await post(callers.researcher, `${base}/vocabularies`, {
          name: 'diameter',
          target: 'nodule',
          kind: 'number',
        })
      ).status,
    ).toBe(409);

    const detail = await ok(await callers.radiologist.request(`/api/studies/${studyId}`));
    const accepted = detail.nodules.find((n: Json) => n.decision === 'accepted');
    const label = (who: Caller, body: Json) =>
      post(who, `${base}/labels`, { studyId, source: 'reader', evidence: 'imaging', ...body });
    await ok(
      await label(callers.researcher, {
        vocabulary: 'malignancy',
        noduleId: accepted.noduleId,
        code: 'malignant',
        evidence: 'pathology',
      }),
      201,
    );
    await ok(await label(callers.radiologist, { vocabulary: 'reader-category', code: '4B' }), 201);
    await ok(await label(callers.reader2, { vocabulary: 'reader-category', code: '4A' }), 201);
    await ok(
      await label(callers.radiologist, {
        vocabulary: 'diameter',
        noduleId: accepted.noduleId,
        number: accepted.meanDiameterMm,
      }),
      201,
    );
    await ok(
      await label(callers.reader2, {
        vocabulary: 'diameter',
        noduleId: accepted.noduleId,
        number: accepted.meanDiameterMm + 1.5,
      }),
      201,
    );
    await ok(
      await label(callers.researcher, {
        vocabulary: 'malignancy',
        noduleId: accepted.noduleId,
        code: 'benign',
        source: 'model',
        model: 'nodus-malignancy@0.1.0',
        evidence: 'imaging',
      }),
      201,
    );

    const listed = await ok(await callers.radiologist.request(`${base}/labels?studyId=${studyId}`));
    expect(listed.map((l: Json) => [l.vocabulary, l.code ?? l.number, l.source])).toEqual([
      ['malignancy', 'malignant', 'reader'],
      ['reader-category', '4B', 'reader'],
      ['reader-category', '4A', 'reader'],
      ['diameter', accepted.meanDiameterMm, 'reader'],
      ['diameter', accepted.meanDiameterMm + 1.5, 'reader'],
      ['malignancy', 'benign', 'model'],
    ]);
    expect(listed.at(-1)).toMatchObject({
      model: 'nodus-malignancy@0.1.0',
      userId: null,
      evidence: 'imaging',
    });
    expect((await ok(await callers.researcher.request(`${base}/labels`))).length).toBe(6);
    expect((await callers.programme.request(`${base}/labels`)).status).toBe(403);
    const elsewhere = await caller('researcher', 'ANOTHER-HOSPITAL');
    expect(await ok(await elsewhere.request(`${base}/labels`))).toEqual([]);
    expect((await elsewhere.request(`${base}/labels?studyId=${studyId}`)).status).toBe(403);

    const refused = await label(callers.researcher, {
      vocabulary: 'malignancy',
      noduleId: accepted.noduleId,
      code: 'maybe',
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Json).error.message).toMatch(/no code "maybe"/);
    expect((await label(callers.researcher, { vocabulary: 'malignancy', code: 'benign' })).status).toBe(400); // no nodule
    expect(
      (await label(callers.researcher, { vocabulary: 'diameter', noduleId: accepted.noduleId, code: 'x' }))
        .status,
    ).toBe(400);
    expect((await label(callers.researcher, { vocabulary: 'nope', code: 'x' })).status).toBe(400);
  });

  it('previews cohorts before saving, with clear errors for invalid queries', async () => {
    const base = `/api/projects/${projectId}/cohorts`;
    const definition = {
      lungRads: { categories: ['4B', '4X'], of: 'final' },
      reviewStatus: ['signed-off'],
      labels: [{ vocabulary: 'malignancy', codes: ['malignant'] }],
      sliceThicknessMm: { max: 5 },
      models: [detectorKey],
    };
    const preview = await ok(await post(callers.researcher, `${base}/preview`, { definition }));
    expect(preview).toMatchObject({ studies: 1, patients: 1, nodules: 1 });
    expect(Object.values(preview.byCategory)).toEqual([1]); // by current category; the final one is 4B
    const none = await ok(
      await post(callers.researcher, `${base}/preview`, {
        definition: { ...definition, sliceThicknessMm: { max: 1 } },
      }),
    );
    expect(none.studies).toBe(0);
    const otherModel = await ok(
      await post(callers.researcher, `${base}/preview`, {
        definition: { ...definition, models: ['other-detector@9.9.9'] },
      }),
    );
    expect(otherModel.studies).toBe(0);

    for (const [bad, message] of [
      [{ labels: [{ vocabulary: 'unknown' }] }, /no vocabulary "unknown"/],
      [{ labels: [{ vocabulary: 'malignancy', codes: ['probably'] }] }, /has no code probably/],
      [{ labels: [{ vocabulary: 'diameter', codes: ['x'] }] }, /holds numbers/],
      [{ sliceThicknessMm: { min: 5, max: 1 } }, /min must not exceed max/],
      [{ colour: 'blue' }, /colour|Unrecognized/i],
    ] as const) {
      const response = await post(callers.researcher, `${base}/preview`, { definition: bad });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as Json;
      expect(`${error.message} ${JSON.stringify(error.details ?? [])}`).toMatch(message);
    }
    expect((await post(callers.radiologist, `${base}/preview`, { definition })).status).toBe(403);

    const saved = await ok(await post(callers.researcher, base, { name: 'malignant 4B', definition }), 201);
    expect(saved.preview.studies).toBe(1);
    cohortId = saved.cohort.id;
  });

  it('freezes a snapshot whose archive is the same bytes every time and matches its manifest', async () => {
    const unknown = await callers.researcher.request(`/api/snapshots/${randomUUID()}/archive`);
    expect(unknown.status).toBe(404);
    const created = await ok(await post(callers.researcher, `/api/cohorts/${cohortId}/snapshots`, {}), 202);
    snapshotId = created.id;
    const snapshot = await until(async () => {
      const s = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}`));
      if (s.status === 'failed') throw new Error(`freeze failed: ${s.error}`);
      return s.status === 'frozen' ? s : undefined;
    });
    expect(snapshot).toMatchObject({ studyCount: 1, noduleCount: expect.any(Number) });
    const frozenManifest = await ok(
      await callers.researcher.request(`/api/snapshots/${snapshotId}/manifest`),
    );
    expect(frozenManifest.members).toHaveLength(1);
    expect(frozenManifest.members[0]).toMatchObject({
      subject: expect.stringMatching(/^NODUS-/),
      detector: detectorKey,
    });
    expect(frozenManifest.members[0].labels).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ vocabulary: 'malignancy', value: 'malignant', source: 'reader' }),
      ]),
    );

    // Frozen means frozen: the database refuses changes.
    await expect(
      services.database.db.execute(sql`UPDATE cohort_snapshots SET study_count = 2 WHERE id = ${snapshotId}`),
    ).rejects.toThrow();

    const manifest = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/manifest`));
    const paths = manifest.files.map((f: Json) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'tables/studies.csv',
        'tables/nodules.json',
        'tables/labels.csv',
        'luna16/annotations.csv',
        'monai/datalist.json',
      ]),
    );
    expect(paths.some((p: string) => p.endsWith('/ct.nii.gz'))).toBe(true);
    expect(paths.some((p: string) => p.endsWith('/dicom/SR.dcm'))).toBe(true);
    expect(paths.some((p: string) => p.endsWith('/dicom/SEG.dcm'))).toBe(true);

    const first = new Uint8Array(
      await (await callers.researcher.request(`/api/snapshots/${snapshotId}/archive`)).arrayBuffer(),
    );
    const second = new Uint8Array(
      await (await callers.researcher.request(`/api/snapshots/${snapshotId}/archive`)).arrayBuffer(),
    );
    expect(sha256Hex(second)).toBe(sha256Hex(first));
    const files = await untar(first);
    expect([...files.keys()]).toEqual(['manifest.json', ...paths]);
    for (const entry of manifest.files)
      expect(sha256Hex(files.get(entry.path)!), entry.path).toBe(entry.sha256);

    // Later labels change nothing in the frozen snapshot.
    const detail = await ok(await callers.radiologist.request(`/api/studies/${studyId}`));
    const accepted = detail.nodules.find((n: Json) => n.decision === 'accepted');
    await ok(
      await post(callers.researcher, `/api/projects/${projectId}/labels`, {
        studyId,
        noduleId: accepted.noduleId,
        vocabulary: 'malignancy',
        code: 'benign',
        source: 'consensus',
        evidence: 'follow-up',
      }),
      201,
    );
    const third = new Uint8Array(
      await (await callers.researcher.request(`/api/snapshots/${snapshotId}/archive`)).arrayBuffer(),
    );
    expect(sha256Hex(third)).toBe(sha256Hex(first));
  });

  it('leaves no original patient name, id, birth date, accession number, institution or study date in any exported file', async () => {
    const archive = new Uint8Array(
      await (await callers.researcher.request(`/api/snapshots/${snapshotId}/archive`)).arrayBuffer(),
    );
    const files = await untar(archive);
    const forbidden = [
      IDENTITY.patientName,
      IDENTITY.patientName.replace(/\^/g, ' '),
      IDENTITY.patientId,
      ...IDENTITY.birthDate,
      IDENTITY.institution,
      ...IDENTITY.studyDate,
    ];
    let dicomFiles = 0;
    for (const [name, bytes] of files) {
      let values: string[];
      if (name.endsWith('.dcm')) {
        dicomFiles += 1;
        const parsed = dcmjs.data.DicomMessage.readFile(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        );
        values = stringsOf([parsed.meta, parsed.dict]);
        // The accession number is emptied: no element may hold it as its value.
        expect(values, name).not.toContain(IDENTITY.accessionNumber);
      } else if (name.endsWith('.nii.gz')) {
        // NIfTI: only its 352-byte header holds text (description, intent name); the rest is voxels.
        values = [Buffer.from(gunzipSync(bytes).subarray(0, 352)).toString('latin1')];
      } else {
        values = [new TextDecoder().decode(bytes)];
        expect(values[0], name).not.toMatch(new RegExp(`(^|[,"\\s])${IDENTITY.accessionNumber}([,"\\s]|$)`));
      }
      const text = values.join('\n');
      for (const value of forbidden) expect(text.includes(value), `${name} holds ${value}`).toBe(false);
    }
    expect(dicomFiles).toBeGreaterThan(60);
  });

  it('writes de-identified DICOM that dciodvfy accepts, with the SR and SEG referencing the exported images', async () => {
    const archive = new Uint8Array(
      await (await callers.researcher.request(`/api/snapshots/${snapshotId}/archive`)).arrayBuffer(),
    );
    const files = await untar(archive);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-deid-'));
    const read = (bytes: Uint8Array) =>
      dcmjs.data.DicomMetaDictionary.naturalizeDataset(
        dcmjs.data.DicomMessage.readFile(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
        ).dict,
      ) as Json;
    const ctUids = new Set<string>();
    for (const [name, bytes] of files)
      if (/\/CT-\d+\.dcm$/.test(name)) ctUids.add(read(bytes).SOPInstanceUID);
    const pick = [...files.keys()].filter((name) => /(CT-0001|SR|SEG)\.dcm$/.test(name));
    expect(pick).toHaveLength(3);
    for (const name of pick) {
      const file = path.join(dir, path.basename(name));
      await fs.writeFile(file, files.get(name)!);
      const report = await dciodvfy(file);
      expect(report.errors, `${name}:\n${report.output}`).toEqual([]);
      const dataset = read(files.get(name)!);
      expect(dataset.PatientIdentityRemoved).toBe('YES');
      const referenced = stringsOf(dataset).filter((v) => ctUids.has(v));
      if (!name.endsWith('CT-0001.dcm'))
        expect(referenced.length, `${name} references the exported CT`).toBeGreaterThan(0);
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exports to a folder by workflow, resumes after an interruption, and refuses unfrozen snapshots', async () => {
    await ok(await post(callers.researcher, `/api/snapshots/${snapshotId}/exports`, {}), 202);
    const done = await until(async () => {
      const status = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/exports`));
      if (status.status === 'failed') throw new Error(status.error);
      return status.status === 'completed' ? status : undefined;
    });
    const manifest = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/manifest`));
    expect(done.progress.filesTotal).toBe(manifest.files.length);
    // The folder is the server's export folder; researchers are not told server paths.
    expect(done.outDir).toBeUndefined();
    const outDir = path.join(exportDir, snapshotId);
    for (const entry of manifest.files) {
      expect(sha256Hex(await fs.readFile(path.join(outDir, entry.path))), entry.path).toBe(entry.sha256);
    }

    // An interrupted export: the manifest and one file missing, another cut short. The next run keeps the rest.
    await fs.rm(path.join(outDir, 'manifest.json'));
    await fs.rm(path.join(outDir, manifest.files[0].path));
    const ct = manifest.files.find((f: Json) => f.path.endsWith('ct.nii.gz'));
    await fs.truncate(path.join(outDir, ct.path), 100);
    await ok(await post(callers.researcher, `/api/snapshots/${snapshotId}/exports`, {}), 202);
    const resumed = await until(async () => {
      const status = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/exports`));
      return status.status === 'completed' && status.progress.filesKept > 0 ? status : undefined;
    });
    expect(resumed.progress).toMatchObject({
      filesTotal: manifest.files.length,
      filesKept: manifest.files.length - 2,
    });
    for (const entry of manifest.files) {
      expect(sha256Hex(await fs.readFile(path.join(outDir, entry.path))), entry.path).toBe(entry.sha256);
    }
    await fs.access(path.join(outDir, 'manifest.json'));

    // A snapshot still freezing (or failed) cannot be exported.
    const [row] = await services.database.db.execute<{ id: string }>(sql`
      INSERT INTO cohort_snapshots (cohort_id, definition, created_by)
      SELECT id, definition, created_by FROM cohorts WHERE id = ${cohortId} RETURNING id`);
    const pending = row!.id;
    const refused = await callers.researcher.request(`/api/snapshots/${pending}/archive`);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Json).error.message).toMatch(/freezing/);
  });

  it('writes the same export with nodus export, and names a different de-identification key as the cause', async () => {
    const manifest = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/manifest`));
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-cli-export-'));
    const printed: string[] = [];
    const deps = { db: services.database.db, blobs, deidentificationKey: KEY };
    expect(
      await exportCommand(deps, snapshotId, out, () => {}, {
        write: (line: string) => printed.push(line) > 0,
      }),
    ).toBe(0);
    expect(JSON.parse(printed.join(''))).toMatchObject({
      snapshotId,
      filesTotal: manifest.files.length,
      filesKept: 0,
    });
    for (const entry of manifest.files) {
      expect(sha256Hex(await fs.readFile(path.join(out, entry.path))), entry.path).toBe(entry.sha256);
    }
    await expect(
      exportCommand(
        { ...deps, deidentificationKey: 'another-key-of-at-least-thirty-two-chars' },
        snapshotId,
        out,
        () => {},
      ),
    ).rejects.toThrow(/NODUS_DEID_KEY is not the key/);
    await fs.rm(out, { recursive: true, force: true });
  });

  it("measures reader agreement: Cohen's and Fleiss' kappa on categories, ICC on diameters", async () => {
    const agreement = await ok(await callers.researcher.request(`/api/snapshots/${snapshotId}/agreement`));
    const byName = Object.fromEntries(agreement.vocabularies.map((v: Json) => [v.vocabulary, v]));
    // One study and one nodule: two readers, but a single subject each is not enough for a statistic.
    expect(byName['reader-category']).toMatchObject({
      readers: expect.any(Array),
      subjects: 1,
      insufficient: expect.any(String),
    });
    expect(byName['reader-category'].readers).toHaveLength(2);
    expect(byName.diameter).toMatchObject({ kind: 'number', subjects: 1 });
  });
});
