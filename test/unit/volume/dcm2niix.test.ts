import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPart10, listFiles } from '../../../src/dicom/part10-files.js';
import { voxelToRasAffine } from '../../../src/volume/nifti.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer, seriesFileInstances } from '../../../src/volume/series-files.js';
import { PADDING_HU, type CtVolume } from '../../../src/volume/volume.js';
import { readNifti1 } from '../../fixtures/nifti-reader.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const hasDcm2niix = (() => {
  try {
    execFileSync('dcm2niix', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined; // `-v` exits non-zero on some builds but runs
  }
})();

const SERIES = ['lidc/LIDC-IDRI-0001', 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L/dicom'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-dcm2niix-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/**
 * `fresh-buffers`: one buffer per file, kept (the general path). `reused-buffer`: one buffer reused for every
 * file and decoded in place. `worker-threads`: files read and decoded by worker threads and the calling thread
 * into one shared buffer (the path of `nodus volume` and the benchmark).
 */
type ReadingMode = 'fresh-buffers' | 'reused-buffer' | 'worker-threads';

async function reconstructFolder(folder: string, mode: ReadingMode) {
  const files = await listFiles([folder]);
  if (mode === 'worker-threads') {
    return reconstructSeries(seriesFileInstances(files), { expectedSlices: files.length, decodeThreads: 3 });
  }
  if (mode === 'reused-buffer') {
    return reconstructSeries(readPart10FilesReusingBuffer(files), {
      expectedSlices: files.length,
      scratchInput: true,
    });
  }
  const dicom = files
    .map((file) => ({ source: file, bytes: fs.readFileSync(file) }))
    .filter(({ bytes }) => isPart10(bytes));
  return reconstructSeries(dicom, { expectedSlices: dicom.length });
}

function dcm2niix(folder: string) {
  const out = fs.mkdtempSync(path.join(work, 'out-'));
  execFileSync('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'volume', '-o', out, folder], { stdio: 'ignore' });
  const niftis = fs.readdirSync(out).filter((name) => name.endsWith('.nii'));
  expect(niftis).toHaveLength(1);
  return readNifti1(fs.readFileSync(path.join(out, niftis[0]!)));
}

/** Inverse of a 3x4 affine (rotation/scale + translation), as 3x4. */
function invert(m: number[]): number[] {
  const [a, b, c, tx, d, e, f, ty, g, h, i, tz] = m as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const inv = [
    (e * i - f * h) / det,
    (c * h - b * i) / det,
    (b * f - c * e) / det,
    (f * g - d * i) / det,
    (a * i - c * g) / det,
    (c * d - a * f) / det,
    (d * h - e * g) / det,
    (b * g - a * h) / det,
    (a * e - b * d) / det,
  ];
  const t = [
    -(inv[0]! * tx + inv[1]! * ty + inv[2]! * tz),
    -(inv[3]! * tx + inv[4]! * ty + inv[5]! * tz),
    -(inv[6]! * tx + inv[7]! * ty + inv[8]! * tz),
  ];
  return [
    inv[0]!,
    inv[1]!,
    inv[2]!,
    t[0]!,
    inv[3]!,
    inv[4]!,
    inv[5]!,
    t[1]!,
    inv[6]!,
    inv[7]!,
    inv[8]!,
    t[2]!,
  ];
}

const apply = (m: number[], p: [number, number, number]): [number, number, number] => [
  m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!,
  m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!,
  m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!,
];

/**
 * Compares our volume with dcm2niix's voxel by voxel in world space: every voxel centre of ours maps to a
 * voxel centre of theirs (within 1e-3 mm), and the HU values there are equal, padding voxels aside.
 */
function compare(volume: CtVolume, theirs: ReturnType<typeof readNifti1>) {
  const ours = voxelToRasAffine(volume);
  const toTheirs = invert(theirs.sform);
  const [nx, ny, nz] = volume.dimensions;
  expect([...theirs.dims].sort()).toEqual([...volume.dimensions].sort());
  let worstMm = 0;
  for (const corner of [
    [0, 0, 0],
    [nx - 1, 0, 0],
    [0, ny - 1, 0],
    [0, 0, nz - 1],
    [nx - 1, ny - 1, nz - 1],
  ] as const) {
    const world = apply(ours, [...corner]);
    const index = apply(toTheirs, world).map(Math.round) as [number, number, number];
    const back = apply(theirs.sform, index);
    worstMm = Math.max(worstMm, Math.hypot(world[0] - back[0], world[1] - back[1], world[2] - back[2]));
  }
  expect(worstMm).toBeLessThan(1e-3);

  // Our voxel index -> their voxel index, an integer affine map.
  const map = [0, 1, 2]
    .map((row) =>
      [0, 1, 2, 3].map((col) => {
        const unit = (p: [number, number, number]) => apply(toTheirs, apply(ours, p));
        const origin = unit([0, 0, 0]);
        if (col === 3) return Math.round(origin[row]!);
        const e: [number, number, number] = [0, 0, 0];
        e[col] = 1;
        return Math.round(unit(e)[row]! - origin[row]!);
      }),
    )
    .flat();
  const [tx, ty] = theirs.dims;
  let compared = 0;
  let padding = 0;
  const mismatches: string[] = [];
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1)
      for (let i = 0; i < nx; i += 1) {
        const [a, b, c] = apply(map, [i, j, k]);
        const theirsHu = theirs.values[a + tx * (b + ty * c)]!;
        const oursHu = volume.hu[i + nx * (j + ny * k)]!;
        if (oursHu === theirsHu) compared += 1;
        else if (oursHu === PADDING_HU) padding += 1;
        else if (mismatches.length < 5)
          mismatches.push(`(${i},${j},${k}) ours ${oursHu} dcm2niix ${theirsHu}`);
      }
  expect(mismatches).toEqual([]);
  expect(padding).toBe(volume.paddingVoxels);
  return { compared, padding };
}

describe.skipIf(!sampleDir || !hasDcm2niix)('reconstruction against dcm2niix', () => {
  const cases = SERIES.flatMap((series) =>
    (['fresh-buffers', 'reused-buffer', 'worker-threads'] as const).map((mode) => [series, mode] as const),
  );
  it.each(cases)('%s (%s): voxel-exact HU and the same affine', async (relative, mode) => {
    const folder = path.join(sampleDir!, relative);
    const result = await reconstructFolder(folder, mode);
    expect(result.volume).toBeDefined();
    const { compared, padding } = compare(result.volume!, dcm2niix(folder));
    expect(compared + padding).toBe(result.volume!.hu.length);
  });
});
