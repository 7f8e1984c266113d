/** Components smaller than this are left as they are (no hull), pixels. */
const MIN_HULL_COMPONENT_PX = 20;
/** "Far" in the distance map, in units of the reach (exact in float32). */
const FAR = 1e9;

/**
 * Closes a 2D lung mask by the convex hulls of its components, each limited to the pixels within reach
 * of that component. Holds the buffers for one plane size, reused across calls (the lung segmentation runs
 * it on every axial, sagittal and coronal plane of the volume).
 *
 * Work per component is confined to its bounding box, widened by the reach for the distance map, so small
 * components cost little however large the plane.
 */
export class ReachLimitedHullCloser {
  /** The result of the last `close`; index x + width * y. */
  private readonly closed: Uint8Array;
  private readonly seen: Uint8Array;
  /** Depth-first stack of the component search, then its pixels (indices x + width * y). */
  private readonly stack: Int32Array;
  private readonly pixels: Int32Array;
  /** Per column x: the lowest and highest y of the current component (height and -1 when it has none). */
  private readonly columnMinY: Int32Array;
  private readonly columnMaxY: Int32Array;
  /** Candidate points for the hull (column extremes, sorted by x then y), then the hull's vertices. */
  private readonly pointX: Int32Array;
  private readonly pointY: Int32Array;
  private readonly hullX: Int32Array;
  private readonly hullY: Int32Array;
  /** Distance map of the current component's window, in units of the reach. */
  private readonly distance: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const size = width * height;
    this.closed = new Uint8Array(size);
    this.seen = new Uint8Array(size);
    this.stack = new Int32Array(size);
    this.pixels = new Int32Array(size);
    this.columnMinY = new Int32Array(width).fill(height);
    this.columnMaxY = new Int32Array(width).fill(-1);
    this.pointX = new Int32Array(2 * width);
    this.pointY = new Int32Array(2 * width);
    this.hullX = new Int32Array(4 * width + 2);
    this.hullY = new Int32Array(4 * width + 2);
    this.distance = new Float32Array(size);
  }

  /**
   * For each 8-connected component of `lung` of at least 20 pixels: its convex hull, limited to pixels
   * whose elliptic distance to the component is within `reach` (pixels along x and y). Returns the union
   * with `lung`, in a buffer that the next call overwrites.
   */
  close(lung: Uint8Array, reach: readonly [number, number]): Uint8Array {
    const { width, height, closed, seen, stack, pixels, columnMinY, columnMaxY } = this;
    const size = width * height;
    closed.set(lung);
    seen.fill(0);
    for (let start = 0; start < size; start += 1) {
      if (!lung[start] || seen[start]) continue;
      // The component of `start`, depth first: its pixels, bounding box and per-column y extremes.
      let count = 0;
      let top = 0;
      let xMin = width;
      let xMax = -1;
      let yMin = height;
      let yMax = -1;
      stack[top++] = start;
      seen[start] = 1;
      while (top > 0) {
        const p = stack[--top]!;
        pixels[count++] = p;
        const x = p % width;
        const y = (p - x) / width;
        if (x < xMin) xMin = x;
        if (x > xMax) xMax = x;
        if (y < yMin) yMin = y;
        if (y > yMax) yMax = y;
        if (y < columnMinY[x]!) columnMinY[x] = y;
        if (y > columnMaxY[x]!) columnMaxY[x] = y;
        const yFrom = y > 0 ? y - 1 : 0;
        const yTo = y < height - 1 ? y + 1 : y;
        const xFrom = x > 0 ? x - 1 : 0;
        const xTo = x < width - 1 ? x + 1 : x;
        for (let Y = yFrom; Y <= yTo; Y += 1)
          for (let X = xFrom; X <= xTo; X += 1) {
            const q = X + width * Y;
            if (lung[q] && !seen[q]) {
              seen[q] = 1;
              stack[top++] = q;
            }
          }
      }
      if (count >= MIN_HULL_COMPONENT_PX) this.paintHullWithinReach(count, [xMin, yMin, xMax, yMax], reach);
      columnMinY.fill(height, xMin, xMax + 1);
      columnMaxY.fill(-1, xMin, xMax + 1);
    }
    return closed;
  }

  /** Paints into `closed` the pixels of the current component's hull within reach of the component. */
  private paintHullWithinReach(
    count: number,
    box: readonly [number, number, number, number],
    reach: readonly [number, number],
  ): void {
    const { width, height, closed, distance } = this;
    const [xMin, yMin, xMax, yMax] = box;
    const vertices = this.convexHullOfComponent(xMin, xMax);
    if (vertices < 3) return;
    // The distance map only matters where it is <= 1 (one reach), and a pixel there is within the reach of
    // the component along x and y; so a window of the bounding box widened by the reach (plus one pixel of
    // margin) gives the same values there as a map of the whole plane. Outside the window it is > 1.
    const x0 = Math.max(0, xMin - Math.ceil(reach[0]) - 1);
    const x1 = Math.min(width - 1, xMax + Math.ceil(reach[0]) + 1);
    const y0 = Math.max(0, yMin - Math.ceil(reach[1]) - 1);
    const y1 = Math.min(height - 1, yMax + Math.ceil(reach[1]) + 1);
    const windowWidth = x1 - x0 + 1;
    chamferDistanceInWindow(this.pixels, count, width, [x0, y0, x1, y1], reach, distance);
    // Scan lines of the hull: the pixels whose centre lies inside the polygon (or on its edge).
    const { hullX, hullY } = this;
    let polygonYMin = Infinity;
    let polygonYMax = -Infinity;
    for (let n = 0; n < vertices; n += 1) {
      if (hullY[n]! < polygonYMin) polygonYMin = hullY[n]!;
      if (hullY[n]! > polygonYMax) polygonYMax = hullY[n]!;
    }
    const yFrom = Math.max(0, polygonYMin);
    const yTo = Math.min(height - 1, polygonYMax);
    for (let y = yFrom; y <= yTo; y += 1) {
      let left = Infinity;
      let right = -Infinity;
      for (let n = 0; n < vertices; n += 1) {
        const ax = hullX[n]!;
        const ay = hullY[n]!;
        const next = n + 1 < vertices ? n + 1 : 0;
        const bx = hullX[next]!;
        const by = hullY[next]!;
        if ((y < ay && y < by) || (y > ay && y > by)) continue;
        if (ay === by) {
          left = Math.min(left, ax, bx);
          right = Math.max(right, ax, bx);
          continue;
        }
        const x = ax + ((y - ay) * (bx - ax)) / (by - ay);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
      const xFrom = Math.max(0, Math.ceil(left - 1e-9));
      const xTo = Math.min(width - 1, Math.floor(right + 1e-9));
      // The hull lies within the component's bounding box, hence within the distance window.
      const rowInWindow = windowWidth * (y - y0) - x0;
      for (let x = xFrom; x <= xTo; x += 1) if (distance[rowInWindow + x]! <= 1) closed[x + width * y] = 1;
    }
  }

  /**
   * Andrew's monotone chain over the current component's per-column y extremes (every vertex of the hull
   * is one): its vertices into hullX/hullY, counter-clockwise from the lowest (x, y), no collinear points.
   * Returns their count.
   */
  private convexHullOfComponent(xMin: number, xMax: number): number {
    const { columnMinY, columnMaxY, pointX, pointY, hullX, hullY } = this;
    // The candidate points, sorted by x then y.
    let points = 0;
    for (let x = xMin; x <= xMax; x += 1) {
      const low = columnMinY[x]!;
      const high = columnMaxY[x]!;
      if (high < 0) continue;
      pointX[points] = x;
      pointY[points++] = low;
      if (high !== low) {
        pointX[points] = x;
        pointY[points++] = high;
      }
    }
    // z of the cross product (a - o) x (b - o) for hull vertices o, a and candidate point b: exact integers.
    const turn = (o: number, a: number, b: number): number =>
      (hullX[a]! - hullX[o]!) * (pointY[b]! - hullY[o]!) - (hullY[a]! - hullY[o]!) * (pointX[b]! - hullX[o]!);
    // Lower chain, left to right, into hull[0 .. lower).
    let lower = 0;
    for (let n = 0; n < points; n += 1) {
      while (lower >= 2 && turn(lower - 2, lower - 1, n) <= 0) lower -= 1;
      hullX[lower] = pointX[n]!;
      hullY[lower++] = pointY[n]!;
    }
    // Upper chain, right to left, into hull[lower - 1 .. end), after the lower chain without its last point.
    const upperStart = lower - 1;
    let end = upperStart;
    for (let n = points - 1; n >= 0; n -= 1) {
      while (end - upperStart >= 2 && turn(end - 2, end - 1, n) <= 0) end -= 1;
      hullX[end] = pointX[n]!;
      hullY[end++] = pointY[n]!;
    }
    // Each chain without its last point (that is the first of the other).
    return end - 1;
  }
}

/**
 * Two-pass chamfer distance (steps 1/reach along x and y, their hypotenuse diagonally) from `pixels` over
 * the inclusive window [x0, y0, x1, y1] of a plane `width` wide, in units of the reach, into `distance`
 * (index (x - x0) + windowWidth * (y - y0)). The window must hold all `pixels`.
 */
function chamferDistanceInWindow(
  pixels: Int32Array,
  count: number,
  width: number,
  window: readonly [number, number, number, number],
  reach: readonly [number, number],
  distance: Float32Array,
): void {
  const [x0, y0, x1, y1] = window;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const d = distance;
  d.fill(FAR, 0, w * h);
  for (let n = 0; n < count; n += 1) {
    const p = pixels[n]!;
    const x = p % width;
    d[x - x0 + w * ((p - x) / width - y0)] = 0;
  }
  const ax = 1 / reach[0];
  const ay = 1 / reach[1];
  const diagonal = Math.hypot(ax, ay);
  // Forward pass: from the left and from the row above.
  for (let y = 0; y < h; y += 1)
    for (let x = 0; x < w; x += 1) {
      const p = x + w * y;
      let v = d[p]!;
      if (x > 0) v = Math.min(v, d[p - 1]! + ax);
      if (y > 0) {
        v = Math.min(v, d[p - w]! + ay);
        if (x > 0) v = Math.min(v, d[p - w - 1]! + diagonal);
        if (x < w - 1) v = Math.min(v, d[p - w + 1]! + diagonal);
      }
      d[p] = v;
    }
  // Backward pass: from the right and from the row below.
  for (let y = h - 1; y >= 0; y -= 1)
    for (let x = w - 1; x >= 0; x -= 1) {
      const p = x + w * y;
      let v = d[p]!;
      if (x < w - 1) v = Math.min(v, d[p + 1]! + ax);
      if (y < h - 1) {
        v = Math.min(v, d[p + w]! + ay);
        if (x < w - 1) v = Math.min(v, d[p + w + 1]! + diagonal);
        if (x > 0) v = Math.min(v, d[p + w - 1]! + diagonal);
      }
      d[p] = v;
    }
}
