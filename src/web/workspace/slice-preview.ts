// The first image of a pane before its volume is drawn: one acquired slice, drawn on a 2D canvas over the
// pane exactly where the pane's viewport will show it. A software renderer (no GPU) takes about a second to
// make a volume's textures for its first drawing; the slice itself is in about half that.
import { metaData, type Types } from '@cornerstonejs/core';

/** A HU range shown from black to white. */
export interface HuWindow {
  lower: number;
  upper: number;
}

interface ImagePlane {
  imagePositionPatient: Types.Point3;
  rowCosines: Types.Point3;
  columnCosines: Types.Point3;
  rowPixelSpacing: number;
  columnPixelSpacing: number;
}

/**
 * Draws `image` (a CT slice) in `window` on a canvas laid over `pane`, placed by `viewport`'s world to canvas
 * mapping (so it is where, and as large as, the viewport will draw that slice). Returns what removes it.
 */
export function showSlicePreview(
  pane: HTMLDivElement,
  viewport: Types.IVolumeViewport,
  image: Types.IImage,
  window: HuWindow,
): () => void {
  const plane = metaData.get('imagePlaneModule', image.imageId) as ImagePlane | undefined;
  if (!plane) return () => undefined;
  const { rows, columns } = image;
  // Image pixels -> HU -> grey (linear window).
  const pixels = image.getPixelData();
  const scaled = image.preScale?.scaled === true;
  const [slope, intercept] = scaled ? [1, 0] : [image.slope || 1, image.intercept || 0];
  const span = window.upper - window.lower;
  const rgba = new ImageData(columns, rows);
  for (let p = 0; p < rows * columns; p += 1) {
    const hu = (pixels[p] ?? 0) * slope + intercept;
    const grey = Math.round(Math.min(Math.max((hu - window.lower) / span, 0), 1) * 255);
    rgba.data[4 * p] = rgba.data[4 * p + 1] = rgba.data[4 * p + 2] = grey;
    rgba.data[4 * p + 3] = 255;
  }
  const source = document.createElement('canvas');
  [source.width, source.height] = [columns, rows];
  source.getContext('2d')!.putImageData(rgba, 0, 0);

  // Where the image's corners fall on the viewport's canvas: pixel (c, r)'s centre is at ImagePositionPatient
  // + c * column spacing along the row cosines + r * row spacing along the column cosines.
  const world = (c: number, r: number): Types.Point3 =>
    [0, 1, 2].map(
      (a) =>
        plane.imagePositionPatient[a]! +
        c * plane.columnPixelSpacing * plane.rowCosines[a]! +
        r * plane.rowPixelSpacing * plane.columnCosines[a]!,
    ) as Types.Point3;
  const origin = viewport.worldToCanvas(world(-0.5, -0.5));
  const right = viewport.worldToCanvas(world(columns - 0.5, -0.5));
  const down = viewport.worldToCanvas(world(-0.5, rows - 0.5));

  const canvas = document.createElement('canvas');
  const ratio = globalThis.devicePixelRatio || 1;
  [canvas.width, canvas.height] = [pane.clientWidth * ratio, pane.clientHeight * ratio];
  Object.assign(canvas.style, {
    position: 'absolute',
    inset: '0',
    width: '100%',
    height: '100%',
    pointerEvents: 'none',
    background: '#000',
  });
  const context = canvas.getContext('2d')!;
  context.setTransform(
    (ratio * (right[0] - origin[0])) / columns,
    (ratio * (right[1] - origin[1])) / columns,
    (ratio * (down[0] - origin[0])) / rows,
    (ratio * (down[1] - origin[1])) / rows,
    ratio * origin[0],
    ratio * origin[1],
  );
  context.drawImage(source, 0, 0);
  if (getComputedStyle(pane).position === 'static') pane.style.position = 'relative';
  pane.append(canvas);
  return () => canvas.remove();
}
