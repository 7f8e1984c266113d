import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSeries } from '../../src/db/repositories/series.js';
import { auditEvents } from '../../src/db/schema/index.js';
import { storeInstance } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { seriesWorkflows } from '../../src/temporal/series-workflows.js';
import { phantomSeries } from '../fixtures/phantom-series.js';
import { spawnNodus, type NodusProcess } from './processes.js';
import { connectTestServices, uniqueTaskQueue } from './services.js';

describe('a worker killed in the middle of processSeries', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let dataDir: string;
  const workers: NodusProcess[] = [];

  beforeAll(async () => {
    services = await connectTestServices();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-crash-'));
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await services?.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('is completed by a new worker, with no work lost or done twice', async () => {
    const taskQueue = uniqueTaskQueue('crash');
    const quietPeriodMs = 3000;
    const env = {
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      NODUS_SERIES_TASK_QUEUE: taskQueue,
      NODUS_INFERENCE_TASK_QUEUE: `${taskQueue}-inference`,
      NODUS_SERIES_QUIET_PERIOD_MS: String(quietPeriodMs),
      NODUS_DATA_DIR: dataDir,
      NODUS_LOG_LEVEL: 'warn',
    };
    const first = spawnNodus(['worker'], env);
    workers.push(first);
    await first.waitFor(/nodus worker is running/);

    const workflows = seriesWorkflows(services.client, {
      taskQueue,
      quietPeriodMs,
      inferenceTaskQueue: `${taskQueue}-inference`,
    });
    const ingest = {
      db: services.database.db,
      blobs: new FilesystemBlobStore(path.join(dataDir, 'blobs')),
      notifySeries: (series: string, sop: string) => workflows.instanceStored(series, sop),
    };
    const { files, seriesInstanceUid: seriesUid } = phantomSeries();
    for (const bytes of files) await storeInstance(ingest, bytes, 'test');

    // The first worker has taken the workflow once it answers queries; then it dies without warning.
    const handle = services.client.workflow.getHandle(`series:${seriesUid}`);
    await expect
      .poll(() => handle.query('progress').catch(() => undefined), { timeout: 30_000 })
      .toEqual({
        stage: 'waiting-for-instances',
        instancesSignalled: files.length,
      });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect((await findSeries(services.database.db, seriesUid))?.status).toBe('receiving');

    const second = spawnNodus(['worker'], env);
    workers.push(second);
    await second.waitFor(/nodus worker is running/);

    const result: unknown = await handle.result();
    expect(result).toMatchObject({
      seriesInstanceUid: seriesUid,
      status: 'done',
      instanceCount: files.length,
    });
    expect((await findSeries(services.database.db, seriesUid))?.status).toBe('done');

    const processed = await services.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resourceId, seriesUid), eq(auditEvents.action, 'series.processed')));
    expect(processed).toHaveLength(1);

    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? [])
      .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => typeof name === 'string');
    expect(scheduled).toEqual([
      'beginSeriesProcessing',
      'reconstructSeriesVolume',
      'detectSeriesNodules',
      'completeSeriesProcessing',
      'assessStudyForReview',
      // Its institution is no consortium member: nothing offered, no share's timers started.
      'offerStudyToConsortium',
    ]);

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
