import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockFile } from '../../src/embedded/data-dir-lock.js';
import { findFreePort, isPortOpen } from '../../src/embedded/free-port.js';
import { postgresBinary } from '../../src/embedded/postgres.js';
import { identifyProcess, isRunning, type ProcessIdentity } from '../../src/embedded/processes.js';
import { resolveTemporalCli } from '../../src/embedded/temporal-cli.js';
import { findTemporalServers, temporalDatabaseFile } from '../../src/embedded/temporal-dev-server.js';
import { spawnNodus, type NodusProcess } from '../integration/processes.js';

const ADMIN_TOKEN = `e2e-admin-${'r'.repeat(40)}`;
const AUTHORIZATION = { authorization: `Bearer ${ADMIN_TOKEN}` };

const environment = (dataDir: string) => ({
  NODUS_DATA_DIR: dataDir,
  NODUS_API_PORT: '0',
  NODUS_VIEWER_PORT: '0',
  NODUS_DICOM_PORT: '0',
  NODUS_LOG_LEVEL: 'warn',
  NODUS_ADMIN_TOKEN: ADMIN_TOKEN,
});

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The running postmaster of the embedded cluster, from its postmaster.pid. */
async function postmaster(dataDir: string): Promise<ProcessIdentity | undefined> {
  const text = await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  return pid > 0 ? identifyProcess(pid) : undefined;
}

async function parentOf(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const gone = async (identity: ProcessIdentity) => ((await isRunning(identity)) ? undefined : true);

describe('embedded services after a crash', () => {
  const started: NodusProcess[] = [];
  const strays: ProcessIdentity[] = [];
  const dataDirs: string[] = [];

  afterAll(async () => {
    for (const p of started) p.child.kill('SIGKILL');
    for (const stray of strays) if (await isRunning(stray)) process.kill(stray.pid, 'SIGKILL');
    for (const dir of dataDirs) await fs.rm(dir, { recursive: true, force: true });
  });

  async function start(command: 'up' | 'api', dataDir: string) {
    const nodus = spawnNodus([command], environment(dataDir));
    started.push(nodus);
    const [, apiUrl] = await nodus.waitFor(/API\s+(http:\/\/\S+)/);
    return { nodus, apiUrl: apiUrl! };
  }

  it('children die with a SIGKILLed nodus; the next start stops what a dead nodus left and runs one Temporal server', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-recovery-'));
    dataDirs.push(dataDir);
    const databaseFile = temporalDatabaseFile(dataDir);

    const first = await start('up', dataDir);
    const created = await fetch(`${first.apiUrl}/api/users`, {
      method: 'POST',
      headers: { ...AUTHORIZATION, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'kept@nodus.local', displayName: 'Kept', role: 'radiologist' }),
    });
    expect(created.status).toBe(201);
    const children = [(await postmaster(dataDir))!, ...(await findTemporalServers(databaseFile))];
    expect(children).toHaveLength(2);
    for (const child of children) expect(await parentOf(child.pid)).toBe(first.nodus.child.pid);

    first.nodus.child.kill('SIGKILL');
    await first.nodus.exited;
    await until(
      async () => (await Promise.all(children.map(gone))).every(Boolean) || undefined,
      10_000,
      'children stop',
    );
    // The lock of the dead nodus stays behind, naming a process that no longer runs.
    expect(JSON.parse(await fs.readFile(lockFile(dataDir), 'utf8'))).toMatchObject({
      pid: first.nodus.child.pid,
    });

    // What a nodus killed where children cannot die with it leaves: PostgreSQL and Temporal on its files.
    // As root, the cluster belongs to the system user postgres, as nodus runs it.
    const postgresUser =
      process.getuid?.() === 0
        ? {
            uid: Number(execFileSync('id', ['-u', 'postgres'])),
            gid: Number(execFileSync('id', ['-g', 'postgres'])),
          }
        : {};
    const [pgPort, temporalPort] = [await findFreePort(), await findFreePort()];
    const leftovers = [
      spawn(
        await postgresBinary(),
        [
          '-D',
          path.join(dataDir, 'postgres'),
          '-p',
          String(pgPort),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
        ],
        { ...postgresUser, detached: true, stdio: 'ignore' },
      ),
      spawn(
        resolveTemporalCli(process.env.NODUS_TEMPORAL_CLI),
        [
          'server',
          'start-dev',
          '--db-filename',
          databaseFile,
          '--ip',
          '127.0.0.1',
          '--port',
          String(temporalPort),
          '--headless',
        ],
        { detached: true, stdio: 'ignore' },
      ),
    ];
    for (const leftover of leftovers) {
      leftover.unref();
      strays.push((await identifyProcess(leftover.pid!))!);
    }
    for (const port of [pgPort, temporalPort]) {
      await until(
        async () => (await isPortOpen('127.0.0.1', port)) || undefined,
        30_000,
        `port ${port} opens`,
      );
    }

    const second = await start('api', dataDir);
    for (const stray of strays) expect(await isRunning(stray)).toBe(false);
    const servers = await findTemporalServers(databaseFile);
    expect(servers).toHaveLength(1);
    expect(await parentOf(servers[0]!.pid)).toBe(second.nodus.child.pid);
    expect(await parentOf((await postmaster(dataDir))!.pid)).toBe(second.nodus.child.pid);
    expect(second.nodus.output()).toMatch(
      /stopping an embedded PostgreSQL left running by a nodus that died/,
    );
    expect(second.nodus.output()).toMatch(/stopping a Temporal dev server left running by a nodus that died/);

    const users = (await (await fetch(`${second.apiUrl}/api/users`, { headers: AUTHORIZATION })).json()) as {
      users: { email: string }[];
    };
    expect(users.users.map((user) => user.email)).toContain('kept@nodus.local');

    second.nodus.child.kill('SIGINT');
    expect(await second.nodus.exited).toEqual({ code: 0, signal: null });
    await expect(fs.access(lockFile(dataDir))).rejects.toThrow();
    expect(await findTemporalServers(databaseFile)).toEqual([]);
  });

  it('answers 503 naming PostgreSQL while it is down, restarts it, and serves again', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-recovery-'));
    dataDirs.push(dataDir);
    const { nodus, apiUrl } = await start('api', dataDir);
    expect((await fetch(`${apiUrl}/api/users`, { headers: AUTHORIZATION })).status).toBe(200);
    const killed = (await postmaster(dataDir))!;
    const port = (await fs.readFile(path.join(dataDir, 'services.env'), 'utf8')).match(
      /127\.0\.0\.1:(\d+)\/nodus/,
    )![1]!;

    process.kill(killed.pid, 'SIGKILL');
    const statuses = new Map<number, number>();
    const bodies: string[] = [];
    let readiness: string | undefined;
    await until(
      async () => {
        const [users, ready] = await Promise.all([
          fetch(`${apiUrl}/api/users`, { headers: AUTHORIZATION }),
          fetch(`${apiUrl}/readyz`),
        ]);
        statuses.set(users.status, (statuses.get(users.status) ?? 0) + 1);
        const [usersText, readyText] = await Promise.all([users.text(), ready.text()]);
        if (users.status !== 200) bodies.push(usersText);
        if (ready.status === 503) readiness ??= readyText;
        return users.status === 200 && statuses.has(503) && ready.status === 200 ? true : undefined;
      },
      45_000,
      'PostgreSQL is restarted',
    );

    expect([...statuses.keys()].sort(), JSON.stringify(Object.fromEntries(statuses))).toEqual([200, 503]);
    for (const body of bodies) {
      expect(JSON.parse(body)).toMatchObject({
        error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'PostgreSQL is unavailable' },
      });
    }
    expect(JSON.parse(readiness!)).toMatchObject({
      status: 'unavailable',
      checks: { postgres: { ok: false, error: 'PostgreSQL is unavailable' }, temporal: { ok: true } },
    });
    for (const text of [readiness!, ...bodies]) {
      expect(text).not.toMatch(/127\.0\.0\.1|localhost|postgres:\/\//);
      expect(text).not.toContain(port);
    }
    const restarted = (await postmaster(dataDir))!;
    expect(restarted.pid).not.toBe(killed.pid);
    expect(await parentOf(restarted.pid)).toBe(nodus.child.pid);
    expect(nodus.output()).toMatch(/embedded PostgreSQL exited unexpectedly; restarting it/);

    nodus.child.kill('SIGINT');
    expect(await nodus.exited).toEqual({ code: 0, signal: null });
    expect(await isRunning(restarted)).toBe(false);
  });
});
