import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNifti1, encodeNifti1InHeadroom, NIFTI1_HEADER_BYTES } from '../../../src/volume/nifti.js';
import { writeNifti1File } from '../../../src/volume/nifti-file.js';
import { createSlicePool } from '../../../src/volume/slice-pool.js';
import type { CtVolume } from '../../../src/volume/volume.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-nifti-file-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function volume(hu: Int16Array): CtVolume {
  for (let i = 0; i < hu.length; i += 1) hu[i] = ((i * 37) % 3000) - 1024;
  return {
    dimensions: [4, 3, 5],
    spacingMm: [0.7, 0.7, 2.5],
    originLps: [-166, -171.7, -340],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    hu,
    paddingVoxels: 0,
  };
}

describe('writeNifti1File', () => {
  it.each(['volume.nii', 'volume.nii.gz'])('writes the bytes of encodeNifti1 (%s)', async (name) => {
    const pool = createSlicePool(12, 5);
    const v = volume(new Int16Array(pool.share.buffer, 0, 60)); // voxels in shared memory, as reconstructed
    const file = path.join(work, name);
    await writeNifti1File(v, file);
    const written = fs.readFileSync(file);
    expect((name.endsWith('.gz') ? gunzipSync(written) : written).equals(Buffer.from(encodeNifti1(v)))).toBe(
      true,
    );
  });
});

describe('encodeNifti1InHeadroom', () => {
  it('writes the header into the room reserved before the voxels: the same file, no copy', () => {
    const pool = createSlicePool(12, 5, { headroomBytes: NIFTI1_HEADER_BYTES });
    const v = volume(new Int16Array(pool.share.buffer, NIFTI1_HEADER_BYTES, 60));
    const file = encodeNifti1InHeadroom(v);
    expect(file.buffer).toBe(v.hu.buffer);
    expect(Buffer.from(file).equals(Buffer.from(encodeNifti1(v)))).toBe(true);
  });

  it('copies a volume without reserved room, leaving the bytes before it alone', () => {
    const buffer = new ArrayBuffer(NIFTI1_HEADER_BYTES + 120);
    new Uint8Array(buffer).fill(7);
    const v = volume(new Int16Array(buffer, NIFTI1_HEADER_BYTES, 60));
    const file = encodeNifti1InHeadroom(v);
    expect(file.buffer).not.toBe(buffer);
    expect(new Uint8Array(buffer, 0, NIFTI1_HEADER_BYTES).every((b) => b === 7)).toBe(true);
    expect(Buffer.from(file).equals(Buffer.from(encodeNifti1(v)))).toBe(true);
  });
});
