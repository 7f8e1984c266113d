import { describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../../src/dicom/write-ct-series.js';
import { buildChestPhantom } from '../../../src/phantom/chest-phantom.js';
import { decodeNifti1Volume, encodeNifti1, voxelToRasAffine } from '../../../src/volume/nifti.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { PADDING_HU } from '../../../src/volume/volume.js';
import { readNifti1 } from '../../fixtures/nifti-reader.js';

describe('chest phantom -> DICOM -> reconstruction -> NIfTI', () => {
  const phantom = buildChestPhantom({ matrix: 80, pixelSpacingMm: 4.2, sliceSpacingMm: 5, lengthMm: 250 });
  const series = writeCtSeries({ ...phantom, patientId: 'P', patientName: 'P^P', seriesDescription: 'test' });
  // Shuffled: reconstruction must order slices by position, not by arrival.
  const shuffled = series.files.map((bytes, k) => ({ source: `slice-${k}`, bytes })).reverse();

  it.each([
    ['separate slice buffers', undefined],
    ['one buffer sorted in place', series.files.length],
  ])('reconstructs the phantom voxel for voxel, padding as air (%s)', async (_, expectedSlices) => {
    const result = await reconstructSeries(shuffled, { expectedSlices });
    expect(result.accepted).toBe(true);
    const volume = result.volume!;
    expect(volume.dimensions).toEqual(phantom.dimensions);
    expect(volume.spacingMm).toEqual([4.2, 4.2, 5]);
    expect(volume.originLps).toEqual(phantom.originLps);
    let differences = 0;
    for (let index = 0; index < volume.hu.length; index += 1) {
      const expected = phantom.paddingMask[index] ? PADDING_HU : phantom.hu[index];
      if (volume.hu[index] !== expected) differences += 1;
    }
    expect(differences).toBe(0);
    expect(volume.paddingVoxels).toBe(phantom.paddingMask.reduce((n, v) => n + v, 0));
    expect(volume.paddingVoxels).toBeGreaterThan(0);
  });

  it('reads its own NIfTI back voxel for voxel, and refuses a truncated one', async () => {
    const volume = (await reconstructSeries(shuffled)).volume!;
    const bytes = encodeNifti1(volume);
    const back = decodeNifti1Volume(bytes, volume);
    expect(back.dimensions).toEqual(volume.dimensions);
    expect(
      Buffer.compare(
        Buffer.from(back.hu.buffer),
        Buffer.from(volume.hu.buffer, volume.hu.byteOffset, volume.hu.byteLength),
      ),
    ).toBe(0);
    // An odd byte offset (a Buffer slice) reads the same values.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodeNifti1Volume(shifted.subarray(1), volume).hu).toEqual(back.hu);
    expect(() => decodeNifti1Volume(bytes.subarray(0, bytes.length - 2), volume)).toThrow(/truncated/);
  });

  it('places each nodule centre where the phantom put it (through the NIfTI affine)', async () => {
    const volume = (await reconstructSeries(shuffled)).volume!;
    const nifti = readNifti1(encodeNifti1(volume));
    expect(nifti.sformCode).toBe(1);
    expect(nifti.sform).toEqual(
      voxelToRasAffine(volume)
        .slice(0, 12)
        .map((v) => Math.fround(v)),
    );
    for (const nodule of phantom.nodules) {
      const [x, y, z] = nodule.centreLps;
      const i = Math.round((x - volume.originLps[0]) / volume.spacingMm[0]);
      const j = Math.round((y - volume.originLps[1]) / volume.spacingMm[1]);
      const k = Math.round((z - volume.originLps[2]) / volume.spacingMm[2]);
      const ras = [0, 1, 2].map(
        (r) =>
          nifti.sform[4 * r]! * i +
          nifti.sform[4 * r + 1]! * j +
          nifti.sform[4 * r + 2]! * k +
          nifti.sform[4 * r + 3]!,
      );
      // RAS = (-x, -y, z) of LPS; within half a voxel of the true centre.
      expect(Math.abs(ras[0]! + x)).toBeLessThanOrEqual(volume.spacingMm[0] / 2 + 1e-3);
      expect(Math.abs(ras[1]! + y)).toBeLessThanOrEqual(volume.spacingMm[1] / 2 + 1e-3);
      expect(Math.abs(ras[2]! - z)).toBeLessThanOrEqual(volume.spacingMm[2] / 2 + 1e-3);
      const [nx, ny] = volume.dimensions;
      // At 4.2 mm voxels only nodules of 8 mm and more survive partial volume clearly (lung is -860 HU).
      if (nodule.diameterMm >= 8) expect(nifti.values[i + nx * (j + ny * k)]).toBeGreaterThan(-750);
    }
  });

  it('rejects a series with too few slices and names the reason', async () => {
    const result = await reconstructSeries(shuffled.slice(0, 5));
    expect(result.accepted).toBe(false);
    expect(result.issues.map((i) => i.code)).toEqual(
      expect.arrayContaining(['too-few-slices', 'incomplete-coverage']),
    );
  });

  it('reports a gap as missing slices and still builds an evenly spaced volume', async () => {
    const withGap = shuffled.filter((_, index) => index !== 20 && index !== 21);
    const result = await reconstructSeries(withGap);
    expect(result.issues.find((i) => i.code === 'missing-slices')?.severity).toBe('incomplete');
    expect(result.volume!.dimensions[2]).toBe(phantom.dimensions[2]);
    expect(result.volume!.spacingMm[2]).toBeCloseTo(5, 6);
  });
});
