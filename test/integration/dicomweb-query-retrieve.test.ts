import dicomParser from 'dicom-parser';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/api/app.js';
import { createApp } from '../../src/api/app.js';
import { parseMediaType, parseMultipartRelated } from '../../src/api/dicomweb/multipart-related.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { storedPixelData } from '../fixtures/stored-pixel-data.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

type DicomJson = Record<
  string,
  { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }
>;

const DERIVED = path.join(sampleDir ?? '/nonexistent', 'robustness/derived');
/** One real Lung_Dx slice in five encodings; dcmtk decoded all of them to the same pixels. */
const ENCODINGS = {
  '1.2.840.10008.1.2.1': 'lungdx_A0001_1-13_explicit_little_endian.dcm',
  '1.2.840.10008.1.2': 'lungdx_A0001_1-13_implicit_little_endian_ORIGINAL.dcm',
  '1.2.840.10008.1.2.4.70': 'lungdx_A0001_1-13_jpeg_lossless_sv1.dcm',
  '1.2.840.10008.1.2.4.80': 'lungdx_A0001_1-13_jpegls_lossless.dcm',
  '1.2.840.10008.1.2.5': 'lungdx_A0001_1-13_rle.dcm',
} as const;
const FRAMES_ANY = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

function parts(response: Response, body: Buffer) {
  const type = parseMediaType(response.headers.get('content-type')!)!;
  expect(type.essence).toBe('multipart/related');
  return parseMultipartRelated(body, type.parameters.boundary!);
}

describe.skipIf(!sampleDir)('DICOMweb query and retrieve on real CT, real PostgreSQL', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let api: ReturnType<typeof createApp>;
  let radiologistA: Awaited<ReturnType<typeof callerWithRole>>;
  let radiologistB: Awaited<ReturnType<typeof callerWithRole>>;
  let researcherA: Awaited<ReturnType<typeof callerWithRole>>;
  const tagRun = `QR${Date.now().toString(36)}`;
  const hospitalA = `QR Hospital A ${tagRun}`;
  const hospitalB = `QR Hospital B ${tagRun}`;
  const lidcStudy = testUid();
  const lidcSeries = testUid();
  const encodedStudy = testUid();
  const otherStudy = testUid();
  const lidcSent: Uint8Array[] = [];
  const encodedSent = new Map<string, { series: string; sop: string; bytes: Uint8Array }>();

  beforeAll(async () => {
    services = await connectTestServices();
    const blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-qr-'));
    const ingest: IngestDeps = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(blobDir),
      notifySeries: () => Promise.resolve(),
    };
    api = createApp({
      db: services.database.db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    const common = { accessionNumber: `ACC-${tagRun}` };
    const files = await lidcSlices(40, 5);
    for (const [n, bytes] of files.entries()) {
      const relabelled = relabelledInstance(bytes, {
        ...common,
        studyInstanceUid: lidcStudy,
        seriesInstanceUid: lidcSeries,
        sopInstanceUid: testUid(),
        patientId: `${tagRun}-1`,
        patientName: 'Doe^Jane',
        studyDate: '20240105',
        institutionName: hospitalA,
        instanceNumber: 5 - n, // stored in the reverse of instance order
      });
      lidcSent.push(relabelled);
      await storeInstance(ingest, relabelled, 'test');
    }
    lidcSent.reverse();
    let seriesNumber = 10;
    for (const [syntax, name] of Object.entries(ENCODINGS)) {
      const bytes = new Uint8Array(await fs.readFile(path.join(DERIVED, name)));
      const ids = { series: testUid(), sop: testUid() };
      const relabelled = relabelledInstance(bytes, {
        ...common,
        studyInstanceUid: encodedStudy,
        seriesInstanceUid: ids.series,
        sopInstanceUid: ids.sop,
        patientId: `${tagRun}-2`,
        patientName: 'Roe^Richard',
        studyDate: '20230310',
        institutionName: hospitalA,
        seriesNumber: seriesNumber++,
      });
      encodedSent.set(syntax, { ...ids, bytes: relabelled });
      await storeInstance(ingest, relabelled, 'test');
    }
    await storeInstance(
      ingest,
      relabelledInstance(files[0]!, {
        ...common,
        studyInstanceUid: otherStudy,
        seriesInstanceUid: testUid(),
        sopInstanceUid: testUid(),
        patientId: `${tagRun}-3`,
        patientName: 'Doe^John',
        studyDate: '20240106',
        institutionName: hospitalB,
      }),
      'test',
    );
    const db = services.database.db;
    radiologistA = await callerWithRole(db, api, 'radiologist', institutionCode(hospitalA));
    radiologistB = await callerWithRole(db, api, 'radiologist', institutionCode(hospitalB));
    researcherA = await callerWithRole(db, api, 'researcher', institutionCode(hospitalA));
  }, 120_000);

  afterAll(async () => {
    await services?.close();
  });

  type Caller = { request(input: string, init?: RequestInit): Response | Promise<Response> };
  const json = async (caller: Caller, url: string, accept?: string) => {
    const response = await caller.request(url, accept ? { headers: { accept } } : {});
    return { response, body: (await response.json()) as DicomJson[] };
  };

  it('QIDO-RS studies: matching by PatientName wildcard (case-insensitive), dates, UID lists; counts', async () => {
    const byName = await json(radiologistA, `/dicomweb/studies?PatientName=*doe*&00100020=${tagRun}-*`);
    expect(byName.response.status).toBe(200);
    expect(byName.response.headers.get('content-type')).toBe('application/dicom+json');
    expect(byName.body.map((s) => s['0020000D']?.Value?.[0])).toEqual([lidcStudy]);
    const study = byName.body[0]!;
    expect(study['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] });
    expect(study['00201206']?.Value).toEqual([1]);
    expect(study['00201208']?.Value).toEqual([5]);
    expect(study['00080061']?.Value).toEqual(['CT']);
    expect(study['00081190']?.Value?.[0]).toBe(`http://localhost/dicomweb/studies/${lidcStudy}`);

    const range = await json(
      radiologistA,
      `/dicomweb/studies?StudyDate=20240101-20240131&PatientID=${tagRun}-*`,
    );
    expect(range.body.map((s) => s['0020000D']?.Value?.[0])).toEqual([lidcStudy]);
    const open = await json(radiologistA, `/dicomweb/studies?StudyDate=20230101-&PatientID=${tagRun}-*`);
    expect(open.body.map((s) => s['0020000D']?.Value?.[0])).toEqual([lidcStudy, encodedStudy]);
    const list = await json(
      radiologistA,
      `/dicomweb/studies?StudyInstanceUID=${lidcStudy}\\${encodedStudy}\\${otherStudy}`,
    );
    expect(list.body).toHaveLength(2); // the third is another institution's
    const encoded = list.body.find((s) => s['0020000D']?.Value?.[0] === encodedStudy)!;
    expect(encoded['00201206']?.Value).toEqual([5]);
  });

  it('QIDO-RS: what OHIF sends (limit, offset, includefield, hex keys, priors by PatientID)', async () => {
    const studyList = await json(
      radiologistA,
      `/dicomweb/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060%2C00080090%2C00100030&00100020=${tagRun}*`,
      'application/dicom+json, application/json, */*',
    );
    expect(studyList.response.status).toBe(200);
    expect(studyList.body).toHaveLength(2);
    expect(studyList.body[0]).toHaveProperty('00081030');
    const page = await json(radiologistA, `/dicomweb/studies?limit=1&offset=1&00100020=${tagRun}*`);
    expect(page.body.map((s) => s['0020000D']?.Value?.[0])).toEqual([encodedStudy]);
    const priors = await json(radiologistA, `/dicomweb/studies?00100020=${tagRun}-1`);
    expect(priors.body).toHaveLength(1);
    const series = await json(
      radiologistA,
      `/dicomweb/studies/${lidcStudy}/series?includefield=0008103E,00080021`,
    );
    expect(series.body).toHaveLength(1);
    expect(series.body[0]!['0020000E']?.Value).toEqual([lidcSeries]);
    expect(series.body[0]!['00201209']?.Value).toEqual([5]);
    expect(series.body[0]!['00080060']?.Value).toEqual(['CT']);
    const empty = await json(radiologistA, `/dicomweb/studies?PatientID=nobody-${tagRun}`);
    expect(empty).toMatchObject({ body: [] });
    expect(empty.response.status).toBe(200);
  });

  it('QIDO-RS instances: ordered by InstanceNumber, image attributes, includefield=all from stored metadata', async () => {
    const { body } = await json(
      radiologistA,
      `/dicomweb/studies/${lidcStudy}/series/${lidcSeries}/instances`,
    );
    expect(body.map((i) => i['00200013']?.Value?.[0])).toEqual([1, 2, 3, 4, 5]);
    expect(body[0]!['00280010']?.Value).toEqual([512]);
    expect(body[0]!['00080016']?.Value).toEqual(['1.2.840.10008.5.1.4.1.1.2']);
    const sop = body[2]!['00080018']!.Value![0] as string;
    const one = await json(radiologistA, `/dicomweb/instances?SOPInstanceUID=${sop}&includefield=all`);
    expect(one.body).toHaveLength(1);
    expect(one.body[0]!['00280030']?.Value).toHaveLength(2); // PixelSpacing, from the stored metadata
    expect(one.body[0]!['00100010']?.Value).toEqual([{ Alphabetic: 'Doe^Jane' }]);
    const inSeries = await json(radiologistA, `/dicomweb/series?SeriesInstanceUID=${lidcSeries}`);
    expect(inSeries.body[0]!['0020000D']?.Value).toEqual([lidcStudy]);
  });

  it('QIDO-RS refuses malformed values naming the attribute, caps limit, never shows other institutions', async () => {
    const bad = await radiologistA.request('/dicomweb/studies?StudyDate=2024-01-01');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/StudyDate/);
    expect((await radiologistA.request('/dicomweb/studies?limit=ten')).status).toBe(400);
    expect((await radiologistA.request('/dicomweb/studies?NotAnAttribute=1')).status).toBe(400);
    expect((await radiologistA.request('/dicomweb/studies?StudyInstanceUID=1.2.x')).status).toBe(400);
    expect((await radiologistA.request('/dicomweb/studies?StudyDate=20240231')).status).toBe(400);
    const capped = await radiologistA.request(`/dicomweb/studies?limit=1000000&PatientID=${tagRun}*`);
    expect(capped.status).toBe(200);
    expect(capped.headers.get('warning')).toMatch(/^299 nodus "limit 1000000 was lowered to 1000"/);
    expect(
      (await radiologistA.request('/dicomweb/studies', { headers: { accept: 'application/dicom+xml' } }))
        .status,
    ).toBe(406);
    const other = await json(radiologistB, `/dicomweb/studies?PatientID=${tagRun}*`);
    expect(other.body.map((s) => s['0020000D']?.Value?.[0])).toEqual([otherStudy]);
    expect((await json(radiologistB, `/dicomweb/studies/${lidcStudy}/series`)).body).toEqual([]);
    expect((await researcherA.request('/dicomweb/studies')).status).toBe(403);
    const noToken = await api.request('/dicomweb/studies');
    expect(noToken.status).toBe(401);
  });

  it('WADO-RS series as stored: every instance byte for byte, Content-Location and transfer syntax per part', async () => {
    const response = await radiologistA.request(`/dicomweb/studies/${lidcStudy}/series/${lidcSeries}`, {
      headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    const received = parts(response, body);
    expect(received).toHaveLength(5);
    for (const [n, part] of received.entries()) {
      expect(Buffer.compare(part.body, Buffer.from(lidcSent[n]!))).toBe(0);
      expect(part.headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    }
    expect(received[0]!.headers['content-location']).toMatch(/^http:\/\/localhost\/dicomweb\/studies\//);
  });

  it('WADO-RS study in Explicit VR Little Endian (the default): compressed and implicit instances transcoded', async () => {
    const response = await radiologistA.request(`/dicomweb/studies/${encodedStudy}`, {
      headers: { accept: 'multipart/related; type="application/dicom"' },
    });
    expect(response.status).toBe(200);
    const received = parts(response, Buffer.from(await response.arrayBuffer()));
    expect(received).toHaveLength(5);
    const reference = storedPixelData(encodedSent.get('1.2.840.10008.1.2.1')!.bytes);
    for (const part of received) {
      const file = new Uint8Array(part.body);
      const parsed = dicomParser.parseDicom(file);
      expect(parsed.string('x00020010')).toBe('1.2.840.10008.1.2.1');
      expect(Buffer.compare(Buffer.from(storedPixelData(file)), Buffer.from(reference))).toBe(0);
    }
  });

  it("WADO-RS frames: stored bitstreams with transfer-syntax=*, decoded pixels equal to dcmtk's for every encoding", async () => {
    const reference = Buffer.from(storedPixelData(encodedSent.get('1.2.840.10008.1.2.1')!.bytes));
    for (const [syntax, sent] of encodedSent) {
      const url = `/dicomweb/studies/${encodedStudy}/series/${sent.series}/instances/${sent.sop}/frames/1`;
      const asStored = await radiologistA.request(url, { headers: { accept: FRAMES_ANY } });
      expect(asStored.status, syntax).toBe(200);
      const [storedPart] = parts(asStored, Buffer.from(await asStored.arrayBuffer()));
      expect(storedPart!.headers['content-type']).toContain(`transfer-syntax=${syntax}`);
      expect(Buffer.compare(storedPart!.body, Buffer.from(storedPixelData(sent.bytes))), syntax).toBe(0);

      const decoded = await radiologistA.request(url, {
        headers: { accept: 'multipart/related; type="application/octet-stream"' },
      });
      const [decodedPart] = parts(decoded, Buffer.from(await decoded.arrayBuffer()));
      expect(decodedPart!.headers['content-type']).toBe(
        'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1',
      );
      expect(Buffer.compare(decodedPart!.body, reference), syntax).toBe(0);
    }
    const jls = encodedSent.get('1.2.840.10008.1.2.4.80')!;
    const base = `/dicomweb/studies/${encodedStudy}/series/${jls.series}/instances/${jls.sop}`;
    const asJls = await radiologistA.request(`${base}/frames/1`, {
      headers: { accept: 'multipart/related; type="image/jls"' },
    });
    expect(asJls.status).toBe(200);
    expect(parts(asJls, Buffer.from(await asJls.arrayBuffer()))[0]!.headers['content-type']).toBe(
      'image/jls; transfer-syntax=1.2.840.10008.1.2.4.80',
    );
    const asJp2 = await radiologistA.request(`${base}/frames/1`, {
      headers: { accept: 'multipart/related; type="image/jp2"' },
    });
    expect(asJp2.status).toBe(406);
    expect((await radiologistA.request(`${base}/frames/2`, { headers: { accept: FRAMES_ANY } })).status).toBe(
      404,
    );
    expect(
      (await radiologistA.request(`${base}/frames/one`, { headers: { accept: FRAMES_ANY } })).status,
    ).toBe(400);
  });

  it('WADO-RS metadata: one data set per instance, BulkDataURI of the pixel data resolves to its bytes', async () => {
    const { response, body } = await json(
      radiologistA,
      `/dicomweb/studies/${lidcStudy}/series/${lidcSeries}/metadata`,
    );
    expect(response.status).toBe(200);
    expect(body).toHaveLength(5);
    const first = body[0]!;
    expect(first['00280030']?.Value).toHaveLength(2);
    expect(first['0020000D']?.Value).toEqual([lidcStudy]);
    const uri = first['7FE00010']!.BulkDataURI!;
    expect(uri).toMatch(/^http:\/\/localhost\/dicomweb\/studies\/.+\/bulkdata\/7FE00010$/);
    const bulk = await radiologistA.request(new URL(uri).pathname, { headers: { accept: FRAMES_ANY } });
    expect(bulk.status).toBe(200);
    const [pixels] = parts(bulk, Buffer.from(await bulk.arrayBuffer()));
    expect(Buffer.compare(pixels!.body, Buffer.from(storedPixelData(lidcSent[0]!)))).toBe(0);
  });

  it('WADO-RS rendered and thumbnail are PNG; unknown and foreign UIDs are 404; researchers 403', async () => {
    const base = `/dicomweb/studies/${lidcStudy}/series/${lidcSeries}`;
    const instances = await json(radiologistA, `${base}/instances`);
    const sop = instances.body[0]!['00080018']!.Value![0] as string;
    const rendered = await radiologistA.request(
      `${base}/instances/${sop}/rendered?window=-600,1500&viewport=256,256`,
      {
        headers: { accept: 'image/png' },
      },
    );
    expect(rendered.status).toBe(200);
    const png = Buffer.from(await rendered.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(256); // width in IHDR
    const asJpeg = await radiologistA.request(`${base}/instances/${sop}/rendered`, {
      headers: { accept: 'image/jpeg' },
    });
    expect(asJpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(
      Buffer.from(await asJpeg.arrayBuffer())
        .subarray(0, 2)
        .toString('hex'),
    ).toBe('ffd8');
    const thumbnail = await radiologistA.request(`${base}/thumbnail`);
    expect(thumbnail.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await thumbnail.arrayBuffer()).readUInt32BE(16)).toBe(128);
    expect((await radiologistA.request(`${base}/instances/${sop}/rendered?window=abc`)).status).toBe(400);
    expect((await radiologistA.request(`/dicomweb/studies/${testUid()}`)).status).toBe(404);
    expect((await radiologistB.request(`${base}/metadata`)).status).toBe(404);
    expect((await radiologistB.request(`/dicomweb/studies/${lidcStudy}`)).status).toBe(404);
    expect((await researcherA.request(`${base}/metadata`)).status).toBe(403);
    expect(
      (
        await radiologistA.request(base, {
          headers: {
            accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50',
          },
        })
      ).status,
    ).toBe(406);
  });

  it('WADO-URI: the stored file, Explicit VR LE on request, a PNG; bad parameters named', async () => {
    const jls = encodedSent.get('1.2.840.10008.1.2.4.80')!;
    const query = `requestType=WADO&studyUID=${encodedStudy}&seriesUID=${jls.series}&objectUID=${jls.sop}`;
    const asStored = await radiologistA.request(`/wado?${query}&contentType=application/dicom`);
    expect(asStored.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await asStored.arrayBuffer()), Buffer.from(jls.bytes))).toBe(0);
    const explicit = await radiologistA.request(
      `/dicomweb/wado?${query}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1`,
    );
    const file = new Uint8Array(await explicit.arrayBuffer());
    expect(dicomParser.parseDicom(file).string('x00020010')).toBe('1.2.840.10008.1.2.1');
    expect(
      Buffer.compare(
        Buffer.from(storedPixelData(file)),
        Buffer.from(storedPixelData(encodedSent.get('1.2.840.10008.1.2.1')!.bytes)),
      ),
    ).toBe(0);
    const png = await radiologistA.request(
      `/wado?${query}&contentType=image/png&windowCenter=40&windowWidth=400&rows=64&columns=64`,
    );
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).readUInt32BE(16)).toBe(64);
    // JPEG is WADO-URI's default: a JFIF file of the asked size (SOF0 height and width).
    const jpeg = Buffer.from(
      await (await radiologistA.request(`/wado?${query}&rows=100&columns=100`)).arrayBuffer(),
    );
    expect(jpeg.subarray(0, 3).toString('hex')).toBe('ffd8ff');
    const sof = jpeg.findIndex((byte, i) => byte === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2));
    expect([jpeg.readUInt16BE(sof + 5), jpeg.readUInt16BE(sof + 7)]).toEqual([100, 100]);
    expect((await radiologistA.request(`/wado?${query}&contentType=image/gif`)).status).toBe(406);
    const missing = await radiologistA.request(`/wado?requestType=WADO&studyUID=${encodedStudy}`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/seriesUID/);
    expect((await radiologistB.request(`/wado?${query}`)).status).toBe(404);
  });

  it('CORS for a viewer on another origin: preflight without a token, headers on answers', async () => {
    const withCors = createApp({
      db: services.database.db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {
        db: services.database.db,
        blobs: new FilesystemBlobStore(os.tmpdir()),
        notifySeries: () => Promise.resolve(),
      },
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      corsOrigins: ['https://viewer.example.org'],
    });
    const preflight = await withCors.request('/dicomweb/studies', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://viewer.example.org',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://viewer.example.org');
    const other = await withCors.request('/dicomweb/studies', {
      headers: { origin: 'https://evil.example.org' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(
      (
        await api.request('/dicomweb/studies', { headers: { origin: 'https://viewer.example.org' } })
      ).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('every retrieve is audited with its caller', async () => {
    const rows = await services.database.sql<{ action: string; resource_id: string }[]>`
      select e.action, e.resource_id from audit_events e where e.actor_user_id = ${radiologistA.userId}::uuid
        and e.action like 'dicomweb.%'`;
    expect(rows.some((r) => r.action === 'dicomweb.retrieve' && r.resource_id === lidcSeries)).toBe(true);
    expect(rows.some((r) => r.action === 'dicomweb.query')).toBe(true);
  });
});
