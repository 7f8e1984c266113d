import { createHash, type Hash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { DecodedPixels } from './pixel-data.js';

const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
const EXPLICIT_BIG = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const UNDEFINED_LENGTH = 0xffffffff;

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
/** Byte size of one value of the binary VRs, for turning big-endian values into little-endian ones. */
const BINARY_UNIT: Readonly<Record<string, number>> = {
  AT: 2,
  OW: 2,
  SS: 2,
  US: 2,
  FL: 4,
  OF: 4,
  OL: 4,
  SL: 4,
  UL: 4,
  FD: 8,
  OD: 8,
  OV: 8,
  SV: 8,
  UV: 8,
};

const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const DATA_SET_TRAILING_PADDING = 0xfffcfffc;
/**
 * (0008,2111) Derivation Description: where transcoders describe themselves (DCMTK's dcmcjpeg writes
 * "Lossless JPEG compression, ..."); the pixel values it describes are compared decoded.
 */
const DERIVATION_DESCRIPTION = 0x00082111;

/**
 * The SHA-256 of what an instance says, independent of how it was encoded: the same instance received as
 * written by the modality, re-encoded by a PACS (DCMTK and Orthanc write undefined-length sequences and
 * items with explicit lengths), in implicit or explicit VR, big or little endian, deflated or not, or with
 * its pixel data in another (lossless) transfer syntax, has the same content digest. What it covers:
 * every data element outside the File Meta Information, by tag and value (little-endian values; no VR,
 * no lengths, no group lengths, no trailing padding, no Derivation Description), sequences item by item, and
 * for the top-level Pixel
 * Data the decoded stored values (`pixels`, as decodeInstance returns them) instead of their encoding.
 * A data set this walker cannot follow falls back to the SHA-256 of its bytes (prefixed `bytes:` so the two
 * kinds never compare equal by accident).
 */
export function instanceContentDigest(part10: Uint8Array, pixels: DecodedPixels): string {
  const bytes = Buffer.from(part10.buffer, part10.byteOffset, part10.byteLength);
  const meta = readFileMeta(bytes);
  try {
    const hash = createHash('sha256');
    let dataset = bytes.subarray(meta.datasetOffset);
    if (meta.transferSyntaxUid === DEFLATED) dataset = inflateRawSync(dataset);
    const walker = new DatasetWalker(dataset, {
      implicit: meta.transferSyntaxUid === IMPLICIT_LITTLE,
      bigEndian: meta.transferSyntaxUid === EXPLICIT_BIG,
    });
    walker.walk(hash, 0, dataset.length, 0);
    hashPixels(hash, pixels);
    return hash.digest('hex');
  } catch {
    return `bytes:${createHash('sha256').update(bytes.subarray(meta.datasetOffset)).digest('hex')}`;
  }
}

/** Where the data set starts after the preamble and the File Meta Information, and its transfer syntax. */
function readFileMeta(bytes: Buffer): { datasetOffset: number; transferSyntaxUid: string } {
  let offset = bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM' ? 132 : 0;
  let transferSyntaxUid = '';
  // Group 0002 is always explicit VR little endian (PS3.10 §7.1).
  while (offset + 8 <= bytes.length && bytes.readUInt16LE(offset) === 0x0002) {
    const element = bytes.readUInt16LE(offset + 2);
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let header: number;
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > bytes.length) break;
      length = bytes.readUInt32LE(offset + 8);
      header = 12;
    } else {
      length = bytes.readUInt16LE(offset + 6);
      header = 8;
    }
    if (element === 0x0010) {
      transferSyntaxUid = bytes
        .toString('latin1', offset + header, offset + header + length)
        .replace(/[\0 ]+$/, '');
    }
    offset += header + length;
  }
  return { datasetOffset: Math.min(offset, bytes.length), transferSyntaxUid };
}

interface Encoding {
  implicit: boolean;
  bigEndian: boolean;
}

/** Walks data elements and feeds a canonical form of each into a hash; throws where the bytes make no sense. */
class DatasetWalker {
  constructor(
    private readonly bytes: Buffer,
    private readonly encoding: Encoding,
  ) {}

  private u16(offset: number): number {
    return this.encoding.bigEndian ? this.bytes.readUInt16BE(offset) : this.bytes.readUInt16LE(offset);
  }

  private u32(offset: number): number {
    return this.encoding.bigEndian ? this.bytes.readUInt32BE(offset) : this.bytes.readUInt32LE(offset);
  }

  private tagAt(offset: number): number {
    return ((this.u16(offset) << 16) | this.u16(offset + 2)) >>> 0;
  }

  /**
   * Hashes the elements in [start, end) (end = the buffer's length for undefined-length items, which stop at
   * their delimitation item). Returns the offset after what it read.
   */
  walk(hash: Hash, start: number, end: number, depth: number): number {
    if (depth > 16) throw new Error('sequences nested too deep');
    let offset = start;
    while (offset < end) {
      if (offset + 8 > this.bytes.length) throw new Error('truncated element header');
      const tag = this.tagAt(offset);
      if (tag === ITEM_DELIMITATION) return offset + 8;
      const { vr, length, valueOffset } = this.header(offset, tag);
      const group = tag >>> 16;
      const skip =
        (tag & 0xffff) === 0 ||
        tag === DATA_SET_TRAILING_PADDING ||
        tag === DERIVATION_DESCRIPTION ||
        group === 0x0002;
      if (length === UNDEFINED_LENGTH) {
        if (tag === PIXEL_DATA || vr === 'OB' || vr === 'OW') {
          offset = this.fragments(
            skip || (tag === PIXEL_DATA && depth === 0) ? undefined : hash,
            tag,
            valueOffset,
          );
        } else {
          // An SQ, or a UN that holds an implicit VR little-endian sequence (PS3.5 §6.2.2).
          const inner =
            vr === 'UN' ? new DatasetWalker(this.bytes, { implicit: true, bigEndian: false }) : this;
          offset = inner.sequence(skip ? undefined : hash, tag, valueOffset, UNDEFINED_LENGTH, depth);
        }
        continue;
      }
      const valueEnd = valueOffset + length;
      if (valueEnd > this.bytes.length) throw new Error('element value beyond the end of the data set');
      if (tag === PIXEL_DATA && depth === 0) {
        // Replaced by the decoded values (hashPixels).
      } else if (!skip) {
        const looksLikeSequence =
          (vr === undefined || vr === 'UN') && this.startsWithItem(valueOffset, length);
        if (vr === 'SQ' || looksLikeSequence) {
          const inner =
            vr === 'UN' ? new DatasetWalker(this.bytes, { implicit: true, bigEndian: false }) : this;
          inner.sequence(hash, tag, valueOffset, length, depth);
        } else {
          this.value(hash, tag, vr, valueOffset, length);
        }
      }
      offset = valueEnd;
    }
    return offset;
  }

  private header(
    offset: number,
    tag: number,
  ): { vr: string | undefined; length: number; valueOffset: number } {
    if (this.encoding.implicit || tag >>> 16 === 0xfffe) {
      return { vr: undefined, length: this.u32(offset + 4), valueOffset: offset + 8 };
    }
    const vr = this.bytes.toString('latin1', offset + 4, offset + 6);
    if (!/^[A-Z]{2}$/.test(vr)) throw new Error(`invalid VR at ${offset}`);
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > this.bytes.length) throw new Error('truncated element header');
      return { vr, length: this.u32(offset + 8), valueOffset: offset + 12 };
    }
    return { vr, length: this.u16(offset + 6), valueOffset: offset + 8 };
  }

  private startsWithItem(valueOffset: number, length: number): boolean {
    return length >= 8 && this.tagAt(valueOffset) === ITEM;
  }

  /** Hashes a sequence's items; returns the offset after the sequence. */
  private sequence(
    hash: Hash | undefined,
    tag: number,
    valueOffset: number,
    length: number,
    depth: number,
  ): number {
    const end = length === UNDEFINED_LENGTH ? this.bytes.length : valueOffset + length;
    const items: Hash[] = [];
    let offset = valueOffset;
    while (offset < end) {
      if (offset + 8 > this.bytes.length) throw new Error('truncated item');
      const itemTag = this.tagAt(offset);
      const itemLength = this.u32(offset + 4);
      if (itemTag === SEQUENCE_DELIMITATION) {
        offset += 8;
        break;
      }
      if (itemTag !== ITEM) throw new Error(`expected an item at ${offset}`);
      const item = createHash('sha256');
      if (itemLength === UNDEFINED_LENGTH) {
        offset = this.walk(item, offset + 8, this.bytes.length, depth + 1);
      } else {
        this.walk(item, offset + 8, offset + 8 + itemLength, depth + 1);
        offset += 8 + itemLength;
      }
      items.push(item);
    }
    if (hash && items.length > 0) {
      hash.update(tagBytes(tag, 'SQ', items.length));
      for (const item of items) hash.update(item.digest());
    } else if (hash) {
      // An empty sequence is an empty value, however it was encoded.
      hash.update(tagBytes(tag, 'EMPTY', 0));
    }
    return offset;
  }

  /** Encapsulated data (fragments after a Basic Offset Table): hashed as the fragments' bytes, joined. */
  private fragments(hash: Hash | undefined, tag: number, valueOffset: number): number {
    let offset = valueOffset;
    let index = 0;
    const content = createHash('sha256');
    for (;;) {
      if (offset + 8 > this.bytes.length) throw new Error('truncated fragment');
      const itemTag = this.tagAt(offset);
      const itemLength = this.u32(offset + 4);
      if (itemTag === SEQUENCE_DELIMITATION) {
        offset += 8;
        break;
      }
      if (itemTag !== ITEM || itemLength === UNDEFINED_LENGTH) throw new Error('invalid fragment');
      if (offset + 8 + itemLength > this.bytes.length) throw new Error('truncated fragment');
      // The first item is the Basic Offset Table: where frames start, not what they are.
      if (index > 0) content.update(this.bytes.subarray(offset + 8, offset + 8 + itemLength));
      offset += 8 + itemLength;
      index += 1;
    }
    hash?.update(tagBytes(tag, 'FRAGMENTS', 0));
    hash?.update(content.digest());
    return offset;
  }

  private value(hash: Hash, tag: number, vr: string | undefined, valueOffset: number, length: number): void {
    let value = this.bytes.subarray(valueOffset, valueOffset + length);
    const unit = vr === undefined ? undefined : BINARY_UNIT[vr];
    if (this.encoding.bigEndian && unit !== undefined && length % unit === 0) {
      value = Buffer.from(value);
      if (unit === 2) value.swap16();
      else if (unit === 4) value.swap32();
      else value.swap64();
    }
    hash.update(tagBytes(tag, 'V', length));
    hash.update(value);
  }
}

/** A fixed-size record naming an element: its tag, what follows and a count, so values never run together. */
function tagBytes(tag: number, kind: string, count: number): Buffer {
  const record = Buffer.alloc(20);
  record.writeUInt32LE(tag, 0);
  record.write(kind.padEnd(12, ' ').slice(0, 12), 4, 'latin1');
  record.writeUInt32LE(count, 16);
  return record;
}

function hashPixels(hash: Hash, pixels: DecodedPixels): void {
  const format = Buffer.alloc(20);
  format.writeUInt32LE(pixels.rows, 0);
  format.writeUInt32LE(pixels.columns, 4);
  format.writeUInt32LE(pixels.numberOfFrames, 8);
  format.writeUInt32LE(pixels.bitsStored, 12);
  format.writeUInt32LE(pixels.pixelRepresentation, 16);
  hash.update(tagBytes(PIXEL_DATA, 'DECODED', pixels.frames.length));
  hash.update(format);
  for (const frame of pixels.frames) {
    // Typed arrays in this machine's (little-endian) byte order, as every platform Node.js runs on.
    hash.update(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
  }
}
