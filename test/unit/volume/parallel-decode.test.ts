import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reconstructSeries, type SeriesInstance } from '../../../src/volume/reconstruct-series.js';
import { listFiles } from '../../../src/dicom/part10-files.js';
import { seriesFileInstances } from '../../../src/volume/series-files.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const SERIES = ['lidc/LIDC-IDRI-0001', 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-parallel-decode-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Everything a reconstruction reports except the voxel memory's location. */
function summary(result: Awaited<ReturnType<typeof reconstructSeries>>) {
  const { volume, ...rest } = result;
  return { ...rest, volume: volume && { ...volume, hu: undefined } };
}

/** Voxel for voxel (a plain toEqual on millions of voxels is far too slow). */
const sameVoxels = (a: Int16Array, b: Int16Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!sampleDir)('parallel decoding (worker threads into one shared buffer)', () => {
  it.each(SERIES)('%s: the same voxels and report as decoding in the calling thread', async (relative) => {
    const files = await listFiles([path.join(sampleDir!, relative)]);
    const serial = await reconstructSeries(seriesFileInstances(files), {
      expectedSlices: files.length,
      decodeThreads: 1,
    });
    // Files read by the threads themselves, and bytes moved to them (as the ingest activity does).
    const fromPaths = await reconstructSeries(seriesFileInstances(files), {
      expectedSlices: files.length,
      decodeThreads: 3,
    });
    const bytes: SeriesInstance[] = files
      .filter((file) => !file.endsWith('.xml'))
      .map((file) => ({ source: file, bytes: fs.readFileSync(file) }));
    const moved = await reconstructSeries(bytes, {
      expectedSlices: bytes.length,
      scratchInput: true,
      transferInput: true,
      decodeThreads: 3,
    });
    expect(serial.volume).toBeDefined();
    for (const parallel of [fromPaths, moved]) {
      expect(summary(parallel)).toEqual(summary(serial));
      expect(sameVoxels(parallel.volume!.hu, serial.volume!.hu)).toBe(true);
    }
    // The volume is the shared buffer itself (sorted in place), not a copy of it.
    expect(fromPaths.volume!.hu.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('reports an undecodable instance decoded on a worker thread as INVALID_DICOM, like the calling thread', async () => {
    const source = path.join(sampleDir!, 'lidc/LIDC-IDRI-0001');
    const slices = (await listFiles([source])).filter((file) => file.endsWith('.dcm')).slice(0, 40);
    const folder = fs.mkdtempSync(path.join(work, 'bad-'));
    // First in name order, so that it goes to a worker thread (the first decodes are handed to them).
    const truncated = path.join(folder, '000-truncated.dcm');
    fs.writeFileSync(truncated, fs.readFileSync(slices[0]!).subarray(0, 200_000));
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'not DICOM');
    for (const file of slices.slice(1)) fs.copyFileSync(file, path.join(folder, path.basename(file)));
    const files = await listFiles([folder]);

    const results = [];
    for (const decodeThreads of [1, 2]) {
      results.push(
        await reconstructSeries(seriesFileInstances(files), { expectedSlices: files.length, decodeThreads }),
      );
    }
    const [serial, parallel] = results;
    expect(parallel!.undecodable.map((u) => u.source)).toEqual([truncated]);
    expect(parallel!.undecodable[0]!.reason).toMatch(/truncated|Pixel Data/);
    expect(parallel!.undecodable).toEqual(serial!.undecodable);
    expect(parallel!.issues).toEqual(serial!.issues);
    const missing = parallel!.issues.find((issue) => issue.message.includes('could not be decoded'));
    expect(missing?.message).toContain('000-truncated.dcm');
    // Built from the other 39 (resampled: a name-ordered subset leaves gaps), the same in both.
    expect(sameVoxels(parallel!.volume!.hu, serial!.volume!.hu)).toBe(true);
  });

  it('fails as a whole, naming the file, when a worker thread cannot read one', async () => {
    const missing = path.join(work, 'missing.dcm');
    const instances = Array.from({ length: 20 }, () => ({ source: missing, path: missing }));
    await expect(reconstructSeries(instances, { decodeThreads: 2 })).rejects.toThrow(/missing\.dcm/);
  });
});
