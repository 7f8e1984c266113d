import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';
import { readEncapsulatedFrames, type FrameStartMarker } from './codecs/encapsulated.js';
import { readImageAttributes } from './image-dataset.js';
import { decodeInstance, type DecodedPixels } from './pixel-data.js';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Transfer syntaxes whose frames are plain little-endian pixel values, as they lie in the file. */
const NATIVE_LITTLE_ENDIAN = new Set([IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN]);

/** Lossy compressed transfer syntaxes (JPEG baseline, JPEG-LS near-lossless, JPEG 2000). */
const LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.91']);

/** Encapsulated (compressed) transfer syntaxes nodus can hand out frame by frame as stored. */
const ENCAPSULATED: Readonly<Record<string, { marker: FrameStartMarker; mediaType: string }>> = {
  '1.2.840.10008.1.2.4.50': { marker: 'jpeg', mediaType: 'image/jpeg' },
  '1.2.840.10008.1.2.4.57': { marker: 'jpeg', mediaType: 'image/jpeg' },
  '1.2.840.10008.1.2.4.70': { marker: 'jpeg', mediaType: 'image/jpeg' },
  '1.2.840.10008.1.2.4.80': { marker: 'jpeg', mediaType: 'image/jls' },
  '1.2.840.10008.1.2.4.81': { marker: 'jpeg', mediaType: 'image/jls' },
  '1.2.840.10008.1.2.4.90': { marker: 'jpeg2000', mediaType: 'image/jp2' },
  '1.2.840.10008.1.2.4.91': { marker: 'jpeg2000', mediaType: 'image/jp2' },
  '1.2.840.10008.1.2.5': { marker: 'none', mediaType: 'image/dicom-rle' },
  '1.2.840.10008.1.2.1.98': { marker: 'none', mediaType: 'application/octet-stream' },
};

/** The media type of a stored compressed frame (PS3.18 Table 8.7.3-2); undefined for native syntaxes. */
export function compressedFrameMediaType(transferSyntaxUid: string): string | undefined {
  return ENCAPSULATED[transferSyntaxUid]?.mediaType;
}

/** Whether the stored frames are native little-endian bytes (what an uncompressed request gets as is). */
export function isNativeLittleEndian(transferSyntaxUid: string): boolean {
  return NATIVE_LITTLE_ENDIAN.has(transferSyntaxUid);
}

/**
 * The frames of a stored instance exactly as they lie in the file: native little-endian pixel values, or
 * one compressed bitstream per frame. Undefined where the file's encoding has no such frames (big endian,
 * deflated): those are served decoded.
 */
export function storedFrames(
  bytes: Uint8Array,
  transferSyntaxUid: string,
  numberOfFrames: number,
): Uint8Array[] | undefined {
  const encapsulated = ENCAPSULATED[transferSyntaxUid];
  if (encapsulated) return readEncapsulatedFrames(bytes, numberOfFrames, encapsulated.marker);
  if (!NATIVE_LITTLE_ENDIAN.has(transferSyntaxUid)) return undefined;
  const image = readImageAttributes(bytes);
  if (!image || image.pixelData.length === undefined) return undefined;
  const { offset, length } = image.pixelData;
  const frameBytes = length / numberOfFrames;
  if (!Number.isInteger(frameBytes)) {
    throw new DomainError(
      'INVALID_DICOM',
      `Pixel Data of ${length} bytes does not split into ${numberOfFrames} frames`,
    );
  }
  return Array.from({ length: numberOfFrames }, (_, f) =>
    bytes.subarray(offset + f * frameBytes, offset + (f + 1) * frameBytes),
  );
}

/** Decoded frames as little-endian bytes of BitsAllocated each (Explicit VR Little Endian pixel data). */
export function littleEndianFrames(pixels: DecodedPixels): Uint8Array[] {
  return pixels.frames.map((frame) => {
    if (pixels.bitsAllocated === 16) {
      const words = frame.BYTES_PER_ELEMENT === 2 ? frame : Uint16Array.from(frame, (v) => v & 0xffff);
      return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    }
    if (pixels.bitsAllocated === 8) return Uint8Array.from(frame, (v) => v & 0xff);
    const out = new Int32Array(frame.length);
    out.set(frame);
    return new Uint8Array(out.buffer);
  });
}

/**
 * The frames of an instance without compression: as stored where they are native little endian, else
 * decoded (compressed, big endian, deflated).
 */
export async function uncompressedFrames(
  bytes: Uint8Array,
  transferSyntaxUid: string,
  numberOfFrames: number,
): Promise<Uint8Array[]> {
  if (NATIVE_LITTLE_ENDIAN.has(transferSyntaxUid)) {
    const frames = storedFrames(bytes, transferSyntaxUid, numberOfFrames);
    if (frames) return frames;
  }
  return littleEndianFrames((await decodeInstance(bytes)).pixels);
}

/**
 * The instance as a Part 10 file in Explicit VR Little Endian: the stored file when it already is, else
 * rewritten by dcmjs with its pixel data decoded.
 */
export async function toExplicitLittleEndian(
  bytes: Uint8Array,
  transferSyntaxUid: string,
): Promise<Uint8Array> {
  if (transferSyntaxUid === EXPLICIT_VR_LITTLE_ENDIAN) return bytes;
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(buffer);
  const pixelElement = parsed.dict['7FE00010'];
  if (pixelElement) {
    const decoded = await decodeInstance(bytes);
    const frames = littleEndianFrames(decoded.pixels);
    const joined = new Uint8Array(frames.reduce((sum, f) => sum + f.byteLength, 0));
    let at = 0;
    for (const frame of frames) {
      joined.set(frame, at);
      at += frame.byteLength;
    }
    parsed.dict['7FE00010'] = {
      vr: decoded.pixels.bitsAllocated === 8 ? 'OB' : 'OW',
      Value: [joined.buffer],
    };
    // Decoding does not undo a lossy compression: the new file must still say it was lossy (PS3.3 C.7.6.1.1.5).
    if (LOSSY.has(transferSyntaxUid)) parsed.dict['00282110'] = { vr: 'CS', Value: ['01'] };
  }
  parsed.meta['00020010'] = { vr: 'UI', Value: [EXPLICIT_VR_LITTLE_ENDIAN] };
  const written = new dcmjs.data.DicomDict(parsed.meta);
  written.dict = parsed.dict;
  return new Uint8Array(written.write());
}
