import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { spawnNodus } from '../integration/processes.js';

/** The process must say what is wrong in one line, without a stack trace, and exit non-zero. */
async function failure(args: string[], env: Record<string, string>) {
  const p = spawnNodus(args, { NODUS_LOG_LEVEL: 'error', ...env });
  const { code } = await p.exited;
  const lines = p.output().trim().split('\n');
  return { code, lines };
}

describe('bad configuration and unreachable services', () => {
  it('names the invalid variable and exits 2', async () => {
    const { code, lines } = await failure(['up'], { NODUS_API_PORT: 'eighty' });
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nodus: invalid configuration: NODUS_API_PORT="eighty": /);
  });

  it('reports an unreachable PostgreSQL in one line and exits 1', async () => {
    const { code, lines } = await failure(['worker'], {
      DATABASE_URL: 'postgres://nodus:secret@127.0.0.1:1/nodus',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /^nodus: cannot reach PostgreSQL at postgres:\/\/nodus:\*\*\*@127\.0\.0\.1:1\/nodus: /,
      ),
    ]);
  });

  it('reports an unreachable Temporal in one line and exits 1', async () => {
    const { code, lines } = await failure(['worker'], {
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(code).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^nodus: cannot reach Temporal at 127\.0\.0\.1:1 /)]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, names a NODUS_DATA_DIR the postgres user cannot reach, and the fixes, in one line and exits 2',
    async () => {
      // Like `mktemp -d`: a directory only root may enter.
      const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-private-'));
      try {
        expect((await fs.stat(parent)).mode & 0o777).toBe(0o700);
        const dataDir = path.join(parent, 'data');
        const { code, lines } = await failure(['up'], { NODUS_DATA_DIR: dataDir });
        expect(code).toBe(2);
        expect(lines).toEqual([
          `nodus: invalid configuration: NODUS_DATA_DIR="${dataDir}": nodus runs as root, so the embedded ` +
            `PostgreSQL runs as the user postgres, which cannot enter ${parent} (mode 0700, owner root): ` +
            'choose a NODUS_DATA_DIR the postgres user can reach, run nodus as a non-root user, or set DATABASE_URL',
        ]);
        await expect(fs.access(path.join(dataDir, 'postgres'))).rejects.toThrow();
      } finally {
        await fs.rm(parent, { recursive: true, force: true });
      }
    },
  );
});
