import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging/logger.js';
import { startChildService } from './child-service.js';
import { findFreePort } from './free-port.js';
import {
  commandLine,
  identifyProcess,
  listProcesses,
  stopProcess,
  type ProcessIdentity,
} from './processes.js';

export interface TemporalDevServerHandle {
  /** host:port of the frontend gRPC service. */
  address: string;
  /** Web UI, when enabled. */
  uiUrl: string | undefined;
  stop: () => Promise<void>;
}

export interface TemporalDevServerOptions {
  cliPath: string;
  dataDir: string;
  namespace: string;
  /** Serve the Temporal Web UI as well (on a free port). */
  ui: boolean;
  logger: Logger;
}

/** The dev server's state file in a data directory. */
export const temporalDatabaseFile = (dataDir: string) => path.join(dataDir, 'temporal.db');

/**
 * Runs `temporal server start-dev` with its state in `<dataDir>/temporal.db`, on free loopback ports.
 * The server is a child of this process: stop() ends it, it dies with this process (however it dies, where
 * setpriv is available), and it is restarted on the same ports if it dies on its own.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions,
): Promise<TemporalDevServerHandle> {
  await fs.mkdir(options.dataDir, { recursive: true });
  const port = await findFreePort();
  const uiPort = options.ui ? await findFreePort() : undefined;
  const databaseFile = temporalDatabaseFile(options.dataDir);
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    databaseFile,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]),
  ];
  const log = options.logger.child({ component: 'temporal-dev-server' });
  const server = await startChildService({
    name: 'Temporal dev server',
    command: options.cliPath,
    args,
    // SQLite survives a kill; a dev server that outlived nodus would hold temporal.db.
    parentDeathSignal: 'KILL',
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 10_000,
    ready: { port },
    startTimeoutMs: 60_000,
    logger: log,
    beforeRestart: () => stopOrphanedTemporalServers(databaseFile, log),
  });
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    stop: server.stop,
  };
}

/** The processes running `temporal server start-dev --db-filename <databaseFile>` (Linux /proc). */
export async function findTemporalServers(databaseFile: string): Promise<ProcessIdentity[]> {
  const files = new Set([path.resolve(databaseFile), await fs.realpath(databaseFile).catch(() => '')]);
  const found: ProcessIdentity[] = [];
  for (const pid of await listProcesses()) {
    const args = await commandLine(pid);
    if (pid === process.pid || !args?.includes('start-dev')) continue;
    const flag = args.indexOf('--db-filename');
    const file = flag >= 0 ? args[flag + 1] : args.find((arg) => arg.startsWith('--db-filename='))?.slice(14);
    if (file === undefined || !path.isAbsolute(file) || !files.has(file)) continue;
    const identity = await identifyProcess(pid);
    if (identity) found.push(identity);
  }
  return found;
}

/** Stops every Temporal dev server on `databaseFile`: there is only ever one, this process's own. */
export async function stopOrphanedTemporalServers(databaseFile: string, logger: Logger): Promise<void> {
  for (const server of await findTemporalServers(databaseFile)) {
    logger.warn(
      { pid: server.pid, databaseFile },
      'stopping a Temporal dev server left running by a nodus that died',
    );
    await stopProcess(server, 'SIGTERM', 10_000);
  }
}
