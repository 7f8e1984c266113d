/**
 * Flood fill from the border of one 2D plane (4-connected), with buffers reused across the planes of one
 * size: the lung segmentation runs it on every slice, so it allocates nothing per call.
 */
export class PlaneBorderFill {
  /** 1 = reached from the border by the last `markBorderConnected`; index x + width * y. */
  readonly reached: Uint8Array;
  private readonly queue: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.reached = new Uint8Array(width * height);
    this.queue = new Int32Array(width * height);
  }

  /**
   * Marks in `reached` the pixels of `plane` equal to `value` (0 or 1) that a 4-connected path of such
   * pixels joins to the plane's border; returns `reached`.
   */
  markBorderConnected(plane: Uint8Array, value: 0 | 1): Uint8Array {
    const { width, height, reached, queue } = this;
    const size = width * height;
    reached.fill(0);
    let tail = 0;
    // Seeds: the border pixels holding `value`, top and bottom rows, then left and right columns.
    const seed = (p: number): void => {
      if (plane[p] === value && !reached[p]) {
        reached[p] = 1;
        queue[tail++] = p;
      }
    };
    for (let x = 0; x < width; x += 1) {
      seed(x);
      seed(x + width * (height - 1));
    }
    for (let y = 0; y < height; y += 1) {
      seed(width * y);
      seed(width - 1 + width * y);
    }
    // Breadth-first growth through the 4 neighbours, inlined (this loop visits most of the plane).
    for (let head = 0; head < tail; head += 1) {
      const p = queue[head]!;
      const x = p % width;
      let q = p - 1;
      if (x > 0 && plane[q] === value && !reached[q]) {
        reached[q] = 1;
        queue[tail++] = q;
      }
      q = p + 1;
      if (x < width - 1 && plane[q] === value && !reached[q]) {
        reached[q] = 1;
        queue[tail++] = q;
      }
      q = p - width;
      if (q >= 0 && plane[q] === value && !reached[q]) {
        reached[q] = 1;
        queue[tail++] = q;
      }
      q = p + width;
      if (q < size && plane[q] === value && !reached[q]) {
        reached[q] = 1;
        queue[tail++] = q;
      }
    }
    return reached;
  }

  /** Fills the holes of a 2D mask in place: background not connected to the plane's border becomes mask. */
  fillHoles(mask: Uint8Array): void {
    const outside = this.markBorderConnected(mask, 0);
    for (let p = 0; p < mask.length; p += 1) if (!outside[p]) mask[p] = 1;
  }
}
