import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import { isPortOpen } from './free-port.js';

export interface ChildServiceOptions {
  /** Names the service in messages, e.g. "embedded PostgreSQL". */
  name: string;
  command: string;
  args: readonly string[];
  /** Run as this user and group (as root, PostgreSQL runs as `postgres`). */
  uid?: number | undefined;
  gid?: number | undefined;
  env?: NodeJS.ProcessEnv;
  /**
   * What the kernel sends the child when nodus dies, however it dies, SIGKILL included (Linux, through
   * util-linux `setpriv --pdeathsig`). Elsewhere the next nodus to start stops what is left.
   */
  parentDeathSignal: 'INT' | 'TERM' | 'KILL';
  /** How stop() asks the child to go, and how long it waits before SIGKILL. */
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  /** The child serves once it prints `line` (stdout or stderr), or accepts connections on 127.0.0.1:`port`. */
  ready: { line: string } | { port: number };
  startTimeoutMs: number;
  logger: Logger;
  /** Runs before each restart, e.g. to stop what the dead process left running. */
  beforeRestart?: () => Promise<void>;
}

export interface ChildService {
  /** The pid of the running server; undefined while it is down. */
  pid: () => number | undefined;
  /** Stops the server and its supervision; safe to call twice. */
  stop: () => Promise<void>;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Running {
  child: ChildProcess;
  exited: Promise<ExitStatus>;
}

/** Pauses before each restart after an unexpected exit: five attempts over about half a minute. */
const RESTART_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000];

/**
 * Runs a server (embedded PostgreSQL, the Temporal dev server) as a child of nodus that dies with nodus and
 * is restarted, with backoff, when it dies on its own (killed, crashed). A clean exit (code 0) that nodus
 * did not ask for is logged and not restarted.
 */
export async function startChildService(options: ChildServiceOptions): Promise<ChildService> {
  const { name, logger } = options;
  const watchdog = await parentDeathWatchdog();
  if (!watchdog) {
    logger.info(
      `no setpriv --pdeathsig here: if nodus is killed, ${name} runs on until the next start stops it`,
    );
  }
  const stopping = new AbortController();
  let current: Running | undefined;
  let restarting = Promise.resolve();

  const launch = async (): Promise<Running> => {
    const child = spawn(
      watchdog ?? options.command,
      watchdog
        ? ['--pdeathsig', options.parentDeathSignal, '--', options.command, ...options.args]
        : [...options.args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that a Ctrl-C in the terminal reaches nodus only, which stops it in order.
        detached: watchdog !== undefined,
        ...(options.uid !== undefined && { uid: options.uid }),
        ...(options.gid !== undefined && { gid: options.gid }),
        ...(options.env && { env: options.env }),
      },
    );
    let output = '';
    let printedReady = () => {};
    const ready = options.ready;
    const readyLine = new Promise<void>((resolve) => (printedReady = resolve));
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) logger.debug(line.trim());
      if ('line' in ready && output.includes(ready.line)) printedReady();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let status: ExitStatus | undefined;
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve((status = { code, signal })));
      child.once('error', (error) => {
        output += error.message;
        resolve((status = { code: null, signal: null }));
      });
    });
    const listening = async (port: number) => {
      while (status === undefined && !(await isPortOpen('127.0.0.1', port))) await sleep(100);
    };

    const timeout = new AbortController();
    const outcome = await Promise.race([
      ('line' in ready ? readyLine : listening(ready.port)).then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      sleep(options.startTimeoutMs, 'timeout' as const, { signal: timeout.signal }).catch(
        () => 'timeout' as const,
      ),
    ]);
    timeout.abort();
    if (outcome === 'ready' && status === undefined) return { child, exited };
    child.kill('SIGKILL');
    const { code, signal } = await exited;
    const last = output.trim().split('\n').slice(-3).join(' | ');
    throw new Error(
      `${name} did not start: ${
        outcome === 'timeout'
          ? `not ready within ${options.startTimeoutMs} ms`
          : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`
      }${last ? `: ${last}` : ''}`,
    );
  };

  const supervise = (running: Running) => {
    void running.exited.then((status) => {
      if (stopping.signal.aborted || current !== running) return;
      current = undefined;
      if (status.code === 0) {
        logger.warn(`${name} exited by itself (code 0); not restarting it`);
        return;
      }
      restarting = restart(status);
    });
  };

  const restart = async (status: ExitStatus) => {
    logger.warn(
      { exitCode: status.code, signal: status.signal },
      `${name} exited unexpectedly; restarting it`,
    );
    for (const [index, delay] of RESTART_DELAYS_MS.entries()) {
      try {
        await sleep(delay, undefined, { signal: stopping.signal });
      } catch {
        return;
      }
      try {
        await options.beforeRestart?.();
        const running = await launch();
        if (stopping.signal.aborted) {
          await terminate(running);
          return;
        }
        current = running;
        supervise(running);
        logger.info({ attempt: index + 1, pid: running.child.pid }, `${name} restarted`);
        return;
      } catch (error) {
        logger.warn({ err: error, attempt: index + 1 }, `${name} did not restart`);
      }
    }
    logger.error(
      `${name} could not be restarted (${RESTART_DELAYS_MS.length} attempts); it stays down until nodus restarts`,
    );
  };

  const terminate = async ({ child, exited }: Running) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(options.stopSignal);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  };

  current = await launch();
  supervise(current);
  let stopped: Promise<void> | undefined;
  return {
    pid: () => current?.child.pid,
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await restarting;
        const running = current;
        current = undefined;
        if (running) await terminate(running);
      })()),
  };
}

let watchdogProbe: Promise<string | undefined> | undefined;

/** `setpriv` when it can set a parent-death signal (util-linux 2.33+, Linux only); undefined otherwise. */
function parentDeathWatchdog(): Promise<string | undefined> {
  return (watchdogProbe ??= new Promise((resolve) => {
    if (process.platform !== 'linux') {
      resolve(undefined);
      return;
    }
    execFile('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], (error) =>
      resolve(error ? undefined : 'setpriv'),
    );
  }));
}
