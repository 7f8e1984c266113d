import { decodeInstance } from '../dicom/pixel-data.js';
import { listFiles } from '../dicom/part10-files.js';
import { DomainError } from '../shared/errors.js';
import { sliceImagesOf } from '../volume/slice-image.js';
import { readPart10FilesReusingBuffer } from '../volume/series-files.js';
import { cross, dot, normalize } from '../volume/vec3.js';
import type { Vec3 } from '../volume/volume.js';

/**
 * Where one 2D image lies in the patient, as its DICOM header states it.
 *
 * Pixel frame: column x (0-based, increasing along `rowDirection`) and row y (0-based, increasing along
 * `columnDirection`); integer (x, y) is the CENTRE of a pixel, so the image covers x, y in [-0.5, n - 0.5].
 * This is the frame of LIDC edge-map coordinates and of the volume's voxel indices i (= x) and j (= y).
 */
export interface SliceGeometry {
  sopInstanceUid: string;
  /** 1-based frame number within its instance (1 for classic single-frame CT). */
  frameNumber: number;
  /** Centre of pixel (0, 0), LPS mm (ImagePositionPatient). */
  positionLps: Vec3;
  /** Unit vector along a row (increasing x / column), LPS (ImageOrientationPatient[0..2]). */
  rowDirection: Vec3;
  /** Unit vector along a column (increasing y / row), LPS (ImageOrientationPatient[3..5]). */
  columnDirection: Vec3;
  /** [between rows (along y), between columns (along x)] in mm (PixelSpacing). */
  pixelSpacingMm: [number, number];
  rows: number;
  columns: number;
}

/**
 * The map key of an image: its SOPInstanceUID for single-frame instances, `${uid}#${frameNumber}` for the
 * frames of a multi-frame instance.
 */
export function sliceKey(sopInstanceUid: string, frameNumber: number, frames: number): string {
  return frames === 1 ? sopInstanceUid : `${sopInstanceUid}#${frameNumber}`;
}

/**
 * Reads the geometry of every DICOM Part 10 image under `folder` (recursively; other files such as reader
 * XML are skipped), keyed by {@link sliceKey} (the SOPInstanceUID for classic CT). Uses the same decoding
 * and geometry code as volume reconstruction (decodeInstance + sliceImagesOf), so the frames agree.
 */
export async function indexSliceGeometry(folder: string): Promise<Map<string, SliceGeometry>> {
  const files = await listFiles([folder]);
  const index = new Map<string, SliceGeometry>();
  for (const { source, bytes } of readPart10FilesReusingBuffer(files)) {
    let images;
    try {
      images = sliceImagesOf(await decodeInstance(bytes, { scratchInput: true }));
    } catch (error) {
      if (error instanceof DomainError) {
        throw new DomainError(error.code, `${source}: ${error.message}`, {
          context: { ...error.context, file: source },
          cause: error,
        });
      }
      throw error;
    }
    for (const image of images) {
      index.set(sliceKey(image.sopInstanceUid, image.frameNumber, images.length), {
        sopInstanceUid: image.sopInstanceUid,
        frameNumber: image.frameNumber,
        positionLps: image.positionLps,
        rowDirection: image.rowDirection,
        columnDirection: image.columnDirection,
        pixelSpacingMm: image.pixelSpacingMm,
        rows: image.rows,
        columns: image.columns,
      });
    }
  }
  return index;
}

/**
 * LPS mm of pixel position (x = column, y = row; integer values are pixel centres, fractions allowed):
 * `positionLps + x * columnSpacing * rowDirection + y * rowSpacing * columnDirection`.
 */
export function pixelToLps(
  geometry: Pick<SliceGeometry, 'positionLps' | 'rowDirection' | 'columnDirection' | 'pixelSpacingMm'>,
  x: number,
  y: number,
): Vec3 {
  const { positionLps: p, rowDirection: r, columnDirection: c } = geometry;
  const [rowSpacing, columnSpacing] = geometry.pixelSpacingMm;
  const u = x * columnSpacing;
  const v = y * rowSpacing;
  return [p[0] + u * r[0] + v * c[0], p[1] + u * r[1] + v * c[1], p[2] + u * r[2] + v * c[2]];
}

/** Unit normal of an image plane (rowDirection x columnDirection): feet -> head for a standard axial slice. */
export function sliceNormal(geometry: Pick<SliceGeometry, 'rowDirection' | 'columnDirection'>): Vec3 {
  return normalize(cross(geometry.rowDirection, geometry.columnDirection));
}

/**
 * The spacing between neighbouring slices, mm: the median gap between the distinct positions of the
 * images along the slice normal (of the first image). Undefined with fewer than two distinct positions.
 */
export function sliceSpacingMm(index: ReadonlyMap<string, SliceGeometry>): number | undefined {
  const first = index.values().next().value;
  if (!first) return undefined;
  const normal = sliceNormal(first);
  const positions = [...index.values()].map((g) => dot(g.positionLps, normal)).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let n = 1; n < positions.length; n++) {
    const gap = positions[n]! - positions[n - 1]!;
    if (gap > 1e-3) gaps.push(gap);
  }
  if (gaps.length === 0) return undefined;
  gaps.sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  return gaps.length % 2 === 1 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
}
