import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { readImageAttributes } from '../../../src/dicom/image-dataset.js';
import { decodeInstance } from '../../../src/dicom/pixel-data.js';
import { syntheticCtInstance, testUid } from '../../fixtures/synthetic-instance.js';
import { sampleDir } from '../../fixtures/sample-data.js';

/** The dcmjs naturalized dataset, reduced to the keys the fast reader produced (recursively). */
function dcmjsView(bytes: Uint8Array, like: unknown): unknown {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const { dict } = dcmjs.data.DicomMessage.readFile(buffer);
  delete dict['7FE00010'];
  const natural = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict);
  const pick = (value: unknown, shape: unknown): unknown => {
    if (Array.isArray(shape)) return (value as unknown[]).map((v, k) => pick(v, shape[k] ?? shape[0]));
    if (shape && typeof shape === 'object') {
      return Object.fromEntries(
        Object.keys(shape).map((key) => [
          key,
          pick((value as Record<string, unknown>)[key], (shape as Record<string, unknown>)[key]),
        ]),
      );
    }
    return Array.isArray(value) ? [...(value as unknown[])] : value;
  };
  return pick(natural, like);
}

function synthetic(): Uint8Array {
  return syntheticCtInstance({
    studyInstanceUid: testUid(),
    seriesInstanceUid: testUid(),
    sopInstanceUid: testUid(),
  });
}

describe('readImageAttributes', () => {
  it('reads the image attributes as dcmjs naturalizes them', () => {
    const bytes = synthetic();
    const image = readImageAttributes(bytes);
    expect(image?.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    expect(image?.dataset).toMatchObject({
      Modality: 'CT',
      ImagePositionPatient: [-100, -100, 0],
      PixelSpacing: [0.7, 0.7],
      Rows: 8,
      PixelRepresentation: 1,
      RescaleSlope: 1,
    });
    expect(image?.dataset).toEqual(dcmjsView(bytes, image?.dataset));
    expect(image?.pixelData.length).toBe(8 * 8 * 2);
  });

  it('steps aside for files it does not read (no Pixel Data, not Part 10)', () => {
    const bytes = synthetic();
    const cut = bytes.subarray(0, bytes.byteLength - 8 * 8 * 2 - 12);
    expect(readImageAttributes(cut)).toBeUndefined();
    expect(readImageAttributes(bytes.subarray(0, bytes.byteLength - 10))).toBeUndefined();
    expect(readImageAttributes(new Uint8Array(200))).toBeUndefined();
  });

  it('leaves the caller’s bytes unchanged while decoding in place', async () => {
    const bytes = synthetic();
    const before = Buffer.from(bytes);
    const { pixels } = await decodeInstance(bytes);
    pixels.frames[0]![0] = 1234;
    expect(Buffer.from(bytes).equals(before)).toBe(true);
  });
});

describe.skipIf(!sampleDir)('readImageAttributes on the shared real CT data', () => {
  const files = sampleDir
    ? fs
        .readdirSync(sampleDir, { recursive: true })
        .map((file) => path.join(sampleDir!, String(file)))
        .filter((file) => file.endsWith('.dcm'))
    : [];

  it('matches dcmjs for every file it reads, and reads all little-endian, non-deflated ones', () => {
    let read = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      const image = readImageAttributes(bytes);
      if (!image) continue;
      read += 1;
      expect(image.dataset, file).toEqual(dcmjsView(bytes, image.dataset));
    }
    // Everything but the deflated, big endian and Elscint-without-Pixel-Data files.
    expect(read).toBeGreaterThanOrEqual(files.length - 4);
  });
});

describe('decodeInstance on a Node Buffer at an odd offset (a STOW-RS part inside the request body)', () => {
  it('decodes without touching the caller’s bytes', async () => {
    const file = synthetic();
    const body = Buffer.alloc(file.length + 3);
    body.set(file, 1);
    const part = body.subarray(1, 1 + file.length);
    const before = Buffer.from(part);
    const { pixels } = await decodeInstance(part);
    expect(pixels.frames[0]).toEqual((await decodeInstance(file)).pixels.frames[0]);
    pixels.frames[0]![0] = 1234;
    expect(part.equals(before)).toBe(true);
  });
});
