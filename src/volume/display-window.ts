import type { CtVolume } from './volume.js';

/** A display window: HU at mid-grey and the HU range mapped from black to white. */
export interface DisplayWindow {
  centerHu: number;
  widthHu: number;
}

/** Common chest CT windows. */
export const DISPLAY_WINDOWS = {
  lung: { centerHu: -600, widthHu: 1500 },
  mediastinal: { centerHu: 40, widthHu: 400 },
  bone: { centerHu: 400, widthHu: 1800 },
} as const satisfies Record<string, DisplayWindow>;

/**
 * The axial slice k of the volume through a display window (DICOM PS3.3 C.11.2.1.2 linear function), as
 * 8-bit grey: row j, column i (i fastest), i.e. the volume's own in-plane order.
 */
export function windowedAxialSlice(volume: CtVolume, k: number, window: DisplayWindow): Uint8Array {
  const [nx, ny, nz] = volume.dimensions;
  if (!(Number.isInteger(k) && k >= 0 && k < nz)) throw new RangeError(`slice ${k} is outside 0..${nz - 1}`);
  const out = new Uint8Array(nx * ny);
  const low = window.centerHu - 0.5 - (window.widthHu - 1) / 2;
  const scale = 255 / Math.max(window.widthHu - 1, 1);
  const offset = k * nx * ny;
  for (let p = 0; p < out.length; p += 1) {
    const value = ((volume.hu[offset + p] ?? 0) - low) * scale;
    out[p] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return out;
}
