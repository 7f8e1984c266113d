import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readServicesFile, servicesFile } from '../../src/embedded/services-file.js';
import { phantomSeries } from '../fixtures/phantom-series.js';
import { dcmtk } from '../fixtures/dcmtk.js';
import { spawnNodus, type NodusProcess } from '../integration/processes.js';

const portIsOpen = (address: string) =>
  new Promise<boolean>((resolve) => {
    const [host, port] = address.split(':');
    const socket = net.connect({ host, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

const ADMIN_TOKEN = `e2e-admin-${'x'.repeat(40)}`;
const AUTHORIZATION = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('embedded mode: `nodus up` with nothing configured', () => {
  const started: NodusProcess[] = [];
  let dataDir: string | undefined;

  afterAll(async () => {
    for (const p of started) p.child.kill('SIGKILL');
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('runs embedded PostgreSQL and Temporal, serves the API while the worker writes, and stops cleanly', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-embedded-'));
    const env = {
      NODUS_DATA_DIR: dataDir,
      NODUS_API_PORT: '0',
      NODUS_VIEWER_PORT: '0',
      NODUS_DICOM_PORT: '0',
      NODUS_SERIES_QUIET_PERIOD_MS: '1500',
      NODUS_LOG_LEVEL: 'warn',
      NODUS_ADMIN_TOKEN: ADMIN_TOKEN,
    };
    const up = spawnNodus(['up'], env);
    started.push(up);
    const [, apiUrl] = await up.waitFor(/API\s+(http:\/\/\S+)/);
    const [, dicomPort] = await up.waitFor(/DICOM\s+AE NODUS on 127\.0\.0\.1:(\d+)/);
    const echo = await dcmtk('echoscu', ['-aec', 'NODUS', '127.0.0.1', dicomPort!]);
    expect(echo.code, echo.output).toBe(0);

    const ready = await fetch(`${apiUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, temporal: { ok: true } },
    });
    const services = await readServicesFile(dataDir);
    expect(services?.databaseUrl).toMatch(/^postgres:\/\/nodus:.+@127\.0\.0\.1:\d+\/nodus$/);

    // A phantom series on disk, imported by a second nodus process that attaches to the running services.
    const folder = path.join(dataDir, 'incoming');
    await fs.mkdir(folder);
    const { files, seriesInstanceUid: seriesUid, studyInstanceUid: study } = phantomSeries();
    for (const [i, bytes] of files.entries()) await fs.writeFile(path.join(folder, `slice-${i}.dcm`), bytes);
    const importer = spawnNodus(['import', folder], env);
    started.push(importer);

    // While the importer and the worker write, the API reads the same database concurrently.
    const statuses = new Map<number, number>();
    let finalStatus: string | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const responses = await Promise.all([
        ...Array.from({ length: 4 }, () => fetch(`${apiUrl}/readyz`)),
        ...Array.from({ length: 4 }, () =>
          fetch(`${apiUrl}/api/series/${seriesUid}`, { headers: AUTHORIZATION }),
        ),
      ]);
      for (const response of responses)
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const last = responses.at(-1);
      if (last?.status === 200) finalStatus = ((await last.json()) as { status: string }).status;
      if (finalStatus === 'done') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(finalStatus).toBe('done');
    expect(
      [...statuses.keys()].every((status) => status === 200 || status === 404),
      `HTTP statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`,
    ).toBe(true);

    expect((await importer.exited).code).toBe(0);
    expect(JSON.parse(importer.output().slice(importer.output().indexOf('{')))).toMatchObject({
      files: files.length,
      stored: files.length,
    });
    const series = (await (
      await fetch(`${apiUrl}/api/series/${seriesUid}`, { headers: AUTHORIZATION })
    ).json()) as Record<string, unknown>;
    expect(series).toMatchObject({ status: 'done', instanceCount: files.length, studyInstanceUid: study });

    up.child.kill('SIGINT');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    await expect(fs.access(servicesFile(dataDir))).rejects.toThrow();
    expect(await portIsOpen(new URL(services!.databaseUrl!).host)).toBe(false);
    expect(await portIsOpen(services!.temporalAddress!)).toBe(false);
  });
});
