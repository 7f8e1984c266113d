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
});
