import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir, lockFile } from '../../../src/embedded/data-dir-lock.js';
import { identifyProcess } from '../../../src/embedded/processes.js';

describe('the data directory lock', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-lock-'));
  });
  afterEach(() => fs.rm(dataDir, { recursive: true, force: true }));

  it('is held by one process, named by pid and start time, and released', async () => {
    const lock = await lockDataDir(dataDir);
    expect(lock.acquired).toBe(true);
    const self = await identifyProcess(process.pid);
    expect(JSON.parse(await fs.readFile(lockFile(dataDir), 'utf8'))).toEqual(self);

    const again = await lockDataDir(dataDir);
    expect(again).toEqual({ acquired: false, holder: self });

    if (lock.acquired) await lock.release();
    await expect(fs.access(lockFile(dataDir))).rejects.toThrow();
    const next = await lockDataDir(dataDir);
    expect(next.acquired).toBe(true);
    if (next.acquired) await next.release();
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  const exitedPid = () => spawnSync('true').pid;

  const staleHolders: [string, () => unknown][] = [
    ['a holder that exited', () => ({ pid: exitedPid(), startTime: '1' })],
    ['an unreadable lock', () => 'not json'],
  ];
  // Start times come from /proc.
  if (process.platform === 'linux') {
    staleHolders.push(['a pid now used by another process', () => ({ pid: process.pid, startTime: '1' })]);
  }

  it.each(staleHolders)('is taken over from %s', async (_name, holder) => {
    await fs.writeFile(lockFile(dataDir), JSON.stringify(holder()));
    const lock = await lockDataDir(dataDir);
    expect(lock.acquired).toBe(true);
    expect(JSON.parse(await fs.readFile(lockFile(dataDir), 'utf8'))).toMatchObject({ pid: process.pid });
    if (lock.acquired) await lock.release();
  });

  it('is not released by a process that does not hold it', async () => {
    const lock = await lockDataDir(dataDir);
    if (!lock.acquired) throw new Error('not acquired');
    const other = JSON.stringify({ pid: process.pid, startTime: 'another' });
    await fs.writeFile(lockFile(dataDir), other);
    await lock.release();
    expect(await fs.readFile(lockFile(dataDir), 'utf8')).toBe(other);
  });
});
