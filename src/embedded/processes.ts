import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A process as the kernel tells it apart: its pid and its start time (field 22 of /proc/<pid>/stat, clock
 * ticks after boot), so that a pid reused by another process is not mistaken for it. `startTime` is
 * undefined where there is no /proc.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string | undefined;
}

interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), ... */
  state: string;
  startTime: string;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

let procMounted: Promise<boolean> | undefined;
const hasProc = () =>
  (procMounted ??= fs.access('/proc/self/stat').then(
    () => true,
    () => false,
  ));

/** The identity of a running process, or undefined when none runs under that pid. */
export async function identifyProcess(pid: number): Promise<ProcessIdentity | undefined> {
  if (!(await hasProc()))
    return (await isRunning({ pid, startTime: undefined })) ? { pid, startTime: undefined } : undefined;
  const stat = await readStat(pid);
  return stat && !/^[ZX]/.test(stat.state) ? { pid, startTime: stat.startTime } : undefined;
}

/** Whether that very process still runs: not exited, not a zombie, and not a newer process with its pid. */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  if (await hasProc()) {
    const stat = await readStat(identity.pid);
    if (!stat || /^[ZX]/.test(stat.state)) return false;
    return identity.startTime === undefined || stat.startTime === identity.startTime;
  }
  try {
    process.kill(identity.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pids of all processes (Linux /proc; empty elsewhere). */
export async function listProcesses(): Promise<number[]> {
  const entries = await fs.readdir('/proc').catch(() => []);
  return entries.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** A process's arguments, argv[0] first; undefined when it is gone or unreadable. */
export async function commandLine(pid: number): Promise<string[] | undefined> {
  const text = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return text ? text.replace(/\0$/, '').split('\0') : undefined;
}

/** The file a process runs (its /proc/<pid>/exe); undefined when it is gone or not ours to inspect. */
export async function executable(pid: number): Promise<string | undefined> {
  const target = await fs.readlink(`/proc/${pid}/exe`).catch(() => undefined);
  return target?.replace(/ \(deleted\)$/, '');
}

/** A process's working directory; undefined when it is gone or not ours to inspect. */
export function workingDirectory(pid: number): Promise<string | undefined> {
  return fs.readlink(`/proc/${pid}/cwd`).catch(() => undefined);
}

/**
 * Sends `signal`, waits up to `timeoutMs` for the process to go, then kills it (SIGKILL) and waits again.
 * Resolves with whether it is gone.
 */
export async function stopProcess(
  identity: ProcessIdentity,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<boolean> {
  for (const [sent, wait] of [
    [signal, timeoutMs],
    ['SIGKILL', 5_000],
  ] as const) {
    if (!(await isRunning(identity))) return true;
    try {
      process.kill(identity.pid, sent);
    } catch {
      // Already gone (ESRCH).
    }
    const deadline = Date.now() + wait;
    while (Date.now() < deadline) {
      if (!(await isRunning(identity))) return true;
      await sleep(100);
    }
  }
  return !(await isRunning(identity));
}
