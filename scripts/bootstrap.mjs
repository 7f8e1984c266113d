#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies when package-lock.json changed since the
// last install, then the pinned Temporal CLI. Uses only Node built-ins (it runs before `npm ci`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
run('bash', [path.join(root, 'scripts', 'install-temporal.sh')]);
