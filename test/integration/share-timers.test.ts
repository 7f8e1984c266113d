import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openShareSession } from '../../src/db/repositories/shares.js';
import { auditEvents, shareSessions, shares } from '../../src/db/schema/index.js';
import type { ShareLifecycleResult } from '../../src/shared/share-workflows.js';
import { createShare } from '../../src/sharing/create-share.js';
import { shareWorkflows } from '../../src/temporal/share-workflows.js';
import { seedScreenedStudy } from '../fixtures/screened-study.js';
import { spawnNodus, type NodusProcess } from './processes.js';
import { connectTestServices, uniqueTaskQueue } from './services.js';

const HOUR = 3_600_000;

describe("a share's durable timers (Temporal) across a restart of the worker", () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let dataDir: string;
  const workers: NodusProcess[] = [];
  const taskQueue = uniqueTaskQueue('share-timers');
  let env: Record<string, string>;

  beforeAll(async () => {
    services = await connectTestServices();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-share-timers-'));
    env = {
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: services.temporalAddress,
      NODUS_SERIES_TASK_QUEUE: taskQueue,
      NODUS_INFERENCE_TASK_QUEUE: `${taskQueue}-inference`,
      NODUS_DATA_DIR: dataDir,
      NODUS_LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await services?.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const startWorker = async () => {
    const worker = spawnNodus(['worker'], env);
    workers.push(worker);
    await worker.waitFor(/nodus worker is running/);
    return worker;
  };

  it('marks an unanswered second read overdue and expires the share, though the worker died while they waited', async () => {
    const db = services.database.db;
    const run = Date.now().toString(36);
    const study = await seedScreenedStudy(db, {
      institutionCode: `TIMER-C-${run}`,
      studyDate: '2026-01-05',
      nodules: [],
    });
    await seedScreenedStudy(db, { institutionCode: `TIMER-H-${run}`, studyDate: '2026-01-05', nodules: [] });
    // Due in 3 s, expiring in 6 s: short, so the test waits for real timers.
    const { share } = await createShare(db, {
      studyId: study.studyId,
      request: {
        audience: 'institution',
        institution: `TIMER-H-${run}`,
        expiresInHours: 6_000 / HOUR,
        secondReadDueInHours: 3_000 / HOUR,
      },
    });
    const session = await openShareSession(db, share);
    const timers = shareWorkflows(services.client, { taskQueue });
    const first = await startWorker();
    await timers.start(share);
    const handle = services.client.workflow.getHandle(`share:${share.id}`);
    // Once the worker has run the workflow's first task, its timer is Temporal's: the worker dies.
    await expect
      .poll(
        async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes),
        {
          timeout: 30_000,
        },
      )
      .toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    // Both timers fall due while no worker runs.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const [waiting] = await db.select().from(shares).where(eq(shares.id, share.id));
    expect(waiting!.secondReadOverdueAt).toBeNull();

    const second = await startWorker();
    const result = (await handle.result()) as ShareLifecycleResult;
    expect(result).toEqual({ outcome: 'expired', secondReadOverdue: true });
    const [after] = await db.select().from(shares).where(eq(shares.id, share.id));
    expect(after!.secondReadOverdueAt).not.toBeNull();
    const [ended] = await db.select().from(shareSessions).where(eq(shareSessions.shareId, share.id));
    expect(ended!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(share.expiresAt.getTime());
    const events = await db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(sql`${auditEvents.resourceType} = 'share' and ${auditEvents.resourceId} = ${share.id}`);
    expect(events.map((e) => e.action).sort()).toEqual(['share.expired', 'share.second-read-overdue']);

    // A revoked share's timers stop at once, with nothing marked.
    const other = await createShare(db, {
      studyId: study.studyId,
      request: { audience: 'patient', expiresInHours: 24 },
    });
    await timers.start(other.share);
    await timers.revoked(other.share.id);
    expect(await services.client.workflow.getHandle(`share:${other.share.id}`).result()).toEqual({
      outcome: 'revoked',
      secondReadOverdue: false,
    });
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
