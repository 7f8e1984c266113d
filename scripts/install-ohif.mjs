#!/usr/bin/env node
// Installs the prebuilt OHIF v3 viewer (npm package @ohif/app, MIT) that nodus serves on its viewer port:
// only the package's dist/ (its runtime dependencies are bundled into it), fetched once with `npm pack`
// (the registry checks the tarball against its integrity) into .tools/ohif/<version>/. Leaves out the
// source maps, the optional onnxruntime AI tools and the microscopy viewer. Node built-ins only.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const OHIF_VERSION = '3.13.2';
const INTEGRITY =
  'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, '.tools', 'ohif', OHIF_VERSION);
const done = path.join(target, '.installed');

if (!fs.existsSync(done)) {
  process.stderr.write(
    `install-ohif: fetching the OHIF viewer ${OHIF_VERSION} (npm pack @ohif/app, ~50 MB)\n`,
  );
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-ohif-'));
  try {
    const pack = spawnSync(
      'npm',
      ['pack', `@ohif/app@${OHIF_VERSION}`, '--ignore-scripts', '--silent', '--pack-destination', work],
      { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const tarball = path.join(work, (pack.stdout ?? '').trim().split('\n').at(-1) ?? '');
    if (pack.status !== 0 || !fs.existsSync(tarball)) fail('npm pack @ohif/app failed');
    const digest = `sha512-${createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (digest !== INTEGRITY) fail(`the tarball's digest ${digest} is not the pinned ${INTEGRITY}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    const untar = spawnSync(
      'tar',
      [
        '-xzf',
        tarball,
        '-C',
        target,
        '--strip-components=2',
        '--exclude=*.map',
        '--exclude=package/dist/ort',
        '--exclude=package/dist/dicom-microscopy-viewer',
        'package/dist',
      ],
      { stdio: 'inherit' },
    );
    if (untar.status !== 0) fail('could not unpack the OHIF tarball');
    fs.writeFileSync(done, `${OHIF_VERSION}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function fail(message) {
  process.stderr.write(`install-ohif: ${message}\n`);
  process.exit(1);
}
