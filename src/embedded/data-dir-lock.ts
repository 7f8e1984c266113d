import fs from 'node:fs/promises';
import path from 'node:path';
import { identifyProcess, isRunning, type ProcessIdentity } from './processes.js';

/**
 * `<dataDir>/nodus.lock` is held by the one nodus process that runs a data directory's embedded services
 * (PostgreSQL in `postgres/`, the Temporal dev server on `temporal.db`). It names its holder by pid and start
 * time, so a reused pid does not pass for it. A lock whose holder is gone (killed, crashed) is taken over
 * by the next nodus that starts, which then stops whatever the dead holder left running. Other nodus
 * commands attach to a live holder's services through services.env instead.
 */
export const lockFile = (dataDir: string) => path.join(dataDir, 'nodus.lock');

export type DataDirLock =
  { acquired: true; release: () => Promise<void> } | { acquired: false; holder: ProcessIdentity };

/** Takes the data directory's lock, or names the live process that holds it (possibly this one). */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = lockFile(dataDir);
  const self = (await identifyProcess(process.pid)) ?? { pid: process.pid, startTime: undefined };
  const text = `${JSON.stringify(self)}\n`;
  await fs.mkdir(dataDir, { recursive: true });
  // Written whole under a private name, then linked into place: link() fails, atomically, if a lock exists.
  const staging = `${file}.${process.pid}`;
  await fs.writeFile(staging, text);
  try {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        await fs.link(staging, file).catch(async (error: NodeJS.ErrnoException) => {
          // File systems without hard links: an exclusive create, written right after.
          if (error.code === 'EEXIST') throw error;
          await fs.writeFile(file, text, { flag: 'wx' });
        });
        return { acquired: true, release: () => releaseLock(file, text) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await readLock(file);
      const holder = held === undefined ? undefined : parseHolder(held);
      if (holder && (await isRunning(holder))) return { acquired: false, holder };
      // The holder is gone: take its lock over, unless another nodus has just done so.
      if (held !== undefined && (await readLock(file)) === held) await fs.rm(file, { force: true });
    }
    throw new Error(`cannot take the lock ${file}: other nodus processes keep taking it`);
  } finally {
    await fs.rm(staging, { force: true });
  }
}

const readLock = (file: string) => fs.readFile(file, 'utf8').catch(() => undefined);

function parseHolder(text: string): ProcessIdentity | undefined {
  try {
    const { pid, startTime } = JSON.parse(text) as Partial<ProcessIdentity>;
    if (!Number.isInteger(pid) || (pid ?? 0) <= 0) return undefined;
    return { pid: pid!, startTime: typeof startTime === 'string' ? startTime : undefined };
  } catch {
    return undefined;
  }
}

async function releaseLock(file: string, text: string): Promise<void> {
  if ((await readLock(file)) === text) await fs.rm(file, { force: true });
}
