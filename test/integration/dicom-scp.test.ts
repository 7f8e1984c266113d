import { DCMTK_ENV, dcmtk } from '../fixtures/dcmtk.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertApplicationEntity } from '../../src/db/repositories/application-entities.js';
import { findSeries } from '../../src/db/repositories/series.js';
import { instances, series } from '../../src/db/schema/index.js';
import { readInstanceHeader } from '../../src/dicom/read-instance.js';
import { startDicomScp, type RunningDicomScp } from '../../src/ingest/dicom-scp.js';
import { knownCallersIn } from '../../src/ingest/dimse/known-callers.js';
import { createReceiving } from '../../src/ingest/receiving.js';
import { associateRequest, rawConnection } from '../fixtures/raw-association.js';
import { storeWithAffectedUid } from '../fixtures/store-with-affected-uid.js';
import { institutionOfSeries } from '../fixtures/institution-of-series.js';
import type { IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { sampleDir } from '../fixtures/sample-data.js';
import { syntheticCtInstance, testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

const AE_TITLE = 'NODUS_TEST';
const CALLING_AE = 'TEST_SCU';
const SENDER_INSTITUTION = 'SCP-TEST-SITE';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
/** How long the receiver waits for a peer to close after an abort (src/ingest/dicom-scp.ts). */
const CLOSE_GRACE_MS = 5_000;

/** The data set of a Part 10 file: what follows the File Meta Information group (explicit VR LE). */
function datasetOf(file: Uint8Array): Buffer {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
  expect(bytes.readUInt16LE(132)).toBe(0x0002); // (0002,0000) group length comes first
  return bytes.subarray(144 + bytes.readUInt32LE(140));
}

describe('DICOM receiver (C-ECHO, C-STORE) with DCMTK echoscu/storescu, on real PostgreSQL', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let scp: RunningDicomScp;
  let ingest: IngestDeps;
  let workDir: string;
  const notified: string[] = [];

  beforeAll(async () => {
    services = await connectTestServices();
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-dicom-scp-'));
    ingest = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(path.join(workDir, 'blobs')),
      notifySeries: (_series, sop) => {
        notified.push(sop);
        return Promise.resolve();
      },
    };
    // The test's storescu calls from 127.0.0.1 as TEST_SCU, a sender configured for one institution.
    await upsertApplicationEntity(services.database.db, {
      aeTitle: CALLING_AE,
      address: '127.0.0.1',
      institutionCode: SENDER_INSTITUTION,
    });
    scp = await startDicomScp({
      aeTitle: AE_TITLE,
      host: '127.0.0.1',
      port: 0,
      ingest,
      logger: testLogger,
      callers: knownCallersIn(services.database.db, 0),
    });
  });

  afterAll(async () => {
    await scp?.close();
    await services?.close();
    await fs.rm(workDir, { recursive: true, force: true });
  });

  const peer = () => ['-aet', CALLING_AE, '-aec', AE_TITLE, '127.0.0.1', String(scp.port)];

  /** Writes synthetic instances of one new series into a new folder. */
  async function writeSeries(
    count: number,
    options: Partial<Parameters<typeof syntheticCtInstance>[0]> = {},
  ) {
    const folder = await fs.mkdtemp(path.join(workDir, 'send-'));
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid() };
    const files: { path: string; sopInstanceUid: string; bytes: Uint8Array }[] = [];
    for (let i = 0; i < count; i += 1) {
      const sopInstanceUid = testUid();
      const bytes = syntheticCtInstance({ ...ids, sopInstanceUid, instanceNumber: i + 1, z: i, ...options });
      const file = path.join(folder, `${i}.dcm`);
      await fs.writeFile(file, bytes);
      files.push({ path: file, sopInstanceUid, bytes });
    }
    return { ...ids, folder, files };
  }

  /** The registered instance's database row and the blob it points to. */
  async function storedInstance(sopInstanceUid: string) {
    const [row] = await ingest.db
      .select({ blobKey: instances.blobKey, source: instances.source })
      .from(instances)
      .where(eq(instances.sopInstanceUid, sopInstanceUid));
    if (!row) throw new Error(`instance ${sopInstanceUid} is not registered`);
    return { ...row, blob: await ingest.blobs.get(row.blobKey) };
  }

  it('answers C-ECHO', async () => {
    const echo = await dcmtk('echoscu', peer());
    expect(echo.output).toBe('');
    expect(echo.code).toBe(0);
  });

  it('rejects an association addressed to another AE title', async () => {
    const echo = await dcmtk('echoscu', [
      '-aet',
      CALLING_AE,
      '-aec',
      'SOMEONE_ELSE',
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(echo.code).not.toBe(0);
    expect(echo.output).toMatch(/Association Rejected/);
    expect(echo.output).toMatch(/Called AE Title Not Recognized/);
  });

  it('stores what storescu sends: registered, signalled, and byte-identical to the data set sent', async () => {
    const sent = await writeSeries(3);
    const store = await dcmtk('storescu', [...peer(), '+sd', sent.folder]);
    expect(store.code, store.output).toBe(0);

    // storescu has its Success responses, so the instances are already durable.
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toMatchObject({
      studyInstanceUid: sent.studyInstanceUid,
      instanceCount: 3,
      modality: 'CT',
    });
    for (const file of sent.files) {
      const { blob, source } = await storedInstance(file.sopInstanceUid);
      expect(readInstanceHeader(blob)).toMatchObject({
        sopInstanceUid: file.sopInstanceUid,
        transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
      });
      expect(datasetOf(blob).equals(datasetOf(file.bytes))).toBe(true);
      expect(source).toBe(`dimse:${CALLING_AE}@127.0.0.1`);
      expect(notified).toContain(file.sopInstanceUid);
    }
  });

  it.each([
    { propose: '-xi', transferSyntax: IMPLICIT_VR_LITTLE_ENDIAN },
    { propose: '-xd', transferSyntax: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN },
  ])('stores an instance sent with storescu $propose in the transfer syntax it came in', async (c) => {
    const sent = await writeSeries(1);
    const store = await dcmtk('storescu', [...peer(), c.propose, sent.files[0]!.path]);
    expect(store.code, store.output).toBe(0);
    const { blob } = await storedInstance(sent.files[0]!.sopInstanceUid);
    expect(readInstanceHeader(blob).transferSyntaxUid).toBe(c.transferSyntax);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
  });

  it.each([
    { name: 'RLE Lossless', encoder: 'dcmcrle', propose: '-xr', transferSyntax: '1.2.840.10008.1.2.5' },
    {
      name: 'JPEG-LS Lossless',
      encoder: 'dcmcjpls',
      propose: '-xt',
      transferSyntax: '1.2.840.10008.1.2.4.80',
    },
    {
      name: 'JPEG Lossless SV1',
      encoder: 'dcmcjpeg',
      propose: '-xs',
      transferSyntax: '1.2.840.10008.1.2.4.70',
    },
  ])('stores $name as received, encapsulated pixel data untouched', async (c) => {
    const sent = await writeSeries(1);
    const compressed = path.join(sent.folder, 'compressed.dcm');
    const encode = await dcmtk(c.encoder, [sent.files[0]!.path, compressed]);
    expect(encode.code, encode.output).toBe(0);
    const store = await dcmtk('storescu', [...peer(), c.propose, compressed]);
    expect(store.code, store.output).toBe(0);
    const { blob } = await storedInstance(sent.files[0]!.sopInstanceUid);
    expect(readInstanceHeader(blob).transferSyntaxUid).toBe(c.transferSyntax);
    expect(datasetOf(blob).equals(datasetOf(await fs.readFile(compressed)))).toBe(true);
  });

  it('refuses a non-CT SOP class at presentation-context level', async () => {
    const sent = await writeSeries(1, { sopClassUid: MR_IMAGE_STORAGE, modality: 'MR' });
    // storescu proposes every storage SOP class: the CT ones are accepted, MR has no context.
    const store = await dcmtk('storescu', [...peer(), sent.files[0]!.path]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/No presentation context for: \(MR\)/);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toBeUndefined();
  });

  it('rejects an association whose every proposed presentation context it refuses', async () => {
    const sent = await writeSeries(1, { sopClassUid: MR_IMAGE_STORAGE, modality: 'MR' });
    // -R: propose only the SOP classes of the files, here MR alone.
    const store = await dcmtk('storescu', [...peer(), '-R', sent.files[0]!.path]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/Association Rejected/);
    expect(store.output).not.toMatch(/Association Accepted/);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toBeUndefined();
  });

  it('stores only from configured callers: an unknown AE title is rejected, C-ECHO is answered', async () => {
    const sent = await writeSeries(1);
    const unknown = ['-aet', 'UNKNOWN_SCU', '-aec', AE_TITLE, '127.0.0.1', String(scp.port)];
    const store = await dcmtk('storescu', [...unknown, sent.files[0]!.path]);
    expect(store.code).not.toBe(0);
    expect(store.output).toMatch(/Association Rejected/);
    expect(store.output).toMatch(/Calling AE Title Not Recognized/);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toBeUndefined();
    expect((await dcmtk('echoscu', unknown)).code).toBe(0);
  });

  it("registers a configured caller's instances in its institution, whatever their InstitutionName", async () => {
    const sent = await writeSeries(1, { institutionName: 'Some Other Hospital' });
    expect((await dcmtk('storescu', [...peer(), sent.files[0]!.path])).code).toBe(0);
    expect(await institutionOfSeries(ingest.db, sent.seriesInstanceUid)).toBe(SENDER_INSTITUTION);
  });

  it.each([
    {
      problem: 'no SeriesInstanceUID',
      options: { omit: ['SeriesInstanceUID'] },
      reason: 'missing or invalid SeriesInstanceUID',
    },
    { problem: 'modality MR in a CT object', options: { modality: 'MR' }, reason: 'modality MR is not CT' },
  ])('answers 0xC000 with the reason for an instance with $problem, then keeps serving', async (c) => {
    const bad = await writeSeries(1, c.options);
    const refused = await dcmtk('storescu', ['-d', ...peer(), bad.files[0]!.path]);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/DIMSE Status\s*: 0xc000/);
    expect(refused.output).toContain(`[${c.reason}]`);
    expect(await findSeries(ingest.db, bad.seriesInstanceUid)).toBeUndefined();
    expect(existsSync(path.join(workDir, 'blobs', 'instances', bad.studyInstanceUid))).toBe(false);

    const good = await writeSeries(2);
    const store = await dcmtk('storescu', [...peer(), '+sd', good.folder]);
    expect(store.code, store.output).toBe(0);
    expect(await findSeries(ingest.db, good.seriesInstanceUid)).toMatchObject({ instanceCount: 2 });
  });

  it('answers 0xC111 for a known SOPInstanceUID with other content and keeps the stored one', async () => {
    const sent = await writeSeries(1);
    const original = sent.files[0]!;
    expect((await dcmtk('storescu', [...peer(), original.path])).code).toBe(0);
    // The same file again is an idempotent Success.
    expect((await dcmtk('storescu', [...peer(), original.path])).code).toBe(0);

    const altered = path.join(sent.folder, 'altered.dcm');
    await fs.writeFile(
      altered,
      syntheticCtInstance({
        studyInstanceUid: sent.studyInstanceUid,
        seriesInstanceUid: sent.seriesInstanceUid,
        sopInstanceUid: original.sopInstanceUid,
        pixelSeed: 7,
      }),
    );
    const conflict = await dcmtk('storescu', ['-d', ...peer(), altered]);
    expect(conflict.code).not.toBe(0);
    expect(conflict.output).toMatch(/DIMSE Status\s*: 0xc111: Error: Cannot understand/);
    expect(conflict.output).toContain('[SOP Instance UID already stored with other content]');
    const { blob: stored } = await storedInstance(original.sopInstanceUid);
    expect(datasetOf(stored).equals(datasetOf(original.bytes))).toBe(true);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
  });

  it('keeps serving after connections that send garbage or drop mid-PDU', async () => {
    const send = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(scp.port, '127.0.0.1', () => {
          socket.write(bytes, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', () => resolve());
      });
    // An A-ASSOCIATE-RQ header announcing 1000 bytes, cut after 10.
    await send(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 0x00, 0x00]));
    // Not DICOM at all.
    await send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));

    const echo = await dcmtk('echoscu', peer());
    expect(echo.code, echo.output).toBe(0);
  });

  it('keeps serving when storescu is killed mid-association, and a resend completes the series', async () => {
    const sent = await writeSeries(60);
    const storescu = spawn('storescu', [...peer(), '+sd', sent.folder], { stdio: 'ignore', env: DCMTK_ENV });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      storescu.once('exit', (_, signal) => resolve(signal)),
    );
    const deadline = Date.now() + 30_000;
    while (!notified.includes(sent.files[0]!.sopInstanceUid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    storescu.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const partial = await findSeries(ingest.db, sent.seriesInstanceUid);
    expect(partial?.instanceCount).toBeLessThan(60);
    // The association ended without A-RELEASE: the series' transfer is recorded as interrupted.
    const transfer = async () =>
      (
        await ingest.db
          .select({ open: series.openTransfers, interrupted: series.transferInterrupted })
          .from(series)
          .where(eq(series.seriesInstanceUid, sent.seriesInstanceUid))
      )[0];
    for (let i = 0; i < 100 && (await transfer())?.interrupted !== true; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await transfer()).toEqual({ open: 0, interrupted: true });

    const resend = await dcmtk('storescu', [...peer(), '+sd', sent.folder]);
    expect(resend.code, resend.output).toBe(0);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toMatchObject({ instanceCount: 60 });
    for (let i = 0; i < 100 && (await transfer())?.interrupted !== false; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await transfer()).toEqual({ open: 0, interrupted: false });
  });

  it('aborts an association whose PDU declares more than the negotiated maximum, at its header', async () => {
    const connection = await rawConnection(scp.port);
    connection.socket.write(associateRequest(AE_TITLE, CALLING_AE));
    expect(await connection.pduTypes()).toEqual([0x02]); // A-ASSOCIATE-AC
    // A P-DATA-TF PDU declaring 1 GiB, four times the 256 KiB nodus negotiated; only its header is sent.
    const header = Buffer.from([0x04, 0x00, 0x40, 0x00, 0x00, 0x00]);
    const sentAt = performance.now();
    connection.socket.write(header);
    await connection.closed;
    const pdus = connection.received();
    expect(pdus[pdus.length - 10]).toBe(0x07); // A-ABORT
    expect([...pdus.subarray(pdus.length - 2)]).toEqual([2, 6]); // service provider, invalid PDU parameter
    expect(performance.now() - sentAt).toBeLessThan(CLOSE_GRACE_MS);
    expect((await dcmtk('echoscu', peer())).code).toBe(0);
  });

  it('aborts a PDU over 1 MiB before an association is accepted', async () => {
    const connection = await rawConnection(scp.port);
    connection.socket.write(Buffer.from([0x01, 0x00, 0x7f, 0xff, 0xff, 0xff]));
    await connection.closed;
    expect(connection.received()[0]).toBe(0x07);
  });

  describe('with small limits', () => {
    let limited: RunningDicomScp;
    const limitedPeer = () => ['-aet', CALLING_AE, '-aec', AE_TITLE, '127.0.0.1', String(limited.port)];

    beforeAll(async () => {
      limited = await startDicomScp({
        aeTitle: AE_TITLE,
        host: '127.0.0.1',
        port: 0,
        ingest: {
          ...ingest,
          receiving: createReceiving({
            maxInstanceBytes: 3 * 1024 * 1024,
            spoolAboveBytes: 64 * 1024,
            spoolDir: path.join(workDir, 'spool'),
            memoryBytes: 8 * 1024 * 1024,
          }),
        },
        logger: testLogger,
        callers: knownCallersIn(services.database.db, 0),
        maxAssociations: 1,
      });
    });
    afterAll(() => limited?.close());

    it('receives a data set over the in-memory threshold through a spool file, and leaves no file behind', async () => {
      const sent = await writeSeries(1, { matrix: 1024 }); // 2 MiB
      const store = await dcmtk('storescu', [...limitedPeer(), sent.files[0]!.path]);
      expect(store.code, store.output).toBe(0);
      expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
      expect(await fs.readdir(path.join(workDir, 'spool'))).toEqual([]);
    });

    it('answers a data set over NODUS_MAX_INSTANCE_BYTES with 0xA700 naming the limit', async () => {
      const sent = await writeSeries(1, { matrix: 1536 }); // 4.5 MiB
      const store = await dcmtk('storescu', ['-d', ...limitedPeer(), sent.files[0]!.path]);
      expect(store.output).toMatch(/DIMSE Status\s*: 0xa700/);
      expect(store.output).toContain('[data set over 3145728 bytes]');
      expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toBeUndefined();
      expect(await fs.readdir(path.join(workDir, 'spool'))).toEqual([]);
    });

    it('rejects an association over NODUS_DICOM_MAX_ASSOCIATIONS as a local limit', async () => {
      const holder = await rawConnection(limited.port);
      holder.socket.write(associateRequest(AE_TITLE, CALLING_AE));
      expect(await holder.pduTypes()).toEqual([0x02]);
      const echo = await dcmtk('echoscu', limitedPeer());
      expect(echo.code).not.toBe(0);
      expect(echo.output).toMatch(/Local Limit Exceeded/);
      holder.socket.destroy();
      await holder.closed;
      for (let i = 0; i < 50 && (await dcmtk('echoscu', limitedPeer())).code !== 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await dcmtk('echoscu', limitedPeer())).code).toBe(0);
    });
  });

  it('refuses (0xA900) a C-STORE whose data set is another instance than its Affected SOP Instance UID', async () => {
    const sent = await writeSeries(1);
    const claimed = testUid();
    const status = await storeWithAffectedUid(scp.port, AE_TITLE, CALLING_AE, sent.files[0]!.bytes, claimed);
    expect(status).toBe(0xa900);
    expect(await findSeries(ingest.db, sent.seriesInstanceUid)).toBeUndefined();
  });

  const lidcCase = sampleDir && path.join(sampleDir, 'lidc', 'LIDC-IDRI-0001');
  it.runIf(lidcCase !== undefined && existsSync(lidcCase))(
    'receives a whole LIDC-IDRI CT series',
    async () => {
      const folder = lidcCase!;
      const files = (await fs.readdir(folder, { recursive: true })).filter((f) => f.endsWith('.dcm'));
      const { seriesInstanceUid } = readInstanceHeader(await fs.readFile(path.join(folder, files[0]!)));
      let bytes = 0;
      for (const file of files) bytes += (await fs.stat(path.join(folder, file))).size;

      const started = performance.now();
      const store = await dcmtk('storescu', [...peer(), '+sd', '+r', '+sp', '*.dcm', folder], 170_000);
      const seconds = (performance.now() - started) / 1000;
      expect(store.code, store.output).toBe(0);
      expect(files).toHaveLength(133);
      expect(await findSeries(ingest.db, seriesInstanceUid)).toMatchObject({ instanceCount: 133 });
      const mib = bytes / 1024 ** 2;
      console.log(
        `storescu -> nodus, one association: ${files.length} slices (${mib.toFixed(1)} MiB) in ` +
          `${seconds.toFixed(2)} s = ${(files.length / seconds).toFixed(1)} slices/s, ${(mib / seconds).toFixed(1)} MiB/s`,
      );
    },
  );
});
