import type { CaliperAxes } from '../shared/caliper-axes.js';
import { cross, dot, sub } from '../volume/vec3.js';
import type { Vec3 } from '../volume/volume.js';
import type { SourceImage, SourceSeriesReferences } from './source-series-references.js';

/** A caliper's axes on one source image: [column, row, column, row] per axis, image pixels (PS3.3 C.18.6.1.2). */
export interface ImageCaliper {
  image: SourceImage;
  long: [number, number, number, number];
  short: [number, number, number, number];
}

/** Farthest a caliper's end point may lie from its image's plane, mm: it must have been drawn on that image. */
const MAX_OFF_PLANE_MM = 1;

/**
 * The source image a caliper (LPS mm) was drawn on, with its end points in that image's pixel coordinates:
 * (0, 0) is the top left corner of the top left pixel, so that pixel's centre is (0.5, 0.5). Undefined when
 * the end points do not all lie on one image (drawn on a coronal or sagittal plane, or between slices) or the
 * image states no pixel spacing.
 */
export function imageCaliper(source: SourceSeriesReferences, axes: CaliperAxes): ImageCaliper | undefined {
  const points = [...axes.long, ...axes.short];
  let best: { image: SourceImage; distanceMm: number } | undefined;
  for (const image of source.images) {
    if (!image.plane) continue;
    const normal = cross(image.plane.rowDirection, image.plane.columnDirection);
    const distanceMm = Math.max(
      ...points.map((p) => Math.abs(dot(p, normal) - dot(image.positionLps, normal))),
    );
    if (!best || distanceMm < best.distanceMm) best = { image, distanceMm };
  }
  if (!best || best.distanceMm > MAX_OFF_PLANE_MM) return undefined;
  const { image } = best;
  const { rowDirection, columnDirection, pixelSpacingMm } = image.plane!;
  const pixel = (p: Vec3): [number, number] => {
    const offset = sub(p, image.positionLps);
    // PixelSpacing is [between rows, between columns]: columns advance along the row direction.
    return [
      dot(offset, rowDirection) / pixelSpacingMm[1] + 0.5,
      dot(offset, columnDirection) / pixelSpacingMm[0] + 0.5,
    ];
  };
  const line = ([a, b]: [Vec3, Vec3]): [number, number, number, number] => [...pixel(a), ...pixel(b)];
  return { image, long: line(axes.long), short: line(axes.short) };
}
