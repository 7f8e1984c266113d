import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../../src/db/migrate.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('committed migrations', () => {
  it('match the drizzle schema (drizzle-kit generate finds nothing to add)', async () => {
    // drizzle-kit takes --out relative to the working directory; .build/ is ignored by git.
    const out = path.join('.build', `migrations-check-${process.pid}`);
    await fs.rm(path.join(root, out), { recursive: true, force: true });
    await fs.cp(MIGRATIONS_FOLDER, path.join(root, out), { recursive: true });
    const run = spawnSync(
      path.join(root, 'node_modules/.bin/drizzle-kit'),
      [
        'generate',
        '--dialect',
        'postgresql',
        '--schema',
        './src/db/schema/index.ts',
        '--out',
        out,
        '--casing',
        'snake_case',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain('No schema changes');
    expect(await fs.readdir(path.join(root, out))).toEqual(await fs.readdir(MIGRATIONS_FOLDER));
    await fs.rm(path.join(root, out), { recursive: true, force: true });
  });
});
