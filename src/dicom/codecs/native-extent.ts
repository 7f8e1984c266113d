import { inflateRawSync } from 'node:zlib';
import { DomainError } from '../../shared/errors.js';

export type NativeLayout = 'implicit-little' | 'explicit-little' | 'explicit-big' | 'deflated';

/**
 * Throws DomainError('INVALID_DICOM') when the file ends before its native Pixel Data does.
 *
 * dcmjs pads a value cut short by the end of the file with zeros, so a truncated file would otherwise
 * decode to an image with a black bottom. The Pixel Data element header is found by its exact bytes,
 * tag, VR and the declared length (the length of the value dcmjs returned), searched from the end of
 * the file; a deflated data set is instead checked for a complete deflate stream.
 */
export function assertNativePixelDataComplete(
  fileBytes: Uint8Array,
  layout: NativeLayout,
  declaredLength: number,
): void {
  if (layout === 'deflated') {
    assertDeflatedDataSetComplete(fileBytes);
    return;
  }
  const header = Buffer.alloc(layout === 'implicit-little' ? 8 : 12);
  if (layout === 'explicit-big') {
    header.writeUInt32BE(0x7fe00010, 0);
    header.write('OW', 4, 'latin1');
    header.writeUInt32BE(declaredLength, 8);
  } else {
    header.writeUInt32LE(0x00107fe0, 0);
    if (layout === 'implicit-little') header.writeUInt32LE(declaredLength, 4);
    else {
      header.write('OW', 4, 'latin1');
      header.writeUInt32LE(declaredLength, 8);
    }
  }
  const file = Buffer.from(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
  let at = file.lastIndexOf(header);
  if (at < 0 && layout !== 'implicit-little') {
    header.write('OB', 4, 'latin1');
    at = file.lastIndexOf(header);
  }
  if (at < 0) return; // an unusual encoding of the element: nothing to compare with
  const remaining = file.length - at - header.length;
  if (remaining < declaredLength) {
    throw new DomainError(
      'INVALID_DICOM',
      `the file is truncated inside Pixel Data (it declares ${declaredLength} bytes, ${remaining} remain)`,
    );
  }
}

const DEFLATED = '1.2.840.10008.1.2.1.99';

/**
 * For a Deflated Explicit VR Little Endian file, throws DomainError('INVALID_DICOM') when its deflate
 * stream is cut short or corrupt; does nothing for other files. The deflated data set starts after
 * the file meta information, whose length is its first element.
 */
export function assertDeflatedDataSetComplete(fileBytes: Uint8Array): void {
  const file = Buffer.from(fileBytes.buffer, fileBytes.byteOffset, fileBytes.byteLength);
  if (file.length < 144 || file.readUInt32LE(132) !== 0x00000002) return; // no group length to go by
  const start = 144 + file.readUInt32LE(140);
  if (!file.subarray(144, start).includes(DEFLATED, 0, 'latin1')) return;
  try {
    inflateRawSync(file.subarray(start));
  } catch (error) {
    throw new DomainError(
      'INVALID_DICOM',
      `the deflated data set is truncated or corrupt: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
