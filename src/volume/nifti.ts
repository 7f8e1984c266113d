import { headroomBefore } from './slice-pool.js';
import { voxelToLpsAffine, type CtVolume } from './volume.js';

const HEADER_BYTES = 348;
/** Header plus the 4-byte extension flag (no extensions). */
const DATA_OFFSET = 352;
const DT_INT16 = 4;
const NIFTI_XFORM_SCANNER_ANAT = 1;
const NIFTI_UNITS_MM = 2;
const DEFAULT_DESCRIPTION = 'nodus CT volume (HU)';

/**
 * The voxel-to-world affine in NIfTI's frame (RAS+: +x right, +y anterior, +z head), row-major 4x4.
 * NIfTI world = diag(-1, -1, 1) * DICOM LPS.
 */
export function voxelToRasAffine(volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>): number[] {
  const lps = voxelToLpsAffine(volume);
  return lps.map((value, index) => (index < 8 ? -value : value));
}

/** Bytes before the voxels in a single-file NIfTI-1 written here: the header and its 4-byte extension flag. */
export const NIFTI1_HEADER_BYTES = DATA_OFFSET;

/**
 * Encodes a volume as a single-file NIfTI-1 (.nii): int16 HU, voxel (i, j, k) = (column, row, slice), sform
 * and qform both set to the scanner (RAS) affine, so any NIfTI tool places the voxels where the scanner did.
 * A new array: the voxels are copied after the header (see {@link encodeNifti1InHeadroom} to avoid that).
 */
export function encodeNifti1(volume: CtVolume, description = DEFAULT_DESCRIPTION): Uint8Array {
  const bytes = new Uint8Array(DATA_OFFSET + volume.hu.byteLength);
  bytes.set(nifti1Header(volume, description));
  if (isLittleEndianHost()) new Int16Array(bytes.buffer, DATA_OFFSET, volume.hu.length).set(volume.hu);
  else {
    const view = new DataView(bytes.buffer);
    volume.hu.forEach((v, i) => view.setInt16(DATA_OFFSET + 2 * i, v, true));
  }
  return bytes;
}

/**
 * The same file as {@link encodeNifti1}, without copying the voxels: the header is written into the room
 * reserved in front of `volume.hu` in its buffer (reconstructSeries with `headroomBytes:
 * NIFTI1_HEADER_BYTES`), and the file is a view from there to the last voxel. A volume without that room is
 * copied as by encodeNifti1.
 */
export function encodeNifti1InHeadroom(volume: CtVolume, description = DEFAULT_DESCRIPTION): Uint8Array {
  const { hu } = volume;
  if (headroomBefore(hu) < DATA_OFFSET || !isLittleEndianHost()) return encodeNifti1(volume, description);
  const file = new Uint8Array(hu.buffer, hu.byteOffset - DATA_OFFSET, DATA_OFFSET + hu.byteLength);
  file.set(nifti1Header(volume, description));
  return file;
}

/**
 * The NIfTI-1 header and extension flag (NIFTI1_HEADER_BYTES) of {@link encodeNifti1}'s file; little-endian
 * int16 voxels in (i, j, k) order follow it.
 */
export function nifti1Header(volume: CtVolume, description = DEFAULT_DESCRIPTION): Uint8Array {
  const [nx, ny, nz] = volume.dimensions;
  const bytes = new Uint8Array(DATA_OFFSET);
  const view = new DataView(bytes.buffer);
  const le = true;
  view.setInt32(0, HEADER_BYTES, le);
  bytes[38] = 'r'.charCodeAt(0);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((v, i) => view.setInt16(40 + 2 * i, v, le));
  view.setInt16(70, DT_INT16, le);
  view.setInt16(72, 16, le);

  const affine = voxelToRasAffine(volume);
  const { qfac, quaternion } = rotationToQuaternion(volume);
  [qfac, ...volume.spacingMm, 0, 0, 0, 0].forEach((v, i) => view.setFloat32(76 + 4 * i, v, le));
  view.setFloat32(108, DATA_OFFSET, le);
  view.setFloat32(112, 1, le); // scl_slope: values are HU already
  view.setFloat32(116, 0, le);
  bytes[123] = NIFTI_UNITS_MM;
  writeAscii(bytes, 148, 80, description);
  view.setInt16(252, NIFTI_XFORM_SCANNER_ANAT, le);
  view.setInt16(254, NIFTI_XFORM_SCANNER_ANAT, le);
  [...quaternion, affine[3]!, affine[7]!, affine[11]!].forEach((v, i) => view.setFloat32(256 + 4 * i, v, le));
  for (let i = 0; i < 12; i += 1) view.setFloat32(280 + 4 * i, affine[i]!, le);
  writeAscii(bytes, 344, 4, 'n+1');
  return bytes;
}

/** quatern_b/c/d and qfac of the rotation part (NIfTI-1 "method 2"). */
function rotationToQuaternion(volume: Pick<CtVolume, 'direction'>): {
  qfac: number;
  quaternion: [number, number, number];
} {
  const d = volume.direction;
  // Columns of R are the i, j, k axes in RAS.
  const r = [
    [-d[0], -d[3], -d[6]],
    [-d[1], -d[4], -d[7]],
    [d[2], d[5], d[8]],
  ];
  const det =
    r[0]![0]! * (r[1]![1]! * r[2]![2]! - r[1]![2]! * r[2]![1]!) -
    r[0]![1]! * (r[1]![0]! * r[2]![2]! - r[1]![2]! * r[2]![0]!) +
    r[0]![2]! * (r[1]![0]! * r[2]![1]! - r[1]![1]! * r[2]![0]!);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (const row of r) row[2] = -row[2]!;
  const [r11, r12, r13] = r[0]! as [number, number, number];
  const [r21, r22, r23] = r[1]! as [number, number, number];
  const [r31, r32, r33] = r[2]! as [number, number, number];
  const trace = r11 + r22 + r33 + 1;
  let a: number, b: number, c: number, e: number;
  if (trace > 0.5) {
    a = 0.5 * Math.sqrt(trace);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    e = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      e = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      e = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      e = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / e;
      c = (0.25 * (r23 + r32)) / e;
      a = (0.25 * (r21 - r12)) / e;
    }
    if (a < 0) [b, c, e] = [-b, -c, -e];
  }
  return { qfac, quaternion: [b, c, e] };
}

function writeAscii(bytes: Uint8Array, offset: number, length: number, text: string): void {
  for (let i = 0; i < Math.min(length - 1, text.length); i += 1)
    bytes[offset + i] = text.charCodeAt(i) & 0x7f;
}

/** Whether typed arrays are little-endian here, as NIfTI-1 files written by nodus are. */
export function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Reads back a volume written by {@link encodeNifti1}: the int16 voxels and dimensions from the file, the
 * geometry from the caller (the exact doubles recorded with the volume; the file's affine is float32).
 */
export function decodeNifti1Volume(
  bytes: Uint8Array,
  geometry: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>,
): CtVolume {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < DATA_OFFSET || view.getInt32(0, true) !== HEADER_BYTES) {
    throw new Error('not a little-endian NIfTI-1 file');
  }
  const dim = Array.from({ length: 4 }, (_, i) => view.getInt16(40 + 2 * i, true));
  if (dim[0] !== 3 || view.getInt16(70, true) !== DT_INT16) {
    throw new Error(
      `expected a 3D int16 NIfTI-1 volume, got dim[0] ${dim[0]} datatype ${view.getInt16(70, true)}`,
    );
  }
  const dimensions: CtVolume['dimensions'] = [dim[1]!, dim[2]!, dim[3]!];
  const count = dimensions[0] * dimensions[1] * dimensions[2];
  const offset = view.getFloat32(108, true);
  if (bytes.byteLength < offset + 2 * count) throw new Error('NIfTI-1 volume is truncated');
  const hu = new Int16Array(count);
  const start = bytes.byteOffset + offset;
  if (start % 2 === 0 && isLittleEndianHost()) hu.set(new Int16Array(bytes.buffer, start, count));
  else for (let i = 0; i < count; i += 1) hu[i] = view.getInt16(offset + 2 * i, true);
  return {
    dimensions,
    spacingMm: [...geometry.spacingMm],
    originLps: [...geometry.originLps],
    direction: [...geometry.direction],
    hu,
    // Not kept in the file: padding voxels are indistinguishable from air (PADDING_HU) once stored.
    paddingVoxels: 0,
  };
}
