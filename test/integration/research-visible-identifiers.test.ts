import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { markSnapshotFailed } from '../../src/db/repositories/cohort-snapshots.js';
import { findings, studies, volumes } from '../../src/db/schema/index.js';
import { pseudonymsFor } from '../../src/dicom/deidentify.js';
import {
  freezeSnapshot,
  frozenSnapshotFiles,
  loadFrozenSnapshot,
} from '../../src/research/cohort-snapshot.js';
import { writeExportFolder } from '../../src/research/export/export-folder.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import type { ExportStatus, ResearchWorkflows } from '../../src/temporal/research-workflows.js';
import { encodeNifti1 } from '../../src/volume/nifti.js';
import type { CtVolume } from '../../src/volume/volume.js';
import { callerWithRole, type authorized } from '../fixtures/authorized.js';
import { seedScreenedStudy } from '../fixtures/screened-study.js';
import { connectTestServices, testLogger } from './services.js';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument
   -- response bodies are loosely typed JSON here; the scan walks whatever they hold. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Caller = ReturnType<typeof authorized>;

const KEY = 'identifier-scan-test-key-0123456789abcdef';
/** Digits and at least two dots: anything shaped like a DICOM UID. */
const UID_LIKE = /(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])/g;
/** Blob store keys: instances/<study>/..., volumes/<series>/..., masks/<series>/..., snapshots/<id>/... */
const BLOB_KEY = /(?<!api\/)\b(?:instances|volumes|masks|snapshots|conflicts)\/(?:\d+\.|[0-9a-f-]{36}\/)/;
const STORED_FILE = /\.(?:dcm|nii)\b/;
/** An absolute file system path. */
const ABSOLUTE_PATH = /(?:^|[\s'"=(:])\/[\w.@-]+\//;
/** Where .dcm and .nii may appear: an export's own layout, with pseudonyms, and the mask's download name. */
const EXPORT_PATH =
  /^subjects\/NODUS-[0-9A-F]{12}\/2\.25\.\d+\/(?:ct\.nii\.gz|nodules\.nii\.gz|dicom\/(?:CT-\d+|SR|SEG)\.dcm)$/;
const MASK_DOWNLOAD = /^attachment; filename="nodule-[0-9a-f-]{36}\.nii"$/;

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

describe('no identifier, UID, blob key or storage path reaches a researcher', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let api: ReturnType<typeof createApp>;
  let blobDir: string;
  let exportDir: string;
  let blobs: FilesystemBlobStore;
  let researcher: Caller;
  let radiologist: Caller;
  const run = randomUUID().slice(0, 8);
  const institution = `SCAN-${run}`;
  const projectName = `scan-${run}`;
  const exportStatuses = new Map<string, ExportStatus>();
  /** What the seeded data says and where it is kept: none of it may appear in a researcher's response. */
  const known: { what: string; value: string }[] = [];
  /** De-identified UIDs of the project's export (`2.25.<hmac>`): what researchers do see instead. */
  const pseudonymUids = new Set<string>();
  let current: Awaited<ReturnType<typeof seedScreenedStudy>>;
  let prior: Awaited<ReturnType<typeof seedScreenedStudy>>;
  let broken: Awaited<ReturnType<typeof seedScreenedStudy>>;
  let volumeKey: string;

  const post = (who: Caller, url: string, body: unknown) =>
    who.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** Violations in one string: known values always; patterns unless the place allows them. */
  function scanString(where: string, text: string, out: string[]): void {
    for (const { what, value } of known) if (text.includes(value)) out.push(`${where}: ${what} ${value}`);
    if (where.endsWith('.compression.zlib')) return; // zlib's version, e.g. 1.3.0.1-motley
    for (const [uid] of text.matchAll(UID_LIKE)) {
      if (!pseudonymUids.has(uid)) out.push(`${where}: a DICOM UID ${uid} in ${JSON.stringify(text)}`);
    }
    if (BLOB_KEY.test(text)) out.push(`${where}: a blob key in ${JSON.stringify(text)}`);
    if (STORED_FILE.test(text) && !EXPORT_PATH.test(text) && !MASK_DOWNLOAD.test(text)) {
      out.push(`${where}: a stored file name in ${JSON.stringify(text)}`);
    }
    if (ABSOLUTE_PATH.test(text)) out.push(`${where}: a file system path in ${JSON.stringify(text)}`);
  }

  /** Every string (and key) of a JSON value, recursively. */
  function scanJson(where: string, value: unknown, out: string[]): void {
    if (typeof value === 'string') scanString(where, value, out);
    else if (typeof value === 'number') scanString(where, String(value), out);
    else if (Array.isArray(value)) value.forEach((v, n) => scanJson(`${where}[${n}]`, v, out));
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        scanString(`${where}{key}`, key, out);
        scanJson(`${where}.${key}`, v, out);
      }
    }
  }

  /** A response: its headers, and its body by type (JSON walked; binaries searched for the known values). */
  async function scanResponse(where: string, response: Response, out: string[]): Promise<void> {
    response.headers.forEach((value, name) => scanString(`${where} header ${name}`, value, out));
    const type = response.headers.get('content-type') ?? '';
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (type.includes('json')) {
      scanJson(where, JSON.parse(new TextDecoder().decode(bytes)), out);
    } else if (type.includes('x-tar')) {
      for (const [name, file] of await untar(bytes)) await scanFile(`${where} ${name}`, name, file, out);
    } else if (where.endsWith('/mask')) {
      // NIfTI-1: text only in its 352-byte header (description, intent name, aux file).
      scanString(where, Buffer.from(bytes.subarray(0, 352)).toString('latin1'), out);
    } else {
      const text = Buffer.from(bytes).toString('latin1');
      for (const { what, value } of known) if (text.includes(value)) out.push(`${where}: ${what} ${value}`);
    }
  }

  async function scanFile(where: string, name: string, bytes: Uint8Array, out: string[]): Promise<void> {
    scanString(`${where} (name)`, name, out);
    if (name.endsWith('.json')) scanJson(where, JSON.parse(new TextDecoder().decode(bytes)), out);
    else if (name.endsWith('.csv')) {
      for (const cell of new TextDecoder().decode(bytes).split(/[,\r\n]/)) scanString(where, cell, out);
    } else if (name.endsWith('.nii.gz')) {
      scanString(where, Buffer.from(gunzipSync(bytes).subarray(0, 352)).toString('latin1'), out);
    } else {
      const text = Buffer.from(bytes).toString('latin1');
      for (const { what, value } of known) if (text.includes(value)) out.push(`${where}: ${what} ${value}`);
    }
    return Promise.resolve();
  }

  beforeAll(async () => {
    services = await connectTestServices();
    const db = services.database.db;
    blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-scan-blobs-'));
    exportDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-scan-exports-'));
    blobs = new FilesystemBlobStore(blobDir);
    const snapshotDeps = { db, blobs, deidentificationKey: KEY };
    // The freeze and export workflows' activities, run in the request (the workflows add retries only).
    const workflows: ResearchWorkflows = {
      startFreeze: async (snapshotId) => {
        await freezeSnapshot(snapshotDeps, snapshotId).catch((error: unknown) =>
          markSnapshotFailed(db, snapshotId, error instanceof Error ? error.message : String(error)),
        );
      },
      startExport: async (snapshotId, outDir) => {
        try {
          const frozen = await loadFrozenSnapshot(snapshotDeps, snapshotId);
          const progress = await writeExportFolder(
            frozenSnapshotFiles(snapshotDeps, frozen),
            frozen.manifest,
            outDir,
          );
          exportStatuses.set(snapshotId, { status: 'completed', progress });
        } catch (error) {
          exportStatuses.set(snapshotId, { status: 'failed', error: (error as Error).message });
        }
      },
      exportStatus: (snapshotId) =>
        Promise.resolve(exportStatuses.get(snapshotId) ?? { status: 'not-started' }),
    };
    api = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: { db, blobs, notifySeries: () => Promise.resolve() },
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      research: { deidentificationKey: KEY, workflows, exportDir },
    });
    researcher = await callerWithRole(db, api, 'researcher', institution);
    radiologist = await callerWithRole(db, api, 'radiologist', institution);

    // A patient with a prior and a current screening CT (so the Lung-RADS result compares with the prior),
    // and another patient whose volume was lost from the blob store (its snapshot fails, naming the blob).
    const nodule = (x: number, mm: number) => ({
      centreLps: [x, 20, -100] as [number, number, number],
      longAxisMm: mm,
      shortAxisMm: mm,
      type: 'solid' as const,
    });
    const patientId = `SCAN-PT-${run}`;
    prior = await seedScreenedStudy(db, {
      institutionCode: institution,
      patientId,
      studyDate: '2024-03-01',
      nodules: [nodule(50, 7)],
    });
    current = await seedScreenedStudy(db, {
      institutionCode: institution,
      patientId,
      studyDate: '2025-02-20',
      nodules: [nodule(50, 9), nodule(-60, 5)],
    });
    broken = await seedScreenedStudy(db, {
      institutionCode: institution,
      patientId: `SCAN-PT2-${run}`,
      studyDate: '2023-05-06',
      nodules: [nodule(30, 6)],
    });

    // Small real voxels and masks in the blob store, under the keys processing would give them.
    const grid = (dimensions: CtVolume['dimensions'], hu: Int16Array): CtVolume => ({
      dimensions,
      spacingMm: [0.7, 0.7, 2.5],
      originLps: [-180, -180, -300],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      hu,
      paddingVoxels: 0,
    });
    for (const seeded of [current, broken]) {
      await db
        .update(volumes)
        .set({ dimensions: [8, 8, 4] })
        .where(eq(volumes.seriesId, seeded.seriesId));
    }
    const [volume] = await db.select().from(volumes).where(eq(volumes.seriesId, current.seriesId));
    volumeKey = volume!.blobKey;
    const hu = Int16Array.from({ length: 8 * 8 * 4 }, (_, n) => (n % 7) * 100 - 900);
    await blobs.put(volumeKey, encodeNifti1(grid([8, 8, 4], hu)));
    const maskKeys: string[] = [];
    for (const finding of await db.select().from(findings).where(eq(findings.seriesId, current.seriesId))) {
      const key = `masks/${current.seriesInstanceUid}/${finding.id}.nii`;
      await blobs.put(
        key,
        encodeNifti1(grid([2, 2, 2], new Int16Array(8).fill(1)), 'nodus nodule mask (1 = nodule)'),
      );
      await db.update(findings).set({ maskBlobKey: key }).where(eq(findings.id, finding.id));
      maskKeys.push(key);
    }

    for (const seeded of [prior, current, broken]) {
      const [study] = await db.select().from(studies).where(eq(studies.id, seeded.studyId));
      const [vol] = await db.select().from(volumes).where(eq(volumes.seriesId, seeded.seriesId));
      known.push(
        { what: 'StudyInstanceUID', value: study!.studyInstanceUid },
        { what: 'SeriesInstanceUID', value: seeded.seriesInstanceUid },
        { what: 'accession number', value: study!.accessionNumber! },
        { what: 'study date', value: study!.studyDate! },
        { what: 'study date', value: study!.studyDate!.replace(/-/g, '') },
        { what: 'volume blob key', value: vol!.blobKey },
      );
    }
    known.push(
      { what: 'patient id', value: patientId },
      { what: 'patient id', value: `SCAN-PT2-${run}` },
      { what: 'patient name', value: 'Doe^Jane' },
      { what: 'patient name', value: 'Doe Jane' },
      { what: 'birth date', value: '1956-03-04' },
      { what: 'birth date', value: '19560304' },
      { what: 'blob store folder', value: blobDir },
      { what: 'export folder', value: exportDir },
      ...maskKeys.map((value) => ({ what: 'mask blob key', value })),
    );
    const pseudonyms = pseudonymsFor({ name: projectName, key: KEY }, patientId);
    const [currentStudy] = await db.select().from(studies).where(eq(studies.id, current.studyId));
    pseudonymUids.add(pseudonyms.uid(currentStudy!.studyInstanceUid));
    pseudonymUids.add(pseudonyms.uid(current.seriesInstanceUid));
  });

  afterAll(async () => {
    await services?.close();
    await fs.rm(blobDir, { recursive: true, force: true });
    await fs.rm(exportDir, { recursive: true, force: true });
  });

  it('answers every route a researcher may call without identifiers, UIDs, blob keys or paths', async () => {
    const out: string[] = [];
    const seen = async (where: string, response: Response, status = 200) => {
      expect(response.status, `${where}: ${await response.clone().text()}`).toBe(status);
      await scanResponse(where, response, out);
    };
    const get = async (url: string, status = 200) =>
      seen(`GET ${url}`, await researcher.request(url), status);
    const json = async (response: Response, where: string, status: number) => {
      const copy = response.clone();
      await seen(where, response, status);
      return (await copy.json()) as Json;
    };

    // A radiologist's review, so the log and the export hold reader data too.
    const detail = (await (await radiologist.request(`/api/studies/${current.studyId}`)).json()) as Json;
    const [first] = detail.nodules as Json[];
    const accepted = await post(radiologist, `/api/studies/${current.studyId}/review-actions`, {
      action: 'accept',
      version: detail.review.version,
      noduleId: first!.noduleId,
      comment: 'solid, lower lobe',
    });
    expect(accepted.status).toBe(201);

    // The researcher's own work: project, vocabulary, label, cohorts, snapshots, an export (and the answers).
    const project = await json(
      await post(researcher, '/api/projects', { name: projectName }),
      'POST project',
      201,
    );
    const base = `/api/projects/${project.id}`;
    await json(
      await post(researcher, `${base}/vocabularies`, {
        name: 'malignancy',
        target: 'nodule',
        kind: 'category',
        codes: [
          { code: 'malignant', meaning: 'malignant' },
          { code: 'benign', meaning: 'benign' },
        ],
      }),
      'POST vocabulary',
      201,
    );
    await json(
      await post(researcher, `${base}/labels`, {
        vocabulary: 'malignancy',
        studyId: current.studyId,
        noduleId: first!.noduleId,
        code: 'benign',
        source: 'reader',
        evidence: 'imaging',
      }),
      'POST label',
      201,
    );
    const definitions = {
      current: { institutions: [institution], studyDate: { from: '2025-01-01' } },
      broken: { institutions: [institution], studyDate: { to: '2023-12-31' } },
    };
    await json(
      await post(researcher, `${base}/cohorts/preview`, { definition: definitions.current }),
      'POST preview',
      200,
    );
    const cohorts: Record<string, string> = {};
    const snapshots: Record<string, string> = {};
    for (const [name, definition] of Object.entries(definitions)) {
      const saved = await json(
        await post(researcher, `${base}/cohorts`, { name, definition }),
        'POST cohort',
        201,
      );
      cohorts[name] = saved.cohort.id;
      const snapshot = await json(
        await post(researcher, `/api/cohorts/${saved.cohort.id}/snapshots`, {}),
        'POST snapshot',
        202,
      );
      snapshots[name] = snapshot.id;
    }
    await json(await post(researcher, `/api/snapshots/${snapshots.current}/exports`, {}), 'POST export', 202);

    // Every GET route a researcher may call.
    await get('/api/me');
    await get(`/api/worklist?institution=${institution}`);
    await get('/api/worklist?status=ready,in-review&category=4A,4B,3,2');
    for (const seeded of [current, prior, broken]) {
      await get(`/api/studies/${seeded.studyId}`);
      await get(`/api/studies/${seeded.studyId}/review-actions`);
    }
    const shown = (await (await researcher.request(`/api/studies/${current.studyId}`)).json()) as Json;
    expect(shown.review.lungRads.prior).toMatchObject({ match: expect.any(Object) });
    expect(shown.nodules.map((n: Json) => [n.hasMask, typeof n.ai?.meanDiameterMm])).toEqual([
      [true, 'number'],
      [true, 'number'],
    ]);
    await get(`/api/studies/${current.studyId}/series/${current.seriesId}/slices/0?window=lung`);
    await get(`/api/studies/${current.studyId}/series/${current.seriesId}/slab?first=0&count=2`);
    await get(`/api/studies/${current.studyId}/nodules/${first!.noduleId}/mask`);
    await get('/api/projects');
    await get(`${base}/vocabularies`);
    await get(`${base}/labels`);
    await get(`${base}/labels?studyId=${current.studyId}`);
    for (const name of Object.keys(definitions)) {
      await get(`/api/cohorts/${cohorts[name]}`);
      await get(`/api/snapshots/${snapshots[name]}`);
    }
    const failed = (await (await researcher.request(`/api/snapshots/${snapshots.broken}`)).json()) as Json;
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/does not exist/) });
    await get(`/api/snapshots/${snapshots.broken}/manifest`, 409);
    await get(`/api/snapshots/${snapshots.current}/manifest`);
    await get(`/api/snapshots/${snapshots.current}/archive`);
    await get(`/api/snapshots/${snapshots.current}/exports`);
    await get(`/api/snapshots/${snapshots.current}/agreement`);
    // Refusals name no identifier either.
    await get(`/api/studies/${current.studyId}/sr`, 403);
    await get(`/api/series/${current.seriesInstanceUid}`, 403);

    // An export that fails on a lost blob reports why, without the blob's key or the folder.
    const manifest = (await (
      await researcher.request(`/api/snapshots/${snapshots.current}/manifest`)
    ).json()) as Json;
    const ct = manifest.files.find((f: Json) => f.path.endsWith('/ct.nii.gz'));
    await fs.rm(path.join(exportDir, snapshots.current!, ct.path));
    const volumeBytes = await blobs.get(volumeKey);
    await blobs.delete(volumeKey);
    await json(
      await post(researcher, `/api/snapshots/${snapshots.current}/exports`, {}),
      'POST export again',
      202,
    );
    const lost = (await (
      await researcher.request(`/api/snapshots/${snapshots.current}/exports`)
    ).json()) as Json;
    expect(lost).toMatchObject({ status: 'failed', error: expect.stringMatching(/does not exist/) });
    await get(`/api/snapshots/${snapshots.current}/exports`);
    await blobs.put(volumeKey, volumeBytes);

    expect(out).toEqual([]);
  });

  it('still shows identity-seeing roles what they need (the radiologist sees the prior and the mask key)', async () => {
    const detail = (await (await radiologist.request(`/api/studies/${current.studyId}`)).json()) as Json;
    expect(detail.identity).toMatchObject({ patientName: 'Doe^Jane' });
    expect(detail.review.lungRads.prior).toMatchObject({ studyDate: '2024-03-01' });
    expect(detail.nodules.map((n: Json) => n.ai.maskBlobKey)).toEqual([
      expect.stringMatching(/^masks\//),
      expect.stringMatching(/^masks\//),
    ]);
  });
});
