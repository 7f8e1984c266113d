import type dcmjsModule from 'dcmjs';
import { DomainError } from '../shared/errors.js';
import { readEncapsulatedFrames, type FrameStartMarker } from './codecs/encapsulated.js';
import {
  assertDeflatedDataSetComplete,
  assertNativePixelDataComplete,
  type NativeLayout,
} from './codecs/native-extent.js';
import {
  jpegLosslessFrameDecoder,
  wasmFrameDecoder,
  type CodecFrame,
  type FrameDecoder,
  type WasmCodec,
} from './codecs/image-codecs.js';
import { decodeRleFrame } from './codecs/rle.js';
import { readImageAttributes } from './image-dataset.js';

type Dcmjs = typeof dcmjsModule;
let dcmjsLoading: Promise<Dcmjs> | undefined;

/**
 * dcmjs, loaded on first use: most files take the dicomParser path, and loading dcmjs costs ~70 ms and
 * ~20 MB in every thread that decodes.
 */
function loadDcmjs(): Promise<Dcmjs> {
  dcmjsLoading ??= import('dcmjs').then(({ default: dcmjs }) => {
    dcmjs.log.setLevel('error');
    // dcmjs reports each element whose dictionary VR is ambiguous (US or SS, OB or OW) in implicit VR files
    // as an error, though it then picks the usual VR: noise for every such file.
    dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
    return dcmjs;
  });
  return dcmjsLoading;
}

/** Stored pixel values of one DICOM object, before RescaleSlope/Intercept. Row-major (row j, column i): index = i + columns*j. */
export interface DecodedPixels {
  rows: number;
  columns: number;
  numberOfFrames: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  /** One array per frame, length rows*columns, values already masked to BitsStored and sign-extended when signed. */
  frames: (Int16Array | Uint16Array | Int32Array)[];
}

export interface DecodedInstance {
  transferSyntaxUid: string;
  /**
   * The image's attributes, for geometry and rescale, named and valued as dcmjs naturalizes them. For
   * little-endian, non-deflated files only the attributes image decoding and slice geometry read are
   * present (see image-dataset.ts); otherwise the whole dcmjs naturalized dataset, PixelData removed.
   */
  dataset: Record<string, unknown>;
  pixels: DecodedPixels;
}

type Encoding =
  | { kind: 'native'; layout: NativeLayout }
  | { kind: 'encapsulated-native' }
  | { kind: 'rle' }
  | { kind: 'jpeg-lossless' }
  | { kind: 'wasm'; codec: WasmCodec };

interface TransferSyntax {
  name: string;
  encoding: Encoding;
}

/** The transfer syntaxes decodeInstance reads, by UID. */
export const SUPPORTED_TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntax>> = {
  '1.2.840.10008.1.2': {
    name: 'Implicit VR Little Endian',
    encoding: { kind: 'native', layout: 'implicit-little' },
  },
  '1.2.840.10008.1.2.1': {
    name: 'Explicit VR Little Endian',
    encoding: { kind: 'native', layout: 'explicit-little' },
  },
  '1.2.840.10008.1.2.1.98': {
    name: 'Encapsulated Uncompressed Explicit VR Little Endian',
    encoding: { kind: 'encapsulated-native' },
  },
  // dcmjs inflates the data set while reading it.
  '1.2.840.10008.1.2.1.99': {
    name: 'Deflated Explicit VR Little Endian',
    encoding: { kind: 'native', layout: 'deflated' },
  },
  '1.2.840.10008.1.2.2': {
    name: 'Explicit VR Big Endian',
    encoding: { kind: 'native', layout: 'explicit-big' },
  },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encoding: { kind: 'rle' } },
  '1.2.840.10008.1.2.4.50': {
    name: 'JPEG Baseline (Process 1)',
    encoding: { kind: 'wasm', codec: 'jpeg-baseline' },
  },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless (Process 14)', encoding: { kind: 'jpeg-lossless' } },
  '1.2.840.10008.1.2.4.70': {
    name: 'JPEG Lossless, First-Order Prediction (Process 14, Selection Value 1)',
    encoding: { kind: 'jpeg-lossless' },
  },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encoding: { kind: 'wasm', codec: 'jpeg-ls' } },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', encoding: { kind: 'wasm', codec: 'jpeg-ls' } },
  '1.2.840.10008.1.2.4.90': {
    name: 'JPEG 2000 Lossless Only',
    encoding: { kind: 'wasm', codec: 'jpeg2000' },
  },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encoding: { kind: 'wasm', codec: 'jpeg2000' } },
};

/** Names of transfer syntaxes met in practice that have no decoder here, for clear error messages. */
const UNSUPPORTED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4, 12-bit)',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless Only',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless Only',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options Lossless Only',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
};

/**
 * Decodes a DICOM Part 10 file. Throws DomainError('INVALID_DICOM', clear reason) for unusable input.
 *
 * Supports the transfer syntaxes in {@link SUPPORTED_TRANSFER_SYNTAXES}, greyscale images only
 * (SamplesPerPixel 1, MONOCHROME1/2) with BitsAllocated 8, 16 or 32. HighBit is taken as
 * BitsStored - 1 (as the CT Image Module requires). Corrupt compressed data is rejected where the codec
 * detects it; JPEG 2000 and JPEG lossless code streams carry no redundancy to detect all damage.
 */
export async function decodeInstance(
  bytes: Uint8Array,
  options: {
    /**
     * The caller gives up `bytes`: native pixel data is then masked or byte-swapped in place and the frames
     * may be views of `bytes` (no copy). Only for callers that use the frames before reusing the buffer.
     */
    scratchInput?: boolean;
  } = {},
): Promise<DecodedInstance> {
  const { transferSyntaxUid, syntax, dataset, nativePixelData } =
    readWithDicomParser(bytes) ?? readWithDcmjs(bytes, await loadDcmjs());
  const format = readPixelFormat(dataset);
  let frames: DecodedPixels['frames'];
  if (syntax.encoding.kind === 'native') {
    const { data, owned } = nativePixelData();
    frames = nativeFrames(data, format, {
      bigEndian: syntax.encoding.layout === 'explicit-big',
      owned: owned || options.scratchInput === true,
    });
  } else {
    frames = await encapsulatedFrames(bytes, format, syntax);
  }
  return { transferSyntaxUid, dataset, pixels: { ...format, frames } };
}

interface ImageHeader {
  transferSyntaxUid: string;
  syntax: TransferSyntax;
  dataset: Record<string, unknown>;
  /** The whole native Pixel Data value; `owned` when it is a copy that may be changed in place. */
  nativePixelData: () => { data: Uint8Array; owned: boolean };
}

/**
 * The fast path: dicomParser indexes the file and only the attributes decoding and geometry need are
 * read (see image-dataset.ts). Undefined where that reader steps aside; dcmjs then reads the file.
 */
function readWithDicomParser(bytes: Uint8Array): ImageHeader | undefined {
  const image = readImageAttributes(bytes);
  const syntax = image && SUPPORTED_TRANSFER_SYNTAXES[image.transferSyntaxUid];
  if (!image || !syntax) return undefined;
  const { offset, length } = image.pixelData;
  return {
    transferSyntaxUid: image.transferSyntaxUid,
    syntax,
    dataset: image.dataset,
    nativePixelData: () => {
      if (length === undefined) throw invalid('Pixel Data of a native transfer syntax is encapsulated');
      return { data: bytes.subarray(offset, offset + length), owned: false };
    },
  };
}

/** Reads every element with dcmjs: the path for big endian and deflated files and for any odd file. */
function readWithDcmjs(bytes: Uint8Array, dcmjs: Dcmjs): ImageHeader {
  const { meta, dict } = readPart10(bytes, dcmjs);
  const transferSyntaxUid = uidOf(meta['00020010']?.Value?.[0]);
  if (!transferSyntaxUid) throw invalid('the file meta information has no Transfer Syntax UID (0002,0010)');
  const syntax = SUPPORTED_TRANSFER_SYNTAXES[transferSyntaxUid];
  if (!syntax) {
    const name = UNSUPPORTED_TRANSFER_SYNTAXES[transferSyntaxUid];
    throw invalid(
      name
        ? `unsupported transfer syntax ${name} (${transferSyntaxUid})`
        : `unsupported (unknown) transfer syntax ${transferSyntaxUid}`,
      { transferSyntaxUid },
    );
  }

  const pixelElement = dict['7FE00010'];
  delete dict['7FE00010'];
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict);
  if (!pixelElement) throw invalid(noPixelDataReason(dict));
  return {
    transferSyntaxUid,
    syntax,
    dataset,
    nativePixelData: () => {
      const data = nativeBytes(pixelElement.Value);
      if (syntax.encoding.kind === 'native') {
        assertNativePixelDataComplete(bytes, syntax.encoding.layout, data.byteLength);
      }
      return { data, owned: true };
    },
  };
}

interface PixelFormat {
  rows: number;
  columns: number;
  numberOfFrames: number;
  bitsAllocated: 8 | 16 | 32;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
}

function readPart10(bytes: Uint8Array, dcmjs: Dcmjs): ReturnType<Dcmjs['data']['DicomMessage']['readFile']> {
  try {
    // dcmjs wants an ArrayBuffer holding exactly the file; `bytes` may be a view into a larger one.
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return dcmjs.data.DicomMessage.readFile(buffer);
  } catch (error) {
    assertDeflatedDataSetComplete(bytes); // a clearer reason than dcmjs gives for a cut deflate stream
    throw invalid(
      `not a readable DICOM Part 10 file: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function noPixelDataReason(dict: Record<string, unknown>): string {
  if ('07A1100A' in dict) {
    return 'no Pixel Data (7FE0,0010); the pixels are in private Elscint compression (07A1,100A), which is not supported';
  }
  if ('7FE00008' in dict || '7FE00009' in dict) {
    return 'no Pixel Data (7FE0,0010); Float and Double Float Pixel Data are not supported';
  }
  return 'no Pixel Data (7FE0,0010): the object holds no image, or the file is truncated';
}

function readPixelFormat(ds: Record<string, unknown>): PixelFormat {
  const samplesPerPixel = integer(ds, 'SamplesPerPixel') ?? 1;
  if (samplesPerPixel !== 1) {
    throw invalid(
      `SamplesPerPixel is ${samplesPerPixel}; only single-sample (greyscale) images are supported`,
    );
  }
  const photometric = text(ds.PhotometricInterpretation);
  if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw invalid(
      `PhotometricInterpretation is ${photometric ?? 'missing'}; only MONOCHROME1 and MONOCHROME2 are supported`,
    );
  }
  const rows = required(ds, 'Rows');
  const columns = required(ds, 'Columns');
  const bitsAllocated = required(ds, 'BitsAllocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw invalid(`BitsAllocated is ${bitsAllocated}; only 8, 16 and 32 are supported`);
  }
  const bitsStored = integer(ds, 'BitsStored') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw invalid(`BitsStored ${bitsStored} does not fit BitsAllocated ${bitsAllocated}`);
  }
  const pixelRepresentation = integer(ds, 'PixelRepresentation') ?? 0;
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw invalid(`PixelRepresentation is ${pixelRepresentation}; 0 or 1 expected`);
  }
  if (pixelRepresentation === 0 && bitsStored === 32) {
    throw invalid('unsigned pixels with BitsStored 32 are not supported');
  }
  const numberOfFrames = integer(ds, 'NumberOfFrames') ?? 1;
  if (numberOfFrames < 1) throw invalid(`NumberOfFrames is ${numberOfFrames}`);
  return { rows, columns, numberOfFrames, bitsAllocated, bitsStored, pixelRepresentation };
}

/** The whole native Pixel Data value as bytes (dcmjs returns one ArrayBuffer, rarely several). */
function nativeBytes(value: unknown[] | undefined): Uint8Array {
  const parts = (value ?? []).map((part) => {
    if (part instanceof ArrayBuffer) return new Uint8Array(part);
    if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    throw invalid('Pixel Data has an unexpected value');
  });
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}

/**
 * Frames of native (uncompressed) pixel data. 16- and 32-bit frames are views into `bytes` when they are
 * `owned` (a copy dcmjs made) and aligned, else into a copy: masking to BitsStored and byte-swapping for
 * big endian change them in place, and the caller's file must stay as it was.
 */
function nativeFrames(
  bytes: Uint8Array,
  format: PixelFormat,
  { bigEndian, owned }: { bigEndian: boolean; owned: boolean },
): DecodedPixels['frames'] {
  const { rows, columns, numberOfFrames, bitsAllocated } = format;
  const bytesPerSample = bitsAllocated / 8;
  const pixels = rows * columns;
  const needed = pixels * numberOfFrames * bytesPerSample;
  if (bytes.byteLength < needed) {
    throw invalid(
      `Pixel Data holds ${bytes.byteLength} bytes but Rows x Columns x NumberOfFrames x BitsAllocated/8 = ` +
        `${rows} x ${columns} x ${numberOfFrames} x ${bytesPerSample} = ${needed} (truncated file?)`,
    );
  }
  let data = bytes.subarray(0, needed);
  // A copy: `Buffer#slice` would only make another view (Node Buffers are accepted as input too).
  if (bytesPerSample > 1 && (!owned || data.byteOffset % bytesPerSample !== 0)) data = new Uint8Array(data);
  if (bigEndian && bytesPerSample > 1) {
    const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytesPerSample === 2) view.swap16();
    else view.swap32();
  }
  const all = storedArray(data, format);
  return Array.from({ length: numberOfFrames }, (_, k) => all.subarray(k * pixels, (k + 1) * pixels));
}

/** Bytes of little-endian samples as DICOM stored values: a view for 16/32 bits, widened for 8 bits. */
function storedArray(data: Uint8Array, format: PixelFormat): Int16Array | Uint16Array | Int32Array {
  const { bitsAllocated, pixelRepresentation } = format;
  const count = data.byteLength / (bitsAllocated / 8);
  let out: Int16Array | Uint16Array | Int32Array;
  if (bitsAllocated === 32) out = new Int32Array(data.buffer, data.byteOffset, count);
  else if (bitsAllocated === 16) {
    out =
      pixelRepresentation === 1
        ? new Int16Array(data.buffer, data.byteOffset, count)
        : new Uint16Array(data.buffer, data.byteOffset, count);
  } else {
    out = pixelRepresentation === 1 ? new Int16Array(count) : new Uint16Array(count);
    out.set(data);
  }
  applyBitsStored(out, format);
  return out;
}

/** Codec output (any sample type) as DICOM stored values, in a new array. */
function storedFromSamples(samples: CodecFrame['samples'], format: PixelFormat) {
  const { bitsAllocated, pixelRepresentation } = format;
  const out =
    bitsAllocated === 32
      ? new Int32Array(samples.length)
      : pixelRepresentation === 1
        ? new Int16Array(samples.length)
        : new Uint16Array(samples.length);
  out.set(samples); // numeric conversion keeps the low 16/32 bits: the stored bit pattern
  applyBitsStored(out, format);
  return out;
}

/**
 * Keeps the low BitsStored bits (HighBit = BitsStored - 1) and sign-extends them when signed.
 * Bits above may hold overlays or garbage in native data.
 */
function applyBitsStored(values: Int16Array | Uint16Array | Int32Array, format: PixelFormat): void {
  const { bitsStored, pixelRepresentation } = format;
  const width = values instanceof Int32Array ? 32 : 16;
  if (bitsStored >= width) return;
  // One loop per array type keeps each monomorphic (several times faster in V8).
  if (pixelRepresentation === 1) {
    const shift = 32 - bitsStored;
    if (values instanceof Int16Array) signExtendInt16(values, shift);
    else signExtendAny(values, shift);
  } else {
    const mask = 2 ** bitsStored - 1;
    if (values instanceof Uint16Array) maskUint16(values, mask);
    else maskAny(values, mask);
  }
}

function signExtendInt16(values: Int16Array, shift: number): void {
  for (let i = 0; i < values.length; i += 1) values[i] = (values[i]! << shift) >> shift;
}

function signExtendAny(values: Uint16Array | Int32Array, shift: number): void {
  for (let i = 0; i < values.length; i += 1) values[i] = (values[i]! << shift) >> shift;
}

function maskUint16(values: Uint16Array, mask: number): void {
  // Most writers leave the bits above HighBit clear: a read-only check (two samples per step where aligned)
  // then spares the write pass.
  let seen = 0;
  if (values.byteOffset % 4 === 0) {
    const pairs = new Uint32Array(values.buffer, values.byteOffset, values.length >>> 1);
    for (let i = 0; i < pairs.length; i += 1) seen |= pairs[i]!;
    if (values.length % 2 === 1) seen |= values[values.length - 1]!;
  } else {
    for (let i = 0; i < values.length; i += 1) seen |= values[i]!;
  }
  if (((seen | (seen >>> 16)) & ~mask & 0xffff) === 0) return;
  for (let i = 0; i < values.length; i += 1) values[i] = values[i]! & mask;
}

function maskAny(values: Int16Array | Int32Array, mask: number): void {
  for (let i = 0; i < values.length; i += 1) values[i] = values[i]! & mask;
}

async function encapsulatedFrames(
  bytes: Uint8Array,
  format: PixelFormat,
  syntax: TransferSyntax,
): Promise<DecodedPixels['frames']> {
  const { encoding, name } = syntax;
  const marker: FrameStartMarker =
    encoding.kind === 'jpeg-lossless' || (encoding.kind === 'wasm' && encoding.codec !== 'jpeg2000')
      ? 'jpeg'
      : encoding.kind === 'wasm'
        ? 'jpeg2000'
        : 'none';
  const compressed = readEncapsulatedFrames(bytes, format.numberOfFrames, marker);
  const decode = await frameDecoder(encoding, format);
  const { rows, columns } = format;
  return compressed.map((frame, k) => {
    const decoded = decode(frame);
    if (decoded.columns !== columns || decoded.rows !== rows || decoded.components !== 1) {
      throw invalid(
        `${name} frame ${k + 1} decodes to ${decoded.columns}x${decoded.rows}x${decoded.components} ` +
          `but Columns x Rows x SamplesPerPixel is ${columns}x${rows}x1`,
      );
    }
    return storedFromSamples(decoded.samples, format);
  });
}

async function frameDecoder(encoding: Encoding, format: PixelFormat): Promise<FrameDecoder> {
  const { rows, columns, bitsAllocated } = format;
  const single = (samples: CodecFrame['samples']): CodecFrame => ({ rows, columns, components: 1, samples });
  switch (encoding.kind) {
    case 'rle':
      return (frame) => single(decodeRleFrame(frame, rows, columns, (bitsAllocated / 8) as 1 | 2 | 4));
    case 'encapsulated-native':
      return (frame) => {
        const needed = rows * columns * (bitsAllocated / 8);
        if (frame.byteLength < needed) {
          throw invalid(`a frame holds ${frame.byteLength} bytes; ${needed} expected`);
        }
        const data = new Uint8Array(frame.subarray(0, needed)); // a copy, aligned for the typed views below
        if (bitsAllocated === 8) return single(data);
        return single(bitsAllocated === 16 ? new Uint16Array(data.buffer) : new Uint32Array(data.buffer));
      };
    case 'jpeg-lossless':
      return jpegLosslessFrameDecoder(bitsAllocated);
    case 'wasm':
      return wasmFrameDecoder(encoding.codec);
    case 'native':
      throw new Error('native pixel data is not encapsulated');
  }
}

function uidOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replace(/[\0\s]+$/, '').trim() || undefined : undefined;
}

function text(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === 'string' ? first.replace(/[\0\s]+$/, '').trim() || undefined : undefined;
}

function integer(ds: Record<string, unknown>, name: string): number | undefined {
  const first: unknown = Array.isArray(ds[name]) ? (ds[name] as unknown[])[0] : ds[name];
  if (first === undefined || first === null || first === '') return undefined;
  const n = typeof first === 'number' || typeof first === 'string' ? Number(first) : NaN;
  if (!Number.isInteger(n)) throw invalid(`${name} is not an integer: ${JSON.stringify(first)}`);
  return n;
}

function required(ds: Record<string, unknown>, name: string): number {
  const n = integer(ds, name);
  if (n === undefined || n < 1) throw invalid(`${name} is ${n ?? 'missing'}; a positive integer is required`);
  return n;
}

function invalid(
  message: string,
  options: { cause?: unknown; transferSyntaxUid?: string } = {},
): DomainError {
  const { cause, transferSyntaxUid } = options;
  return new DomainError('INVALID_DICOM', message, {
    cause,
    context: transferSyntaxUid ? { transferSyntaxUid } : {},
  });
}
