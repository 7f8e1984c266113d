/** A point in patient coordinates, LPS mm. */
type PointLps = [number, number, number];

/**
 * Where a nodule's axial diameters were measured: the end points of the long axis and of the short axis
 * (perpendicular to it, on the same slice), LPS mm, edge to edge. What a radiologist's bidirectional caliper
 * records; the SR writes them as image coordinates (SCOORD) on the slice they lie on.
 */
export interface CaliperAxes {
  long: [PointLps, PointLps];
  short: [PointLps, PointLps];
}
