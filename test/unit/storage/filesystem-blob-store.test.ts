import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemBlobStore } from '../../../src/storage/filesystem-blob-store.js';

describe('FilesystemBlobStore', () => {
  let root: string;
  let store: FilesystemBlobStore;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-blob-test-'));
    store = new FilesystemBlobStore(root);
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('puts, gets, tests and deletes blobs under nested keys', async () => {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    await store.put('instances/1.2/3.4/5.6.dcm', bytes);
    expect(await store.has('instances/1.2/3.4/5.6.dcm')).toBe(true);
    expect(new Uint8Array(await store.get('instances/1.2/3.4/5.6.dcm'))).toEqual(bytes);
    await store.delete('instances/1.2/3.4/5.6.dcm');
    expect(await store.has('instances/1.2/3.4/5.6.dcm')).toBe(false);
  });

  it('leaves no temporary files behind', async () => {
    await store.put('a/b.bin', new Uint8Array(10));
    expect(await fs.readdir(path.join(root, 'a'))).toEqual(['b.bin']);
  });

  it('answers NOT_FOUND for a missing blob', async () => {
    await expect(store.get('missing/blob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it.each(['../escape', '/absolute', 'a//b', 'a/./b', 'a/../../b', ''])('rejects the key %j', async (key) => {
    await expect(store.put(key, new Uint8Array(1))).rejects.toThrow(/invalid blob key/);
  });
});
