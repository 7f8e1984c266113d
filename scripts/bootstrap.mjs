#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies when package-lock.json changed since the
// last install, then the pinned Temporal CLI and OHIF viewer; with --test-tools (npm test, .ci/run) also the Debian
// reference tools the tests run against. Uses only Node built-ins (it runs before `npm ci`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingPackages } from './reference-tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockHash = createHash('sha256')
  .update(fs.readFileSync(path.join(root, 'package-lock.json')))
  .digest('hex');
const marker = path.join(root, 'node_modules', '.nodus-installed');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`bootstrap: ${command} ${args.join(' ')} failed\n`);
    process.exit(result.status ?? 1);
  }
}

const installed = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
if (installed !== lockHash) {
  process.stderr.write('bootstrap: installing npm dependencies (npm ci)\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  fs.writeFileSync(marker, `${lockHash}\n`);
}
// Before anything slow: a machine that cannot get the reference tools is told so at once.
if (process.argv.includes('--test-tools')) ensureReferenceTools();
run('bash', [path.join(root, 'scripts', 'install-temporal.sh')]);
// The OHIF viewer nodus serves next to its API (prebuilt, from the npm registry).
run(process.execPath, [path.join(root, 'scripts', 'install-ohif.mjs')]);

// Compiles src/ into dist/, which the `nodus` bin runs; only what changed since the last build.
run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet']);

/**
 * The tests run real peers (dcm2niix, DCMTK, dciodvfy, Orthanc): installed with apt-get where nodus may
 * (root on Debian/Ubuntu), otherwise a stop at once with one line naming the packages, never a test run
 * where they fail one by one.
 */
function ensureReferenceTools() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const canInstall =
    process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) {
    process.stderr.write(
      `bootstrap: the tests need the Debian packages ${missing.join(' ')}; install them first: sudo apt-get install -y ${missing.join(' ')}\n`,
    );
    process.exit(1);
  }
  process.stderr.write(
    `bootstrap: installing the reference tools the tests run against (${missing.join(' ')})\n`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      process.stderr.write(
        `bootstrap: apt-get ${args.join(' ')} failed; install ${missing.join(' ')} by hand\n`,
      );
      process.exit(1);
    }
  }
  const still = missingPackages();
  if (still.length > 0) {
    process.stderr.write(`bootstrap: still missing after apt-get: ${still.join(' ')}\n`);
    process.exit(1);
  }
}
