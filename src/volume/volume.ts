import ndarray, { type NdArray } from 'ndarray';

/** A 3-vector in the DICOM patient coordinate system (LPS: +x left, +y posterior, +z head), millimetres. */
export type Vec3 = [number, number, number];

/**
 * A CT volume in Hounsfield units.
 *
 * - Voxel index (i, j, k): i = column within a slice, j = row within a slice, k = slice, in order along the
 *   slice normal (feet to head for an axial series).
 * - Storage: `hu[i + nx * (j + ny * k)]`; `asNdarray()` gives the same data with shape [nz, ny, nx], indexed (k, j, i).
 * - Geometry (LPS, mm): the centre of voxel (i, j, k) is `originLps + i*spacing[0]*axis_i + j*spacing[1]*axis_j
 *   + k*spacing[2]*axis_k`, where `direction` holds the unit vectors axis_i, axis_j, axis_k (row-major 3x3).
 *   axis_i is the DICOM row direction (ImageOrientationPatient[0..2]), axis_j the column direction
 *   (ImageOrientationPatient[3..5]).
 * - Voxels that were PixelPaddingValue (outside the scanner's field of view) hold PADDING_HU (air).
 */
export interface CtVolume {
  /** [nx, ny, nz]: columns, rows, slices. */
  dimensions: Vec3;
  /** Voxel size along i, j, k in mm (PixelSpacing[1], PixelSpacing[0], slice step). */
  spacingMm: Vec3;
  /** Centre of voxel (0, 0, 0), LPS mm. */
  originLps: Vec3;
  /** Row-major 3x3: axis_i, axis_j, axis_k as unit vectors in LPS. */
  direction: [number, number, number, number, number, number, number, number, number];
  /** HU, int16, index i + nx*(j + ny*k). */
  hu: Int16Array;
  /** How many voxels were padding (outside the reconstructed field of view) and now hold PADDING_HU. */
  paddingVoxels: number;
}

/** HU given to padding voxels: air, so that they are never mistaken for tissue. */
export const PADDING_HU = -1000;

/** The volume's voxels as an ndarray of shape [nz, ny, nx], indexed (k, j, i); shares memory with `hu`. */
export function asNdarray(volume: CtVolume): NdArray<Int16Array> {
  const [nx, ny, nz] = volume.dimensions;
  return ndarray(volume.hu, [nz, ny, nx]);
}

/** 4x4 affine (row-major) from voxel (i, j, k, 1) to LPS mm. */
export function voxelToLpsAffine(volume: Pick<CtVolume, 'spacingMm' | 'originLps' | 'direction'>): number[] {
  const [si, sj, sk] = volume.spacingMm;
  const d = volume.direction;
  const [ox, oy, oz] = volume.originLps;
  return [
    d[0] * si,
    d[3] * sj,
    d[6] * sk,
    ox,
    d[1] * si,
    d[4] * sj,
    d[7] * sk,
    oy,
    d[2] * si,
    d[5] * sj,
    d[8] * sk,
    oz,
    0,
    0,
    0,
    1,
  ];
}
