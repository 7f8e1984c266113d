import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSeries } from '../../src/db/repositories/series.js';
import { series as seriesTable } from '../../src/db/schema/index.js';
import { createReceiving } from '../../src/ingest/receiving.js';
import type { IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { authorized, seedTestAdminToken } from '../fixtures/authorized.js';
import { syntheticCtInstance, testUid } from '../fixtures/synthetic-instance.js';
import { ingestTestApp } from '../fixtures/ingest-app.js';
import { connectTestServices } from './services.js';

const MiB = 1024 * 1024;
const BOUNDARY = 'limits-boundary';
const CONTENT_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

/** A request body streamed part by part, never held whole: `parts` parts made by `part(i)`. */
function streamedBody(parts: number, part: (index: number) => Uint8Array, cutAfter?: number) {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (cutAfter !== undefined && index === cutAfter) {
        controller.error(new Error('client went away'));
        return;
      }
      if (index === parts) {
        controller.enqueue(Buffer.from(`--${BOUNDARY}--\r\n`));
        controller.close();
        return;
      }
      controller.enqueue(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`));
      controller.enqueue(part(index));
      controller.enqueue(Buffer.from('\r\n'));
      index += 1;
    },
  });
}

/** The error envelope of a response (read once, then cached). */
const errors = new WeakMap<Response, Promise<{ code: string; message: string }>>();
function errorOf(response: Response) {
  let error = errors.get(response);
  if (!error) {
    error = response.json().then((body) => (body as { error: { code: string; message: string } }).error);
    errors.set(response, error);
  }
  return error;
}

describe('STOW-RS body limits and bounded memory, on real PostgreSQL', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let work: string;
  let ingest: IngestDeps;
  let app: ReturnType<typeof authorized>;

  beforeAll(async () => {
    services = await connectTestServices();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-stow-limits-'));
    ingest = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(path.join(work, 'blobs')),
      notifySeries: () => Promise.resolve(),
      receiving: createReceiving({
        maxInstanceBytes: 4 * MiB,
        spoolAboveBytes: 1 * MiB,
        spoolDir: path.join(work, 'spool'),
        memoryBytes: 64 * MiB,
      }),
    };
    const api = ingestTestApp(services.database.db, ingest, {
      stowMaxRequestBytes: 2048 * MiB,
      maxJsonBytes: 64 * 1024,
    });
    app = authorized(api, await seedTestAdminToken(services.database.db));
  });

  afterAll(async () => {
    await services?.close();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const post = (body: ReadableStream<Uint8Array> | Buffer, headers: Record<string, string> = {}) =>
    app.request('/dicomweb/studies', {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE, ...headers },
      body,
      duplex: 'half',
    });

  it('reads a 1 GiB body of 2048 parts with memory that does not grow with the body', async () => {
    // Parts that are not DICOM are refused one by one: the body is read to its end, part by part.
    const part = Buffer.alloc(512 * 1024, 0x5a);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const response = await post(streamedBody(2048, () => part));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(response.status).toBe(409);
    const json = (await response.json()) as Record<string, { Value?: unknown[] }>;
    expect(json['00081198']?.Value).toHaveLength(2048);
    const grownMiB = (peak - baseline) / MiB;
    console.log(`STOW-RS 1 GiB body (2048 x 512 KiB parts): RSS grew ${grownMiB.toFixed(0)} MiB at peak`);
    expect(grownMiB).toBeLessThan(256);
  });

  it('refuses a body whose Content-Length is over the limit with 413 naming it, reading nothing', async () => {
    const small = ingestTestApp(services.database.db, ingest, { stowMaxRequestBytes: 1 * MiB });
    const admin = authorized(small, await seedTestAdminToken(services.database.db));
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const response = await admin.request('/dicomweb/studies', {
      method: 'POST',
      headers: { 'Content-Type': CONTENT_TYPE, 'Content-Length': String(2 * MiB) },
      body: streamedBody(1, () => syntheticCtInstance(ids)),
      duplex: 'half',
    });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await errorOf(response)).message).toContain('NODUS_STOW_MAX_REQUEST_BYTES');
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toBeUndefined();
  });

  it('stops at a part over NODUS_MAX_INSTANCE_BYTES with 413 naming it; the parts before are stored', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid() };
    const good = syntheticCtInstance({ ...ids, sopInstanceUid: testUid() });
    const huge = Buffer.alloc(5 * MiB, 1);
    const response = await post(streamedBody(3, (i) => (i === 1 ? huge : good)));
    expect(response.status).toBe(413);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toMatch(/part 2 exceeds NODUS_MAX_INSTANCE_BYTES \(4194304 bytes\)/);
    expect(error.message).toMatch(/the 1 part\(s\) before it were read and 1 stored/);
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
    expect(await fs.readdir(path.join(work, 'spool')).catch(() => [])).toEqual([]);
  });

  it('stores a part larger than the in-memory threshold through the spool, byte for byte', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), sopInstanceUid: testUid() };
    const instance = syntheticCtInstance(ids);
    // Padding after the data set (Data Set Trailing Padding, FFFC,FFFC) makes a 2 MiB instance.
    const padding = Buffer.alloc(2 * MiB);
    padding.writeUInt16LE(0xfffc, 0);
    padding.writeUInt16LE(0xfffc, 2);
    padding.write('OB', 4, 'latin1');
    padding.writeUInt32LE(padding.length - 12, 8);
    const large = Buffer.concat([instance, padding]);
    const response = await post(streamedBody(1, () => large));
    expect(response.status).toBe(200);
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });
    expect(await fs.readdir(path.join(work, 'spool'))).toEqual([]);
  });

  it('marks the series of a body that breaks off as an interrupted transfer; a complete resend clears it', async () => {
    const ids = { studyInstanceUid: testUid(), seriesInstanceUid: testUid() };
    const instances = [0, 1, 2].map((z) => syntheticCtInstance({ ...ids, sopInstanceUid: testUid(), z }));
    const cut = await post(streamedBody(3, (i) => instances[i]!, 2));
    expect(cut.status).toBe(400);
    expect((await errorOf(cut)).message).toMatch(/broke off after 1 part/);
    const transfer = async () =>
      (
        await services.database.db
          .select({
            openTransfers: seriesTable.openTransfers,
            transferInterrupted: seriesTable.transferInterrupted,
          })
          .from(seriesTable)
          .where(eq(seriesTable.seriesInstanceUid, ids.seriesInstanceUid))
      )[0];
    // The request handler records the end after the client is gone: wait for it.
    for (let i = 0; i < 100 && (await transfer())?.transferInterrupted !== true; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await transfer()).toEqual({ openTransfers: 0, transferInterrupted: true });
    // Part 2 was sent but its delimiter never came: only part 1 was whole.
    expect(await findSeries(services.database.db, ids.seriesInstanceUid)).toMatchObject({ instanceCount: 1 });

    expect((await post(streamedBody(3, (i) => instances[i]!))).status).toBe(200);
    expect(await transfer()).toEqual({ openTransfers: 0, transferInterrupted: false });
  });

  it('refuses a JSON body over NODUS_API_MAX_JSON_BYTES with 413 before parsing it', async () => {
    const response = await app.request('/api/projects', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(100_000) }),
    });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await errorOf(response)).message).toContain('NODUS_API_MAX_JSON_BYTES');
  });
});
