import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingPackages, REFERENCE_TOOLS } from '../../../scripts/reference-tools.mjs';

const root = path.resolve(import.meta.dirname, '../../..');
// A PATH with node and nothing else (node may live in /usr/bin, next to the tools).
const nodeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-node-only-'));
fs.symlinkSync(process.execPath, path.join(nodeDir, 'node'));
fs.chmodSync(nodeDir, 0o755);
const nodeOnly = { PATH: nodeDir };
afterAll(() => fs.rmSync(nodeDir, { recursive: true, force: true }));

describe('the reference tools of the tests', () => {
  it('names the Debian package of every tool missing from PATH', () => {
    const onPath = REFERENCE_TOOLS.filter((tool) => !path.isAbsolute(tool.need)).map((tool) => tool.package);
    expect(missingPackages(nodeOnly)).toEqual(expect.arrayContaining([...new Set(onPath)]));
  });

  // As a user who cannot install (not root), the bootstrap of `npm test` stops at once with one line.
  it.runIf(process.getuid?.() === 0)(
    'stops the bootstrap with one line naming the packages when it cannot install',
    () => {
      const run = spawnSync(
        '/usr/bin/setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          'scripts/bootstrap.mjs',
          '--test-tools',
        ],
        { cwd: root, env: { ...nodeOnly, HOME: '/tmp' }, encoding: 'utf8' },
      );
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^bootstrap: the tests need the Debian packages .*dcm2niix.*dcmtk.*dicom3tools.*; install them first: sudo apt-get install -y /,
      );
    },
  );
});
