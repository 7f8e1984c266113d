import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepFilesystemLitter } from '../../../src/storage/filesystem-litter.js';

describe('sweepFilesystemLitter', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-litter-'));
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  const hourAgo = new Date(Date.now() - 3600_000);
  async function file(relative: string, age: 'old' | 'new') {
    const full = path.join(root, relative);
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, 'x');
    if (age === 'old') await fs.utimes(full, hourAgo, hourAgo);
    return full;
  }
  const exists = (full: string) =>
    fs.access(full).then(
      () => true,
      () => false,
    );

  it('removes old unfinished writes, unregistered instance and quarantine blobs and spool files only', async () => {
    const registered = await file('blobs/instances/1.2/1.3/1.4.aaaa.dcm', 'old');
    const unregistered = await file('blobs/instances/1.2/1.3/1.5.bbbb.dcm', 'old');
    const fresh = await file('blobs/instances/1.2/1.3/1.6.cccc.dcm', 'new');
    const partial = await file('blobs/instances/1.2/1.3/1.7.dddd.dcm.0a.partial', 'old');
    const freshPartial = await file('blobs/volumes/1.3/ee.nii.0b.partial', 'new');
    const volume = await file('blobs/volumes/1.3/ee.nii', 'old');
    const keptAside = await file('blobs/quarantine/1.8.ffff.dcm', 'old');
    const strayAside = await file('blobs/quarantine/1.9.0000.dcm', 'old');
    const spool = await file('spool/abc.spool', 'old');
    const referenced = new Map([
      ['instances/1.2/1.3', new Set(['instances/1.2/1.3/1.4.aaaa.dcm'])],
      ['quarantine', new Set(['quarantine/1.8.ffff.dcm'])],
    ]);
    const swept = await sweepFilesystemLitter({
      blobRoot: path.join(root, 'blobs'),
      spoolDir: path.join(root, 'spool'),
      referencedKeys: (prefix) => Promise.resolve(referenced.get(prefix) ?? new Set()),
      olderThanMs: 600_000,
    });
    expect(swept).toEqual({ partial: 1, unreferenced: 2, spool: 1 });
    expect({
      registered: await exists(registered),
      unregistered: await exists(unregistered),
      fresh: await exists(fresh),
      partial: await exists(partial),
      freshPartial: await exists(freshPartial),
      volume: await exists(volume),
      keptAside: await exists(keptAside),
      strayAside: await exists(strayAside),
      spool: await exists(spool),
    }).toEqual({
      registered: true,
      unregistered: false,
      fresh: true,
      partial: false,
      freshPartial: true,
      volume: true,
      keptAside: true,
      strayAside: false,
      spool: false,
    });
  });
});
