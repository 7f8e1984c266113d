import { isDicomUid } from '../shared/dicom-uid.js';

/** SOP identity as the File Meta Information of a Part 10 file declares it; undefined where unreadable. */
export interface MediaStorageUids {
  sopClassUid: string | undefined;
  sopInstanceUid: string | undefined;
}

const PREAMBLE_BYTES = 128;
const MAGIC = 'DICM';
const MEDIA_STORAGE_SOP_CLASS_UID = 0x0002;
const MEDIA_STORAGE_SOP_INSTANCE_UID = 0x0003;
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * Reads MediaStorageSOPClassUID (0002,0002) and MediaStorageSOPInstanceUID (0002,0003) from the File Meta
 * Information of a DICOM Part 10 file (PS3.10 §7.1: preamble, "DICM", group 0002 in explicit VR little
 * endian). Never throws: it names a rejected instance in a STOW-RS response when the full header reader
 * has failed, so whatever is readable counts.
 */
export function readMediaStorageUids(bytes: Uint8Array): MediaStorageUids {
  const found: MediaStorageUids = { sopClassUid: undefined, sopInstanceUid: undefined };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < PREAMBLE_BYTES + 4 || latin1(bytes, PREAMBLE_BYTES, 4) !== MAGIC) return found;
  let offset = PREAMBLE_BYTES + 4;
  while (offset + 8 <= bytes.byteLength) {
    const group = view.getUint16(offset, true);
    if (group !== 0x0002) break;
    const element = view.getUint16(offset + 2, true);
    const vr = latin1(bytes, offset + 4, 2);
    let length: number;
    let valueOffset: number;
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > bytes.byteLength) break;
      length = view.getUint32(offset + 8, true);
      valueOffset = offset + 12;
    } else {
      length = view.getUint16(offset + 6, true);
      valueOffset = offset + 8;
    }
    if (valueOffset + length > bytes.byteLength) break;
    if (element === MEDIA_STORAGE_SOP_CLASS_UID) found.sopClassUid = uid(bytes, valueOffset, length);
    if (element === MEDIA_STORAGE_SOP_INSTANCE_UID) found.sopInstanceUid = uid(bytes, valueOffset, length);
    offset = valueOffset + length;
  }
  return found;
}

function latin1(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

/** A UI value without its NUL/space padding, if it is a valid UID. */
function uid(bytes: Uint8Array, offset: number, length: number): string | undefined {
  if (length > 66) return undefined;
  const text = latin1(bytes, offset, length).replace(/[\0 ]+$/, '');
  return isDicomUid(text) ? text : undefined;
}
