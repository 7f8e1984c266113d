import type { CtVolume } from '../volume/volume.js';

/**
 * A thick-slice reconstruction of a volume: each output slice is the mean of `factor` consecutive input
 * slices (a box slice profile `factor` times as thick), slice spacing times `factor`, the origin at the centre of
 * the first group. Models a scanner's thicker reconstruction of the same acquisition (e.g. 2.5 mm -> 5 mm), so a
 * classifier trained on thin slices also sees how vessels and nodules look at 5 mm. Trailing slices that do not
 * fill a group are dropped. Positions (LPS) of the anatomy are unchanged.
 */
export function thickSlices(volume: CtVolume, factor: number): CtVolume {
  if (!Number.isInteger(factor) || factor < 1)
    throw new RangeError(`factor must be a positive integer, got ${factor}`);
  const [nx, ny, nz] = volume.dimensions;
  const outSlices = Math.floor(nz / factor);
  if (outSlices < 1) throw new RangeError(`${nz} slices cannot be grouped by ${factor}`);
  const plane = nx * ny;
  const hu = new Int16Array(plane * outSlices);
  for (let k = 0; k < outSlices; k += 1) {
    for (let p = 0; p < plane; p += 1) {
      let sum = 0;
      for (let f = 0; f < factor; f += 1) sum += volume.hu[p + plane * (k * factor + f)]!;
      hu[p + plane * k] = Math.round(sum / factor);
    }
  }
  const step = volume.spacingMm[2];
  const shift = ((factor - 1) / 2) * step;
  const kAxis = volume.direction.slice(6, 9) as [number, number, number];
  return {
    ...volume,
    dimensions: [nx, ny, outSlices],
    spacingMm: [volume.spacingMm[0], volume.spacingMm[1], step * factor],
    originLps: volume.originLps.map((v, a) => v + shift * kAxis[a]!) as CtVolume['originLps'],
    hu,
  };
}
