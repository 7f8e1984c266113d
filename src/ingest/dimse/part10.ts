import { isDicomUid } from '../../shared/dicom-uid.js';
import { DomainError } from '../../shared/errors.js';

/** nodus' Implementation Class UID (a UUID-derived UID, PS3.5 §B.2), written in file meta and association PDUs. */
export const NODUS_IMPLEMENTATION_CLASS_UID = '2.25.83429281684872905557850759006743383006';
/** nodus' Implementation Version Name (SH, at most 16 characters). */
export const NODUS_IMPLEMENTATION_VERSION = 'NODUS';

export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  /** The transfer syntax the data set bytes are encoded in (the one accepted on the association). */
  transferSyntaxUid: string;
  /** The AE title the instance came from, (0002,0016). */
  sourceAeTitle?: string;
}

const PREAMBLE_LENGTH = 128;
const MAGIC = Buffer.from('DICM', 'latin1');

/**
 * Wraps a data set as received on the network into a DICOM Part 10 file (PS3.10 §7.1): preamble, `DICM`,
 * a File Meta Information group in explicit VR little endian, then the data set bytes unchanged (still in
 * the accepted transfer syntax, encapsulated pixel data untouched). The only copy is the one into the result.
 * Throws a DomainError INVALID_DICOM when a UID is not a valid DICOM UID.
 */
export function part10File(fields: FileMetaFields, dataset: readonly Uint8Array[]): Buffer {
  const prefix = part10Prefix(fields);
  const datasetLength = dataset.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const file = Buffer.allocUnsafe(prefix.length + datasetLength);
  let offset = 0;
  for (const part of [prefix, ...dataset]) {
    file.set(part, offset);
    offset += part.byteLength;
  }
  return file;
}

/**
 * What comes before the data set in a Part 10 file: preamble, `DICM` and the File Meta Information.
 * Throws a DomainError INVALID_DICOM when a UID is not a valid DICOM UID.
 */
export function part10Prefix(fields: FileMetaFields): Buffer {
  for (const [name, uid] of [
    ['AffectedSOPClassUID', fields.sopClassUid],
    ['AffectedSOPInstanceUID', fields.sopInstanceUid],
    ['TransferSyntaxUID', fields.transferSyntaxUid],
  ] as const) {
    if (!isDicomUid(uid)) {
      throw new DomainError('INVALID_DICOM', `invalid ${name}`, { context: { attribute: name } });
    }
  }
  const elements = [
    element(0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 'UI', text(fields.sopClassUid, '\0')),
    element(0x0003, 'UI', text(fields.sopInstanceUid, '\0')),
    element(0x0010, 'UI', text(fields.transferSyntaxUid, '\0')),
    element(0x0012, 'UI', text(NODUS_IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0013, 'SH', text(NODUS_IMPLEMENTATION_VERSION, ' ')),
  ];
  const sourceAeTitle = fields.sourceAeTitle?.trim();
  if (sourceAeTitle) elements.push(element(0x0016, 'AE', text(sourceAeTitle.slice(0, 16), ' ')));
  const groupLength = elements.reduce((sum, item) => sum + item.length, 0);
  const lengthElement = element(0x0000, 'UL', uint32(groupLength));
  return Buffer.concat([Buffer.alloc(PREAMBLE_LENGTH), MAGIC, lengthElement, ...elements]);
}

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'SQ', 'UC', 'UR', 'UT', 'UN', 'SV', 'UV']);

/** One group 0002 element in explicit VR little endian. */
function element(elementNumber: number, vr: string, value: Buffer): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** A text value padded to even length (UI with NUL, others with space). */
function text(value: string, padding: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : value + padding, 'latin1');
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value, 0);
  return buffer;
}
