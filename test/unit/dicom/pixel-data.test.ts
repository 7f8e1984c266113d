import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { readEncapsulatedFrames } from '../../../src/dicom/codecs/encapsulated.js';
import { decodeInstance, type DecodedInstance } from '../../../src/dicom/pixel-data.js';
import { DomainError } from '../../../src/shared/errors.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const robustnessDir = sampleDir && path.join(sampleDir, 'robustness');
const derivedDir = robustnessDir && path.join(robustnessDir, 'derived');

const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLs: '1.2.840.10008.1.2.4.80',
  jpegLsNear: '1.2.840.10008.1.2.4.81',
  j2kLossless: '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
} as const;

/** md5 of a frame's bytes as stored in memory (little endian on every supported platform), first 12 hex digits. */
function md5(frame: ArrayBufferView): string {
  return crypto
    .createHash('md5')
    .update(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength))
    .digest('hex')
    .slice(0, 12);
}

function range(frames: DecodedInstance['pixels']['frames']): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const frame of frames) {
    for (const v of frame) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return [min, max];
}

async function rejection(bytes: Uint8Array): Promise<DomainError> {
  try {
    await decodeInstance(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('INVALID_DICOM');
    return error as DomainError;
  }
  throw new Error('expected decodeInstance to reject');
}

describe.skipIf(!derivedDir)('decodeInstance: one slice in 7 transfer syntaxes (robustness/derived)', () => {
  // MANIFEST.txt: all seven hold byte-identical pixels; md5 of the raw little-endian pixels starts b878c43e5a49.
  const cases = [
    ['lungdx_A0001_1-13_implicit_little_endian_ORIGINAL.dcm', TS.implicitLittle],
    ['lungdx_A0001_1-13_explicit_little_endian.dcm', TS.explicitLittle],
    ['lungdx_A0001_1-13_deflated.dcm', TS.deflated],
    ['lungdx_A0001_1-13_explicit_big_endian.dcm', TS.explicitBig],
    ['lungdx_A0001_1-13_rle.dcm', TS.rle],
    ['lungdx_A0001_1-13_jpeg_lossless_sv1.dcm', TS.jpegLosslessSv1],
    ['lungdx_A0001_1-13_jpegls_lossless.dcm', TS.jpegLs],
  ] as const;
  const read = (file: string) => fs.readFileSync(path.join(derivedDir!, file));

  it.each(cases)('%s (%s) decodes to the reference pixels', async (file, transferSyntaxUid) => {
    const { transferSyntaxUid: uid, pixels, dataset } = await decodeInstance(read(file));
    expect(uid).toBe(transferSyntaxUid);
    expect(pixels).toMatchObject({
      rows: 512,
      columns: 512,
      numberOfFrames: 1,
      bitsAllocated: 16,
      bitsStored: 12,
      pixelRepresentation: 0,
    });
    expect(pixels.frames).toHaveLength(1);
    expect(pixels.frames[0]).toBeInstanceOf(Uint16Array);
    expect(pixels.frames[0]).toHaveLength(512 * 512);
    expect(md5(pixels.frames[0]!)).toBe('b878c43e5a49');
    expect(dataset.PixelData).toBeUndefined();
    expect(Number(dataset.RescaleIntercept)).toBe(-1024);
  });

  it('gives identical arrays for all seven', async () => {
    const [reference, ...others] = await Promise.all(cases.map(([file]) => decodeInstance(read(file))));
    const bytes = (d: DecodedInstance) => {
      const frame = d.pixels.frames[0]!;
      return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    };
    for (const other of others) {
      expect(other.pixels.frames[0]!.constructor).toBe(Uint16Array);
      expect(bytes(other).equals(bytes(reference!))).toBe(true);
    }
  });

  it.each([
    ['lungdx_A0001_1-13_explicit_little_endian.dcm'],
    ['lungdx_A0001_1-13_jpeg_lossless_sv1.dcm'],
    ['lungdx_A0001_1-13_rle.dcm'],
  ])('%s decodes the same from bytes at an odd offset', async (file) => {
    const bytes = read(file);
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const { pixels } = await decodeInstance(shifted.subarray(1));
    expect(md5(pixels.frames[0]!)).toBe('b878c43e5a49');
  });
});

describe.skipIf(!robustnessDir)('decodeInstance: the robustness files', () => {
  interface Expected {
    transferSyntaxUid: string;
    rows: number;
    columns: number;
    bitsStored: number;
    pixelRepresentation: 0 | 1;
    /** md5 prefix per frame; checked against dcmtk (dcmdjpeg, dcmdjpls) and dcm2niix (JPEG 2000, native). */
    md5: string[];
    range: [number, number];
  }
  const decodes: Record<string, Expected> = {
    'orthanc_comunix_ct_jpeg2000_siemens_1.dcm': {
      transferSyntaxUid: TS.j2k,
      rows: 512,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['982d99a3014a'],
      range: [0, 3527],
    },
    'orthanc_comunix_ct_jpeg2000_siemens_2.dcm': {
      transferSyntaxUid: TS.j2k,
      rows: 512,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['ab8f28cae799'],
      range: [0, 2528],
    },
    'orthanc_ct_358x512_philips.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 358,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['c5941e31b12a'],
      range: [0, 2092],
    },
    // The same image as the 358x512 file above, deflated.
    'orthanc_ct_deflated_1.2.840.10008.1.2.1.99_philips.dcm': {
      transferSyntaxUid: TS.deflated,
      rows: 358,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['c5941e31b12a'],
      range: [0, 2092],
    },
    // Accepted: it holds standard Pixel Data (512x512x16 bits, what Orthanc decompressed from the Elscint
    // original). (07A1,1011) still says PMSCT_RLE1 but the private compressed element (07A1,100A) is gone;
    // the pixels agree with dcm2niix and span a plausible CT range (-1024..1265 HU).
    'orthanc_ct_elscint_private_raw_philips.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 512,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['3b672c7d046e'],
      range: [0, 2289],
    },
    'orthanc_ct_jpeg2000_1.2.840.10008.1.2.4.91_ge.dcm': {
      transferSyntaxUid: TS.j2k,
      rows: 512,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['05bbdbcc8108'],
      range: [-2315, 2409],
    },
    'orthanc_ct_jpeglossless_sv1_1.2.840.10008.1.2.4.70_ge.dcm': {
      transferSyntaxUid: TS.jpegLosslessSv1,
      rows: 400,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['78bb9ea4b746'],
      range: [-196, 406],
    },
    'orthanc_ct_jpegls_nearlossless_1.2.840.10008.1.2.4.81_toshiba.dcm': {
      transferSyntaxUid: TS.jpegLsNear,
      rows: 512,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['487cf4d7cab7'],
      range: [-2052, 1434],
    },
    'orthanc_ct_signed_ge.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 512,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['d7a5302418ec'],
      range: [-2000, 4042],
    },
    'pydicom_deb_CT_small_128x128.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 128,
      columns: 128,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['45df16134454'],
      range: [128, 2191],
    },
    // Labelled lossy, yet it decodes to exactly the pixels of the uncompressed CQ500 file below.
    'pydicom_deb_ct_head_jpeg2000_lossy_CQ500.dcm': {
      transferSyntaxUid: TS.j2k,
      rows: 512,
      columns: 512,
      bitsStored: 14,
      pixelRepresentation: 1,
      md5: ['ca4f060bbf65'],
      range: [-2971, 2836],
    },
    'pydicomdata_ct_head_jpeg2000lossless_CQ500.dcm': {
      transferSyntaxUid: TS.j2kLossless,
      rows: 512,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 1,
      md5: ['59be1c858534'],
      range: [-2000, 2492],
    },
    'pydicomdata_ct_head_uncompressed_CQ500.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 512,
      columns: 512,
      bitsStored: 14,
      pixelRepresentation: 1,
      md5: ['ca4f060bbf65'],
      range: [-2971, 2836],
    },
    'pydicomdata_ct_jpeglossless_bad_sequence.dcm': {
      transferSyntaxUid: TS.jpegLosslessSv1,
      rows: 512,
      columns: 512,
      bitsStored: 12,
      pixelRepresentation: 0,
      md5: ['e91cd9cf100b'],
      range: [13, 2267],
    },
    'pydicomdata_enhanced_ct_2frames.dcm': {
      transferSyntaxUid: TS.explicitLittle,
      rows: 512,
      columns: 512,
      bitsStored: 16,
      pixelRepresentation: 0,
      md5: ['e9fef2a04c63', 'aab280f5cdd6'],
      range: [0, 1196],
    },
  };
  const rejected: Record<string, RegExp> = {
    'orthanc_ct_elscint_private_PMSCT_RLE1_philips.dcm':
      /^no Pixel Data \(7FE0,0010\); the pixels are in private Elscint compression \(07A1,100A\), which is not supported$/,
  };
  const read = (file: string) => fs.readFileSync(path.join(robustnessDir!, file));

  it('covers every file in the folder', () => {
    const files = fs.readdirSync(robustnessDir!).filter((f) => f.endsWith('.dcm'));
    expect(files.sort()).toEqual([...Object.keys(decodes), ...Object.keys(rejected)].sort());
  });

  it.each(Object.entries(decodes))('%s decodes', async (file, expected) => {
    const { transferSyntaxUid, pixels } = await decodeInstance(read(file));
    expect(transferSyntaxUid).toBe(expected.transferSyntaxUid);
    expect(pixels).toMatchObject({
      rows: expected.rows,
      columns: expected.columns,
      numberOfFrames: expected.md5.length,
      bitsAllocated: 16,
      bitsStored: expected.bitsStored,
      pixelRepresentation: expected.pixelRepresentation,
    });
    for (const frame of pixels.frames) {
      expect(frame).toBeInstanceOf(expected.pixelRepresentation === 1 ? Int16Array : Uint16Array);
      expect(frame).toHaveLength(expected.rows * expected.columns);
    }
    expect(pixels.frames.map(md5)).toEqual(expected.md5);
    expect(range(pixels.frames)).toEqual(expected.range);
  });

  it.each(Object.entries(rejected))('%s is rejected', async (file, message) => {
    expect((await rejection(read(file))).message).toMatch(message);
  });
});

describe.skipIf(!robustnessDir)('decodeInstance: damaged files', () => {
  const read = (file: string) => Buffer.from(fs.readFileSync(path.join(robustnessDir!, file)));
  const cut = (fraction: number) => (b: Buffer) => b.subarray(0, Math.floor(b.length * fraction));
  const at = (b: Buffer, marker: number[]) => {
    const index = b.indexOf(Buffer.from(marker));
    expect(index).toBeGreaterThan(0);
    return index;
  };
  const scramble = (marker: number[], from: number, to: number) => (b: Buffer) => {
    const start = at(b, marker);
    for (let i = start + from; i < start + to; i += 1) b[i] = (i * 37) & 0xff;
    return b;
  };
  const JPEG_LS_SOI = [0xff, 0xd8, 0xff, 0xf7];
  const J2K_SOC = [0xff, 0x4f, 0xff, 0x51];

  it.each([
    [
      'an explicit little endian file cut in its pixels',
      'derived/lungdx_A0001_1-13_explicit_little_endian.dcm',
      cut(0.6),
      /^the file is truncated inside Pixel Data \(it declares 524288 bytes, \d+ remain\)$/,
    ],
    [
      'an implicit little endian file missing its last bytes',
      'derived/lungdx_A0001_1-13_implicit_little_endian_ORIGINAL.dcm',
      (b: Buffer) => b.subarray(0, b.length - 2),
      /truncated inside Pixel Data \(it declares 524288 bytes, 524286 remain\)/,
    ],
    [
      'a big endian file cut in its pixels',
      'derived/lungdx_A0001_1-13_explicit_big_endian.dcm',
      cut(0.9),
      /truncated inside Pixel Data/,
    ],
    [
      'a deflated file cut short',
      'derived/lungdx_A0001_1-13_deflated.dcm',
      cut(0.99),
      /^the deflated data set is truncated or corrupt: unexpected end of file$/,
    ],
    [
      'a file cut in its header',
      'derived/lungdx_A0001_1-13_explicit_little_endian.dcm',
      cut(0.0006),
      /^not a readable DICOM Part 10 file/,
    ],
    [
      'a JPEG-LS file cut in its code stream',
      'derived/lungdx_A0001_1-13_jpegls_lossless.dcm',
      cut(0.6),
      /^the file is truncated inside the encapsulated Pixel Data \(fragment 1 declares 231514 bytes/,
    ],
    [
      'a JPEG-LS file without its sequence delimiter',
      'derived/lungdx_A0001_1-13_jpegls_lossless.dcm',
      (b: Buffer) => b.subarray(0, b.length - 8),
      /truncated inside the encapsulated Pixel Data \(no sequence delimiter\)/,
    ],
    [
      'a JPEG-LS file with scrambled code stream bytes',
      'derived/lungdx_A0001_1-13_jpegls_lossless.dcm',
      scramble(JPEG_LS_SOI, 1000, 2000),
      /^corrupt JPEG-LS data: Invalid JPEG-LS stream/,
    ],
    [
      'a near-lossless JPEG-LS file with scrambled code stream bytes',
      'orthanc_ct_jpegls_nearlossless_1.2.840.10008.1.2.4.81_toshiba.dcm',
      scramble(JPEG_LS_SOI, 600, 900),
      /^corrupt JPEG-LS data/,
    ],
    [
      'a JPEG 2000 file with a damaged main header',
      'pydicomdata_ct_head_jpeg2000lossless_CQ500.dcm',
      scramble(J2K_SOC, 0, 2),
      /^corrupt JPEG 2000 data: .*failed to read the header/,
    ],
    [
      'a JPEG 2000 file with a damaged tile-part length',
      'orthanc_comunix_ct_jpeg2000_siemens_1.dcm',
      scramble(J2K_SOC, 40, 200),
      /^corrupt JPEG 2000 data/,
    ],
    [
      'a JPEG lossless file without its SOI marker',
      'derived/lungdx_A0001_1-13_jpeg_lossless_sv1.dcm',
      scramble([0xff, 0xd8, 0xff], 0, 2),
      /^corrupt JPEG lossless data: Not a JPEG file$/,
    ],
    [
      'an RLE file with a wrong segment count',
      'derived/lungdx_A0001_1-13_rle.dcm',
      (b: Buffer) => {
        b[at(b, [2, 0, 0, 0, 64, 0, 0, 0])] = 3;
        return b;
      },
      /^the RLE frame has 3 segments; 2 expected/,
    ],
    [
      'an RLE file whose runs are damaged',
      'derived/lungdx_A0001_1-13_rle.dcm',
      (b: Buffer) => {
        const s = at(b, [2, 0, 0, 0, 64, 0, 0, 0]);
        b.fill(0x7f, s + 64, s + 3000);
        return b;
      },
      /^RLE segment 1 ends after \d+ of 262144 bytes$/,
    ],
  ] as const)('rejects %s', async (_what, file, damage, message) => {
    expect((await rejection(damage(read(file)))).message).toMatch(message);
  });

  it('still decodes with a codec after it rejected corrupt data', async () => {
    await rejection(scramble(JPEG_LS_SOI, 1000, 2000)(read('derived/lungdx_A0001_1-13_jpegls_lossless.dcm')));
    const { pixels } = await decodeInstance(read('derived/lungdx_A0001_1-13_jpegls_lossless.dcm'));
    expect(md5(pixels.frames[0]!)).toBe('b878c43e5a49');
  });
});

// ---- Synthetic objects: multi-frame encapsulation, bit masking, rejections -----------------------------

interface ImageOptions {
  rows?: number;
  columns?: number;
  numberOfFrames?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: number;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
}

/** A CT Part 10 file with native (little endian) or encapsulated pixel data, written with dcmjs. */
function part10(
  transferSyntaxUid: string,
  image: ImageOptions,
  pixelData: { native: Uint8Array } | { encapsulated: Uint8Array },
): Uint8Array {
  const sopInstanceUid = '2.25.4242';
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: transferSyntaxUid,
    ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1.1',
  });
  const dict = new dcmjs.data.DicomDict(meta);
  const bitsAllocated = image.bitsAllocated ?? 16;
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    SOPInstanceUID: sopInstanceUid,
    Modality: 'CT',
    Rows: image.rows ?? 2,
    Columns: image.columns ?? 2,
    ...(image.numberOfFrames === undefined ? {} : { NumberOfFrames: image.numberOfFrames }),
    SamplesPerPixel: image.samplesPerPixel ?? 1,
    PhotometricInterpretation: image.photometricInterpretation ?? 'MONOCHROME2',
    BitsAllocated: bitsAllocated,
    BitsStored: image.bitsStored ?? bitsAllocated,
    HighBit: (image.bitsStored ?? bitsAllocated) - 1,
    PixelRepresentation: image.pixelRepresentation ?? 0,
    RescaleIntercept: -1024,
    RescaleSlope: 1,
    ...('native' in pixelData
      ? {
          PixelData: [pixelData.native.slice().buffer],
          _vrMap: { PixelData: bitsAllocated > 8 ? 'OW' : 'OB' },
        }
      : {}),
  });
  const written = new Uint8Array(dict.write());
  if ('native' in pixelData) return written;
  return Buffer.concat([written, pixelData.encapsulated]);
}

/**
 * An encapsulated Pixel Data element (PS3.5 A.4): frames given as their fragments, fragments padded to
 * even length, with or without a Basic Offset Table.
 */
function encapsulate(frames: Uint8Array[][], withOffsetTable: boolean): Uint8Array {
  const item = (value: Uint8Array) => {
    const padded = value.byteLength % 2 ? Buffer.concat([value, Buffer.alloc(1)]) : Buffer.from(value);
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0xfffe, 0);
    header.writeUInt16LE(0xe000, 2);
    header.writeUInt32LE(padded.byteLength, 4);
    return Buffer.concat([header, padded]);
  };
  const offsets: number[] = [];
  const fragments: Buffer[] = [];
  let position = 0;
  for (const frame of frames) {
    offsets.push(position);
    for (const fragment of frame) {
      const encoded = item(fragment);
      fragments.push(encoded);
      position += encoded.byteLength;
    }
  }
  const table = Buffer.alloc(withOffsetTable ? 4 * offsets.length : 0);
  if (withOffsetTable) offsets.forEach((offset, k) => table.writeUInt32LE(offset, 4 * k));
  const header = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([header, item(table), ...fragments, delimiter]);
}

/** RLE Lossless (PS3.5 Annex G) of one frame of single-sample pixels: byte planes, MSB first, PackBits. */
function rleFrame(values: ArrayLike<number>, bytesPerSample: number): Uint8Array {
  const segments: Uint8Array[] = [];
  for (let s = 0; s < bytesPerSample; s += 1) {
    const shift = 8 * (bytesPerSample - 1 - s);
    segments.push(packBits(Uint8Array.from(Array.from(values, (v) => (v >>> shift) & 0xff))));
  }
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let offset = 64;
  segments.forEach((segment, s) => {
    header.writeUInt32LE(offset, 4 + 4 * s);
    offset += segment.byteLength;
  });
  return Buffer.concat([header, ...segments]);
}

function packBits(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run += 1;
    if (run >= 2) {
      out.push(257 - run, plane[i]!);
      i += run;
      continue;
    }
    let end = i + 1;
    while (end < plane.length && end - i < 128 && plane[end] !== plane[end + 1]) end += 1;
    out.push(end - i - 1, ...plane.subarray(i, end));
    i = end;
  }
  if (out.length % 2) out.push(0);
  return Uint8Array.from(out);
}

const words = (values: number[]) => new Uint8Array(Uint16Array.from(values).buffer);

describe('decodeInstance: stored values of native pixel data', () => {
  it.each([
    [
      'unsigned 12 of 16 bits: bits above HighBit dropped',
      { bitsStored: 12 },
      words([0xf123, 0x0fff, 0x1000, 7]),
      Uint16Array,
      [0x123, 0xfff, 0, 7],
    ],
    [
      'unsigned 12 of 16 bits: high bits only in the last of an odd count',
      { bitsStored: 12, rows: 1, columns: 3 },
      words([1, 2, 0xf003]),
      Uint16Array,
      [1, 2, 3],
    ],
    [
      'unsigned 12 of 16 bits, all clean',
      { bitsStored: 12, rows: 1, columns: 3 },
      words([1, 0xfff, 0]),
      Uint16Array,
      [1, 0xfff, 0],
    ],
    [
      'signed 12 of 16 bits: sign-extended from bit 11',
      { bitsStored: 12, pixelRepresentation: 1 },
      words([0x0fff, 0x0800, 0xf7ff, 0x07ff]),
      Int16Array,
      [-1, -2048, 2047, 2047],
    ],
    [
      'signed 16 bits',
      { pixelRepresentation: 1 },
      words([0xffff, 0x8000, 0x7fff, 0xfc18]),
      Int16Array,
      [-1, -32768, 32767, -1000],
    ],
    ['unsigned 16 bits', {}, words([0xffff, 0x8000, 0x7fff, 0]), Uint16Array, [65535, 32768, 32767, 0]],
    [
      'unsigned 8 bits, widened',
      { bitsAllocated: 8 },
      Uint8Array.from([0, 1, 200, 255]),
      Uint16Array,
      [0, 1, 200, 255],
    ],
    [
      'signed 8 bits, widened',
      { bitsAllocated: 8, pixelRepresentation: 1 },
      Uint8Array.from([0, 1, 0x80, 0xff]),
      Int16Array,
      [0, 1, -128, -1],
    ],
    [
      'signed 32 bits',
      { bitsAllocated: 32, pixelRepresentation: 1 },
      new Uint8Array(Int32Array.from([-70000, 70000, 0, -1]).buffer),
      Int32Array,
      [-70000, 70000, 0, -1],
    ],
    [
      'unsigned 20 of 32 bits',
      { bitsAllocated: 32, bitsStored: 20 },
      new Uint8Array(Uint32Array.from([0xfff00001, 0x000fffff, 0, 5]).buffer),
      Int32Array,
      [1, 0xfffff, 0, 5],
    ],
  ] as const)('%s', async (_what, image, native, type, expected) => {
    const { pixels } = await decodeInstance(part10(TS.explicitLittle, image, { native }));
    expect(pixels.frames).toHaveLength(1);
    expect(pixels.frames[0]).toBeInstanceOf(type);
    expect(Array.from(pixels.frames[0]!)).toEqual(expected);
  });

  it('leaves the input as it was, unless the caller gives it up with scratchInput', async () => {
    const native = words([0x0fff, 0x0800, 0xf7ff, 0x07ff]);
    const file = part10(TS.explicitLittle, { bitsStored: 12, pixelRepresentation: 1 }, { native });
    const before = Uint8Array.from(file);
    const kept = await decodeInstance(file);
    expect(Buffer.compare(file, before)).toBe(0);
    expect(kept.pixels.frames[0]!.buffer).not.toBe(file.buffer);

    const scratch = await decodeInstance(file, { scratchInput: true });
    expect(Array.from(scratch.pixels.frames[0]!)).toEqual(Array.from(kept.pixels.frames[0]!));
    // Aligned 16-bit data: the frame is a view of the caller's bytes, masked and sign-extended in place.
    if (file.byteOffset % 2 === 0 && scratch.pixels.frames[0]!.byteOffset % 2 === 0) {
      expect(scratch.pixels.frames[0]!.buffer).toBe(file.buffer);
      expect(Buffer.compare(file, before)).not.toBe(0);
    }
  });

  it('splits native multi-frame data into frames', async () => {
    const native = words([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const { pixels } = await decodeInstance(part10(TS.explicitLittle, { numberOfFrames: 3 }, { native }));
    expect(pixels.numberOfFrames).toBe(3);
    expect(pixels.frames.map((f) => Array.from(f))).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
  });
});

describe('decodeInstance: RLE Lossless', () => {
  const frame1 = [-1000, -1000, -1000, 0, 1, 2, 3, 3, 3, 3, 32767, -32768];
  const frame2 = [5, 5, 5, 5, 5, 5, -7, 8, -9, 10, 11, 11];
  const image = { rows: 3, columns: 4, numberOfFrames: 2, pixelRepresentation: 1 };

  it.each([
    ['with a Basic Offset Table', true],
    ['without a Basic Offset Table (one fragment per frame)', false],
  ])('decodes 16-bit signed multi-frame data %s', async (_what, withOffsetTable) => {
    const encapsulated = encapsulate([[rleFrame(frame1, 2)], [rleFrame(frame2, 2)]], withOffsetTable);
    const { pixels } = await decodeInstance(part10(TS.rle, image, { encapsulated }));
    expect(pixels.frames.map((f) => Array.from(f))).toEqual([frame1, frame2]);
    expect(pixels.frames[0]).toBeInstanceOf(Int16Array);
  });

  it.each([
    ['8-bit unsigned', { bitsAllocated: 8 }, [0, 0, 0, 255, 128, 7], 1],
    ['32-bit signed', { bitsAllocated: 32, pixelRepresentation: 1 }, [-100000, 100000, 0, 0, 0, -1], 4],
  ] as const)('decodes %s data', async (_what, format, values, bytes) => {
    const encapsulated = encapsulate([[rleFrame(values, bytes)]], false);
    const { pixels } = await decodeInstance(
      part10(TS.rle, { rows: 2, columns: 3, ...format }, { encapsulated }),
    );
    expect(Array.from(pixels.frames[0]!)).toEqual(values);
  });

  it('rejects a frame split over two fragments without an offset table', async () => {
    const [a, b, c] = [rleFrame(frame1, 2), rleFrame(frame2, 2), rleFrame(frame2, 2)];
    const encapsulated = encapsulate([[a.subarray(0, 40), a.subarray(40)], [b], [c]], false);
    const error = await rejection(part10(TS.rle, { ...image, numberOfFrames: 3 }, { encapsulated }));
    expect(error.message).toBe(
      'cannot split 4 Pixel Data fragments into 3 frames (no usable Basic Offset Table)',
    );
  });
});

describe.skipIf(!robustnessDir)(
  'decodeInstance: multi-frame JPEG 2000 and JPEG-LS built from real code streams',
  () => {
    const codestream = (file: string) =>
      readEncapsulatedFrames(fs.readFileSync(path.join(robustnessDir!, file)), 1, 'none')[0]!;
    const halves = (c: Uint8Array, at: number) => [c.subarray(0, at), c.subarray(at)];

    it.each([
      ['with a Basic Offset Table', true, false],
      ['without an offset table, one fragment per frame', false, false],
      ['without an offset table, each frame in two fragments', false, true],
      ['with a Basic Offset Table, each frame in two fragments', true, true],
    ])('JPEG 2000 %s', async (_what, withOffsetTable, split) => {
      const files = [
        'orthanc_comunix_ct_jpeg2000_siemens_2.dcm',
        'orthanc_comunix_ct_jpeg2000_siemens_1.dcm',
      ];
      const streams = files.map(codestream);
      const frames = streams.map((c) => (split ? halves(c, 33334) : [c]));
      const encapsulated = encapsulate(frames, withOffsetTable);
      const image = { rows: 512, columns: 512, numberOfFrames: 2, bitsStored: 12 };
      const { pixels } = await decodeInstance(part10(TS.j2k, image, { encapsulated }));
      expect(pixels.frames.map(md5)).toEqual(['ab8f28cae799', '982d99a3014a']);
    });

    it('JPEG-LS without an offset table, each frame in three fragments', async () => {
      const c = codestream('derived/lungdx_A0001_1-13_jpegls_lossless.dcm');
      const pieces = [c.subarray(0, 1000), c.subarray(1000, 50000), c.subarray(50000)]; // even lengths, as PS3.5 requires
      const encapsulated = encapsulate([pieces, pieces, pieces], false);
      const image = { rows: 512, columns: 512, numberOfFrames: 3, bitsStored: 12 };
      const { pixels } = await decodeInstance(part10(TS.jpegLs, image, { encapsulated }));
      expect(pixels.frames.map(md5)).toEqual(['b878c43e5a49', 'b878c43e5a49', 'b878c43e5a49']);
    });

    it('JPEG lossless (process 14, 1.2.840.10008.1.2.4.57) with selection value 1', async () => {
      const c = codestream('derived/lungdx_A0001_1-13_jpeg_lossless_sv1.dcm');
      const image = { rows: 512, columns: 512, bitsStored: 12 };
      const { pixels } = await decodeInstance(
        part10(TS.jpegLossless, image, { encapsulated: encapsulate([[c]], false) }),
      );
      expect(md5(pixels.frames[0]!)).toBe('b878c43e5a49');
    });

    it('rejects a code stream whose size differs from Rows x Columns', async () => {
      const c = codestream('orthanc_comunix_ct_jpeg2000_siemens_1.dcm');
      const image = { rows: 256, columns: 512, bitsStored: 12 };
      const error = await rejection(part10(TS.j2k, image, { encapsulated: encapsulate([[c]], false) }));
      expect(error.message).toBe(
        'JPEG 2000 frame 1 decodes to 512x512x1 but Columns x Rows x SamplesPerPixel is 512x256x1',
      );
    });
  },
);

describe('decodeInstance: JPEG baseline (8-bit)', () => {
  // A 16x16 gradient, value round((i + j) / 30 * 255), encoded by dcmtk 3.6.7 (dcmcjpeg +eb +q 95).
  const jpeg = Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggL' +
      'DAsKDAkKCgr/wAALCAAQABABAREA/8QAFQABAQAAAAAAAAAAAAAAAAAACQD/xAAZEAABBQAAAAAAAAAAAAAAAAAIACU0QlH/2gAIAQEAAD8A' +
      'O4ZBkjt+VSIDIMkdvyqhkGSO35VIgMgyR2/Kr//Z',
    'base64',
  );

  it('decodes to the gradient within 1 grey level (lossy)', async () => {
    const image = { rows: 16, columns: 16, bitsAllocated: 8 };
    const bytes = part10('1.2.840.10008.1.2.4.50', image, { encapsulated: encapsulate([[jpeg]], true) });
    const { pixels } = await decodeInstance(bytes);
    const frame = pixels.frames[0]!;
    expect(frame).toBeInstanceOf(Uint16Array);
    let worst = 0;
    for (let j = 0; j < 16; j += 1) {
      for (let i = 0; i < 16; i += 1) {
        worst = Math.max(worst, Math.abs(frame[i + 16 * j]! - Math.round(((i + j) / 30) * 255)));
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('decodeInstance: rejected objects', () => {
  const native = words([1, 2, 3, 4]);
  it.each([
    [
      'bytes that are not DICOM',
      new TextEncoder().encode('<xml>not dicom</xml>'),
      /^not a readable DICOM Part 10 file/,
    ],
    ['an empty file', new Uint8Array(0), /^not a readable DICOM Part 10 file/],
    [
      'an unsupported transfer syntax',
      part10(
        '1.2.840.10008.1.2.4.51',
        {},
        { encapsulated: encapsulate([[Uint8Array.from([0xff, 0xd8])]], false) },
      ),
      /^unsupported transfer syntax JPEG Extended \(Process 2 & 4, 12-bit\) \(1\.2\.840\.10008\.1\.2\.4\.51\)$/,
    ],
    [
      'an unknown transfer syntax',
      part10('1.2.3.4', {}, { native }),
      /^unsupported \(unknown\) transfer syntax 1\.2\.3\.4$/,
    ],
    [
      'colour pixels',
      part10(
        TS.explicitLittle,
        { samplesPerPixel: 3, photometricInterpretation: 'RGB' },
        { native: new Uint8Array(24) },
      ),
      /^SamplesPerPixel is 3; only single-sample \(greyscale\) images are supported$/,
    ],
    [
      'palette colour',
      part10(TS.explicitLittle, { photometricInterpretation: 'PALETTE COLOR' }, { native }),
      /^PhotometricInterpretation is PALETTE COLOR; only MONOCHROME1 and MONOCHROME2 are supported$/,
    ],
    [
      '12-bit allocation',
      part10(TS.explicitLittle, { bitsAllocated: 12 }, { native }),
      /^BitsAllocated is 12; only 8, 16 and 32 are supported$/,
    ],
    [
      'BitsStored above BitsAllocated',
      part10(TS.explicitLittle, { bitsStored: 17 }, { native }),
      /^BitsStored 17 does not fit BitsAllocated 16$/,
    ],
    [
      'pixel data shorter than its frames',
      part10(TS.explicitLittle, { numberOfFrames: 3 }, { native: words([1, 2, 3, 4, 5, 6, 7, 8]) }),
      /^Pixel Data holds 16 bytes but Rows x Columns x NumberOfFrames x BitsAllocated\/8 = 2 x 2 x 3 x 2 = 24/,
    ],
    [
      'encapsulated data without fragments',
      part10(TS.rle, {}, { encapsulated: encapsulate([], false) }),
      /^the encapsulated Pixel Data holds no fragments$/,
    ],
    [
      'encapsulated data with a stray tag',
      part10(
        TS.rle,
        {},
        {
          encapsulated: Buffer.concat([
            encapsulate([], false).subarray(0, 20),
            Buffer.from([0x08, 0, 0x10, 0, 0, 0, 0, 0]),
          ]),
        },
      ),
      /^not a readable DICOM Part 10 file: Invalid tag in sequence$/,
    ],
  ] as const)('%s', async (_what, bytes, message) => {
    expect((await rejection(bytes)).message).toMatch(message);
  });

  it('names the transfer syntax in the error context', async () => {
    const error = await rejection(part10('1.2.3.4', {}, { native }));
    expect(error.context).toEqual({ transferSyntaxUid: '1.2.3.4' });
  });
});
