import { DomainError } from '../../shared/errors.js';

/** How a codec's compressed frames begin; used to find frame boundaries when fragments outnumber frames. */
export type FrameStartMarker = 'jpeg' | 'jpeg2000' | 'none';

/**
 * The compressed frames of an encapsulated Pixel Data element (PS3.5 A.4), as views into `fileBytes`
 * where a frame is one fragment, or as fresh copies where a frame spans several fragments.
 *
 * dcmjs neither reports where an element starts nor the declared lengths of fragment items, so a file
 * cut inside the pixel data would reach a codec as a silently shortened fragment. This reader walks
 * the items itself and rejects such files. Frames are found, in order of preference, from the Basic
 * Offset Table, from one fragment per frame, or from the codec's start-of-frame marker.
 */
export function readEncapsulatedFrames(
  fileBytes: Uint8Array,
  numberOfFrames: number,
  marker: FrameStartMarker,
): Uint8Array[] {
  const start = findEncapsulatedPixelData(fileBytes);
  const items = readItems(fileBytes, start);
  const [offsetTable, ...fragments] = items;
  if (!offsetTable || fragments.length === 0) {
    throw invalid('the encapsulated Pixel Data holds no fragments');
  }
  if (numberOfFrames === 1) return [concat(fragments.map((f) => f.value))];

  const byTable = framesFromOffsetTable(offsetTable, fragments, numberOfFrames);
  if (byTable) return byTable;
  if (fragments.length === numberOfFrames) return fragments.map((f) => f.value);
  const byMarker = marker === 'none' ? undefined : framesFromMarkers(fragments, numberOfFrames, marker);
  if (byMarker) return byMarker;
  throw invalid(
    `cannot split ${fragments.length} Pixel Data fragments into ${numberOfFrames} frames ` +
      '(no usable Basic Offset Table)',
  );
}

interface Item {
  /** Byte offset of the item tag, relative to the first fragment's item tag (the offset table's origin). */
  position: number;
  value: Uint8Array;
}

const ITEM = 0xe000;
const SEQUENCE_DELIMITER = 0xe0dd;

/**
 * The byte offset, in the file, of the first item of the top-level encapsulated Pixel Data element.
 * Encapsulated transfer syntaxes are explicit VR little endian, so the element header reads
 * E0 7F 10 00, then OB (or OW/UN), two zero bytes and the undefined length FF FF FF FF. The last match
 * is taken: an icon image sequence comes earlier, and such a 12-byte pattern cannot occur in the
 * compressed data that follows the header in any realistic file.
 */
function findEncapsulatedPixelData(bytes: Uint8Array): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
  let at = buffer.lastIndexOf(tag);
  while (at >= 0) {
    const vr = buffer.toString('latin1', at + 4, at + 6);
    if (
      at + 12 <= buffer.length &&
      (vr === 'OB' || vr === 'OW' || vr === 'UN') &&
      buffer.readUInt16LE(at + 6) === 0 &&
      buffer.readUInt32LE(at + 8) === 0xffffffff
    ) {
      return at + 12;
    }
    at = at === 0 ? -1 : buffer.lastIndexOf(tag, at - 1);
  }
  throw invalid(
    'Pixel Data of a compressed transfer syntax is not encapsulated (no undefined-length OB element)',
  );
}

/** The items up to the sequence delimiter; the first is the Basic Offset Table. */
function readItems(bytes: Uint8Array, start: number): Item[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: Item[] = [];
  let offset = start;
  let origin: number | undefined;
  for (;;) {
    if (offset + 8 > bytes.byteLength) {
      throw invalid('the file is truncated inside the encapsulated Pixel Data (no sequence delimiter)');
    }
    const group = view.getUint16(offset, true);
    const element = view.getUint16(offset + 2, true);
    const length = view.getUint32(offset + 4, true);
    if (group === 0xfffe && element === SEQUENCE_DELIMITER) return items;
    if (group !== 0xfffe || element !== ITEM) {
      throw invalid(
        `unexpected tag (${hex(group)},${hex(element)}) inside the encapsulated Pixel Data at byte ${offset}`,
      );
    }
    const end = offset + 8 + length;
    if (length === 0xffffffff || end > bytes.byteLength) {
      throw invalid(
        `the file is truncated inside the encapsulated Pixel Data (fragment ${items.length} declares ` +
          `${length} bytes, ${bytes.byteLength - offset - 8} remain)`,
      );
    }
    if (items.length === 1) origin = offset;
    items.push({ position: offset - (origin ?? offset), value: bytes.subarray(offset + 8, end) });
    offset = end;
  }
}

function framesFromOffsetTable(
  table: Item,
  fragments: Item[],
  numberOfFrames: number,
): Uint8Array[] | undefined {
  const entries = table.value.byteLength / 4;
  if (entries !== numberOfFrames || !Number.isInteger(entries)) return undefined;
  const view = new DataView(table.value.buffer, table.value.byteOffset, table.value.byteLength);
  const starts: number[] = [];
  for (let k = 0; k < entries; k += 1) {
    const position = view.getUint32(4 * k, true);
    const index = fragments.findIndex((f) => f.position === position);
    if (index < 0 || (k > 0 && index <= starts[k - 1]!)) return undefined;
    starts.push(index);
  }
  if (starts[0] !== 0) return undefined;
  return starts.map((first, k) => concat(fragments.slice(first, starts[k + 1]).map((f) => f.value)));
}

function framesFromMarkers(
  fragments: Item[],
  numberOfFrames: number,
  marker: 'jpeg' | 'jpeg2000',
): Uint8Array[] | undefined {
  const groups: Uint8Array[][] = [];
  for (const { value } of fragments) {
    const last = groups.at(-1);
    if (startsFrame(value, marker) || !last) groups.push([value]);
    else last.push(value);
  }
  return groups.length === numberOfFrames ? groups.map(concat) : undefined;
}

function startsFrame(value: Uint8Array, marker: 'jpeg' | 'jpeg2000'): boolean {
  if (marker === 'jpeg') return value[0] === 0xff && value[1] === 0xd8;
  // A J2K codestream starts with SOC+SIZ; a JP2 file with its 12-byte signature box.
  const codestream = value[0] === 0xff && value[1] === 0x4f && value[2] === 0xff && value[3] === 0x51;
  const jp2 = value[0] === 0 && value[1] === 0 && value[2] === 0 && value[3] === 0x0c && value[4] === 0x6a;
  return codestream || jp2;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}

function invalid(message: string): DomainError {
  return new DomainError('INVALID_DICOM', message);
}
