import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logging/logger.js';
import { findFreePort, waitForPort } from './free-port.js';

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

/**
 * Runs `temporal server start-dev` with its state in `<dataDir>/temporal.db`, on free loopback ports.
 * The server is a child of this process: stop() ends it, and it dies with this process's process group.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions,
): Promise<TemporalDevServerHandle> {
  await fs.mkdir(options.dataDir, { recursive: true });
  const port = await findFreePort();
  const uiPort = options.ui ? await findFreePort() : undefined;
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(options.dataDir, 'temporal.db'),
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
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-4000);
    for (const line of text.split('\n')) if (line.trim()) log.debug(line.trim());
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  try {
    await Promise.race([
      waitForPort('127.0.0.1', port, 60_000),
      exited.then((code) => {
        throw new Error(`exited with code ${code}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `Temporal dev server did not start: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  return {
    address: `127.0.0.1:${port}`,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
