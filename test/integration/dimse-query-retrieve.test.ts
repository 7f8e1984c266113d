import dcmjs from 'dcmjs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertApplicationEntity } from '../../src/db/repositories/application-entities.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { findFreePort } from '../../src/embedded/free-port.js';
import { startDicomScp, type RunningDicomScp } from '../../src/ingest/dicom-scp.js';
import { knownCallersIn } from '../../src/ingest/dimse/known-callers.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { DCMTK_ENV, dcmtk } from '../fixtures/dcmtk.js';
import { startOrthanc, type RunningOrthanc } from '../fixtures/orthanc.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { storedPixelData } from '../fixtures/stored-pixel-data.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

const AE = 'NODUS_QR';
const SCU = 'QR_SCU';
const DESTINATION = 'QR_DEST';
const ORTHANC_AE = 'ORTHANC_QR';
const JLS = path.join(
  sampleDir ?? '/nonexistent',
  'robustness/derived/lungdx_A0001_1-13_jpegls_lossless.dcm',
);

async function dicomFiles(dir: string): Promise<Uint8Array[]> {
  const names = (await fs.readdir(dir)).sort();
  return Promise.all(names.map(async (n) => new Uint8Array(await fs.readFile(path.join(dir, n)))));
}

function naturalized(bytes: Uint8Array): Record<string, unknown> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dcmjs.data.DicomMessage.readFile(buffer).dict);
}

describe.skipIf(!sampleDir)(
  'DIMSE query/retrieve (C-FIND, C-MOVE, C-GET) with DCMTK and Orthanc, real PostgreSQL',
  () => {
    let services: Awaited<ReturnType<typeof connectTestServices>>;
    let scp: RunningDicomScp;
    let work: string;
    let destination: ChildProcess | undefined;
    let destinationPort: number;
    let orthanc: RunningOrthanc;
    const tag = `DQ${Date.now().toString(36)}`;
    const hospital = `DIMSE QR Hospital ${tag}`;
    const otherHospital = `DIMSE QR Other ${tag}`;
    const study = testUid();
    const ctSeries = testUid();
    const jlsSeries = testUid();
    const foreignStudy = testUid();
    const ctSent: Uint8Array[] = [];
    let jlsSent: Uint8Array;

    beforeAll(async () => {
      services = await connectTestServices();
      work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-dimse-qr-'));
      const ingest: IngestDeps = {
        db: services.database.db,
        blobs: new FilesystemBlobStore(path.join(work, 'blobs')),
        notifySeries: () => Promise.resolve(),
      };
      const common = { patientName: 'Qr^Patient', studyDate: '20250607', accessionNumber: `A-${tag}` };
      for (const [n, slice] of (await lidcSlices(60, 4)).entries()) {
        const bytes = relabelledInstance(slice, {
          ...common,
          studyInstanceUid: study,
          seriesInstanceUid: ctSeries,
          sopInstanceUid: testUid(),
          patientId: `${tag}-1`,
          institutionName: hospital,
          seriesNumber: 1,
          instanceNumber: n + 1,
        });
        ctSent.push(bytes);
        await storeInstance(ingest, bytes, 'test');
      }
      jlsSent = relabelledInstance(new Uint8Array(await fs.readFile(JLS)), {
        ...common,
        studyInstanceUid: study,
        seriesInstanceUid: jlsSeries,
        sopInstanceUid: testUid(),
        patientId: `${tag}-1`,
        institutionName: hospital,
        seriesNumber: 2,
      });
      await storeInstance(ingest, jlsSent, 'test');
      await storeInstance(
        ingest,
        relabelledInstance(ctSent[0]!, {
          ...common,
          studyInstanceUid: foreignStudy,
          seriesInstanceUid: testUid(),
          sopInstanceUid: testUid(),
          patientId: `${tag}-2`,
          institutionName: otherHospital,
        }),
        'test',
      );
      for (const aeTitle of [SCU, ORTHANC_AE]) {
        await upsertApplicationEntity(services.database.db, {
          aeTitle,
          address: '127.0.0.1',
          institutionCode: institutionCode(hospital),
        });
      }
      // The C-MOVE destination: DCMTK's storescp, and Orthanc.
      destinationPort = await findFreePort();
      await fs.mkdir(path.join(work, 'moved'));
      destination = spawn(
        'storescp',
        ['-aet', DESTINATION, '-od', path.join(work, 'moved'), '+xa', String(destinationPort)],
        {
          env: DCMTK_ENV,
          stdio: 'ignore',
        },
      );
      orthanc = await startOrthanc(work, ORTHANC_AE);
      scp = await startDicomScp({
        aeTitle: AE,
        host: '127.0.0.1',
        port: 0,
        ingest,
        logger: testLogger,
        callers: knownCallersIn(services.database.db, 0),
        peers: [
          { aeTitle: DESTINATION, host: '127.0.0.1', port: destinationPort },
          { aeTitle: ORTHANC_AE, host: '127.0.0.1', port: orthanc.dicomPort },
        ],
      });
      await orthanc.rest('PUT', '/modalities/nodus', { AET: AE, Host: '127.0.0.1', Port: scp.port });
    }, 120_000);

    afterAll(async () => {
      destination?.kill();
      await orthanc?.stop();
      await scp?.close();
      await services?.close();
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    const find = async (level: string, keys: string[], out: string) => {
      await fs.mkdir(out, { recursive: true });
      const args = ['-S', '-aet', SCU, '-aec', AE, '-X', '-od', out, '-k', `QueryRetrieveLevel=${level}`];
      for (const key of keys) args.push('-k', key);
      const result = await dcmtk('findscu', [...args, '127.0.0.1', String(scp.port)]);
      expect(result.code, result.output).toBe(0);
      return (await dicomFiles(out)).map(naturalized);
    };

    it('findscu at study, series and image level: the same matching as QIDO-RS, counts, other institutions unseen', async () => {
      const studies = await find(
        'STUDY',
        [
          `PatientID=${tag}-*`,
          'StudyInstanceUID',
          'PatientName',
          'NumberOfStudyRelatedSeries',
          'NumberOfStudyRelatedInstances',
          'ModalitiesInStudy',
          'StudyDate=20250101-20251231',
        ],
        path.join(work, 'find-study'),
      );
      expect(studies).toHaveLength(1);
      expect(studies[0]).toMatchObject({
        StudyInstanceUID: study,
        NumberOfStudyRelatedSeries: 2,
        NumberOfStudyRelatedInstances: 5,
        ModalitiesInStudy: 'CT',
        QueryRetrieveLevel: 'STUDY',
        RetrieveAETitle: AE,
      });
      expect(JSON.stringify(studies[0]!.PatientName)).toContain('Qr^Patient');

      const series = await find(
        'SERIES',
        [
          `StudyInstanceUID=${study}`,
          'SeriesInstanceUID',
          'SeriesNumber',
          'NumberOfSeriesRelatedInstances',
          'Modality',
        ],
        path.join(work, 'find-series'),
      );
      expect(series.map((s) => [s.SeriesInstanceUID, s.NumberOfSeriesRelatedInstances])).toEqual([
        [ctSeries, 4],
        [jlsSeries, 1],
      ]);
      const images = await find(
        'IMAGE',
        [`StudyInstanceUID=${study}`, `SeriesInstanceUID=${ctSeries}`, 'SOPInstanceUID', 'InstanceNumber'],
        path.join(work, 'find-image'),
      );
      expect(images.map((i) => i.InstanceNumber)).toEqual([1, 2, 3, 4]);
      const foreign = await find(
        'STUDY',
        [`StudyInstanceUID=${foreignStudy}`],
        path.join(work, 'find-foreign'),
      );
      expect(foreign).toEqual([]);
    });

    it('getscu retrieves a study on the same association: every instance, pixel data unchanged', async () => {
      const out = path.join(work, 'got');
      await fs.mkdir(out);
      const result = await dcmtk('getscu', [
        '-S',
        '-aet',
        SCU,
        '-aec',
        AE,
        '-od',
        out,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${study}`,
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(result.code, result.output).toBe(0);
      const got = await dicomFiles(out);
      expect(got).toHaveLength(5);
      const sent = new Map([...ctSent, jlsSent].map((b) => [naturalized(b).SOPInstanceUID as string, b]));
      for (const file of got) {
        const original = sent.get(naturalized(file).SOPInstanceUID as string)!;
        expect(original).toBeDefined();
        if (original === jlsSent) continue; // getscu proposes uncompressed only: decoded (checked below)
        expect(Buffer.compare(storedPixelData(file), storedPixelData(original))).toBe(0);
      }
      const decoded = got.find((f) => naturalized(f).SOPInstanceUID === naturalized(jlsSent).SOPInstanceUID)!;
      expect(storedPixelData(decoded).byteLength).toBe(512 * 512 * 2);
    });

    it('movescu sends a series to a configured destination; an unknown destination is refused', async () => {
      const result = await dcmtk('movescu', [
        '-S',
        '-aet',
        SCU,
        '-aec',
        AE,
        '-aem',
        DESTINATION,
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${study}`,
        '-k',
        `SeriesInstanceUID=${ctSeries}`,
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(result.code, result.output).toBe(0);
      const moved = await dicomFiles(path.join(work, 'moved'));
      expect(moved).toHaveLength(4);
      expect(moved.map((f) => storedPixelData(f).toString('hex')).sort()).toEqual(
        ctSent.map((f) => storedPixelData(f).toString('hex')).sort(),
      );
      const unknown = await dcmtk('movescu', [
        '-S',
        '-aet',
        SCU,
        '-aec',
        AE,
        '-aem',
        'NOWHERE',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${study}`,
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(unknown.output).toMatch(/MoveDestinationUnknown/);
    });

    it('an AE that is not configured cannot query', async () => {
      const result = await dcmtk('findscu', [
        '-S',
        '-aet',
        'STRANGER',
        '-aec',
        AE,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${study}`,
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(result.code).not.toBe(0);
    });

    it('Orthanc queries nodus as a modality and C-MOVEs the study to itself: instance count and pixels equal', async () => {
      const query = await orthanc.rest<{ ID: string }>('POST', '/modalities/nodus/query', {
        Level: 'Study',
        Query: { PatientID: `${tag}-*`, StudyInstanceUID: '' },
      });
      const answers = await orthanc.rest<string[]>('GET', `/queries/${query.ID}/answers`);
      expect(answers).toHaveLength(1);
      const content = await orthanc.rest<Record<string, { Value: string }>>(
        'GET',
        `/queries/${query.ID}/answers/0/content`,
      );
      expect(content['0020,000d']?.Value).toBe(study);
      await orthanc.rest('POST', `/queries/${query.ID}/answers/0/retrieve`, {
        TargetAet: ORTHANC_AE,
        Synchronous: true,
      });
      const instances = await orthanc.rest<string[]>('GET', '/instances');
      expect(instances).toHaveLength(5);
      for (const id of instances) {
        const file = new Uint8Array(await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer());
        const sop = naturalized(file).SOPInstanceUID as string;
        const original = [...ctSent, jlsSent].find((b) => naturalized(b).SOPInstanceUID === sop)!;
        expect(Buffer.compare(storedPixelData(file), storedPixelData(original))).toBe(0);
      }
    });
  },
);
