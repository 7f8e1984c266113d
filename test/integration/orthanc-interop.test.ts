import { serve, type ServerType } from '@hono/node-server';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertApplicationEntity } from '../../src/db/repositories/application-entities.js';
import { findSeries } from '../../src/db/repositories/series.js';
import { createUser, issueToken } from '../../src/db/repositories/users.js';
import { instances, quarantinedInstances } from '../../src/db/schema/index.js';
import { readInstanceHeader } from '../../src/dicom/read-instance.js';
import { findFreePort, waitForPort } from '../../src/embedded/free-port.js';
import { startDicomScp, type RunningDicomScp } from '../../src/ingest/dicom-scp.js';
import { knownCallersIn } from '../../src/ingest/dimse/known-callers.js';
import { datasetSha256, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { DCMTK_ENV } from '../fixtures/dcmtk.js';
import { institutionOfSeries } from '../fixtures/institution-of-series.js';
import { ORTHANC_BINARY, startOrthanc, type RunningOrthanc } from '../fixtures/orthanc.js';
import { sampleDir } from '../fixtures/sample-data.js';
import { storedPixelData } from '../fixtures/stored-pixel-data.js';
import { ingestTestApp } from '../fixtures/ingest-app.js';
import { connectTestServices, testLogger } from './services.js';

const CPTAC_CASE = sampleDir && path.join(sampleDir, 'cptac-luad', 'C3N-00247');
const SITE = 'ORTHANC-INTEROP-SITE';

/**
 * Orthanc 1.10 with its DICOMweb plugin, started by the test, as a hospital's PACS sending to nodus: the same
 * real CT study (CPTAC-LUAD C3N-00247, 99 slices whose sequences have undefined lengths) by STOW-RS, then by
 * C-STORE.
 */
describe.runIf(CPTAC_CASE !== undefined && existsSync(CPTAC_CASE) && existsSync(ORTHANC_BINARY))(
  'Orthanc sends a study to nodus by STOW-RS and by C-STORE',
  () => {
    let services: Awaited<ReturnType<typeof connectTestServices>>;
    let work: string;
    let ingest: IngestDeps;
    let server: ServerType;
    let apiPort: number;
    let scp: RunningDicomScp;
    let orthanc: RunningOrthanc;
    let studyId: string;
    let files: Buffer[];

    beforeAll(async () => {
      services = await connectTestServices();
      work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-orthanc-'));
      ingest = {
        db: services.database.db,
        blobs: new FilesystemBlobStore(path.join(work, 'blobs')),
        notifySeries: () => Promise.resolve(),
      };
      const app = ingestTestApp(services.database.db, ingest);
      server = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
      });
      apiPort = (server.address() as { port: number }).port;
      // The PACS is known to nodus: its AE title and address, and a token of a radiologist, both of one site.
      await upsertApplicationEntity(services.database.db, {
        aeTitle: 'ORTHANC',
        address: '127.0.0.1',
        institutionCode: SITE,
      });
      scp = await startDicomScp({
        aeTitle: 'NODUS',
        host: '127.0.0.1',
        port: 0,
        ingest,
        logger: testLogger,
        callers: knownCallersIn(services.database.db, 0),
      });
      const user = await createUser(services.database.db, {
        email: `pacs-${Date.now()}@example.org`,
        displayName: 'PACS^Gateway',
        role: 'radiologist',
        institutionCodes: [SITE],
      });
      const { token } = await issueToken(services.database.db, user.id, { label: 'orthanc' });

      orthanc = await startOrthanc(work);
      const names = (await fs.readdir(CPTAC_CASE!)).filter((f) => f.endsWith('.dcm')).sort();
      files = await Promise.all(names.map((name) => fs.readFile(path.join(CPTAC_CASE!, name))));
      for (const file of files) await orthanc.rest('POST', '/instances', file);
      studyId = (await orthanc.rest<string[]>('GET', '/studies'))[0]!;
      await orthanc.rest('PUT', '/dicom-web/servers/nodus', {
        Url: `http://127.0.0.1:${apiPort}/dicomweb/`,
        HttpHeaders: { Authorization: `Bearer ${token}` },
      });
      await orthanc.rest('PUT', '/modalities/nodus', { AET: 'NODUS', Host: '127.0.0.1', Port: scp.port });
    });

    afterAll(async () => {
      await orthanc?.stop();
      await scp?.close();
      await new Promise((resolve) => server?.close(resolve));
      await services?.close();
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    const header = () => readInstanceHeader(files[0]!);
    const sopUids = () => files.map((file) => readInstanceHeader(file).sopInstanceUid);
    async function storedRows() {
      return services.database.db
        .select({ sop: instances.sopInstanceUid, blobKey: instances.blobKey, source: instances.source })
        .from(instances)
        .where(inArray(instances.sopInstanceUid, sopUids()));
    }

    it('STOW-RS: Orthanc (73-character multipart boundary) stores the whole study', async () => {
      expect(files).toHaveLength(99);
      await orthanc.rest('POST', '/dicom-web/servers/nodus/stow', {
        Resources: [studyId],
        Synchronous: true,
      });
      const series = await findSeries(services.database.db, header().seriesInstanceUid);
      expect(series).toMatchObject({ instanceCount: 99 });
      expect(await institutionOfSeries(services.database.db, header().seriesInstanceUid)).toBe(SITE);
      const rows = await storedRows();
      expect(rows).toHaveLength(99);
      expect(rows.every((row) => row.source.startsWith('stow-rs:'))).toBe(true);
    });

    it('Orthanc re-encodes the data set on C-STORE (seen by DCMTK storescp), so its bytes differ', async () => {
      const capture = path.join(work, 'storescp');
      await fs.mkdir(capture);
      const port = await findFreePort();
      const storescp = spawn('storescp', ['-aet', 'CAPTURE', '-od', capture, String(port)], {
        env: DCMTK_ENV,
        stdio: 'ignore',
      });
      try {
        await waitForPort('127.0.0.1', port, 10_000);
        await orthanc.rest('PUT', '/modalities/capture', { AET: 'CAPTURE', Host: '127.0.0.1', Port: port });
        const [instanceId] = await orthanc.rest<string[]>('GET', '/instances');
        await orthanc.rest('POST', '/modalities/capture/store', {
          Resources: [instanceId],
          Synchronous: true,
        });
        const [received] = await fs.readdir(capture);
        const bytes = await fs.readFile(path.join(capture, received!));
        const sent = files.find(
          (file) => readInstanceHeader(file).sopInstanceUid === readInstanceHeader(bytes).sopInstanceUid,
        )!;
        expect(datasetSha256(bytes)).not.toBe(datasetSha256(sent));
      } finally {
        storescp.kill('SIGKILL');
      }
    });

    it('C-STORE of the same study afterwards: the job succeeds and every instance is stored once', async () => {
      const before = await storedRows();
      const job = await orthanc.rest<{ FailedInstancesCount: number; InstancesCount: number }>(
        'POST',
        '/modalities/nodus/store',
        { Resources: [studyId], Synchronous: true },
      );
      expect(job).toMatchObject({ FailedInstancesCount: 0, InstancesCount: 99 });
      expect(await findSeries(services.database.db, header().seriesInstanceUid)).toMatchObject({
        instanceCount: 99,
      });
      // Duplicates: the rows and their blobs are the ones STOW-RS stored, no second blob, nothing kept aside.
      expect(await storedRows()).toEqual(before);
      const seriesFolder = path.join(
        work,
        'blobs',
        'instances',
        header().studyInstanceUid,
        header().seriesInstanceUid,
      );
      expect(await fs.readdir(seriesFolder)).toHaveLength(99);
      const quarantined = await services.database.db
        .select()
        .from(quarantinedInstances)
        .where(eq(quarantinedInstances.seriesInstanceUid, header().seriesInstanceUid));
      expect(quarantined).toEqual([]);
    });

    it("Orthanc's DICOMweb client queries nodus (QIDO-RS) and retrieves the whole study (WADO-RS): count and pixels equal", async () => {
      const uid = header().studyInstanceUid;
      const found = await orthanc.rest<Record<string, { Value?: unknown[] }>[]>(
        'POST',
        '/dicom-web/servers/nodus/get',
        {
          Uri: '/studies',
          Arguments: { StudyInstanceUID: uid, includefield: '00081030' },
        },
      );
      expect(found).toHaveLength(1);
      expect(found[0]!['00201208']?.Value).toEqual([99]);
      const series = await orthanc.rest<unknown[]>('POST', '/dicom-web/servers/nodus/get', {
        Uri: `/studies/${uid}/series`,
      });
      expect(series).toHaveLength(1);
      // Orthanc forgets the study, then takes it back from nodus.
      await orthanc.rest('DELETE', `/studies/${studyId}`);
      expect(await orthanc.rest<string[]>('GET', '/instances')).toEqual([]);
      await orthanc.rest('POST', '/dicom-web/servers/nodus/retrieve', { Resources: [{ Study: uid }] });
      const retrieved = await orthanc.rest<string[]>('GET', '/instances');
      expect(retrieved).toHaveLength(99);
      const pixelsOf = (bytes: Uint8Array) => storedPixelData(bytes).toString('hex');
      const sent = new Map(files.map((file) => [readInstanceHeader(file).sopInstanceUid, pixelsOf(file)]));
      for (const id of retrieved) {
        const bytes = new Uint8Array(
          await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer(),
        );
        expect(pixelsOf(bytes)).toBe(sent.get(readInstanceHeader(bytes).sopInstanceUid));
      }
      studyId = (await orthanc.rest<string[]>('GET', '/studies'))[0]!;
    });

    it('STOW-RS of the same study again is a success, as C-STORE was', async () => {
      await orthanc.rest('POST', '/dicom-web/servers/nodus/stow', {
        Resources: [studyId],
        Synchronous: true,
      });
      expect(await findSeries(services.database.db, header().seriesInstanceUid)).toMatchObject({
        instanceCount: 99,
      });
    });
  },
);
