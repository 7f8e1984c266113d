/**
 * Mirror images of patch cubes, for test-time augmentation: `patches` holds `count * channels` cubes of
 * size³ values (x fastest, then y, then z, as extractPatches writes them); `axes` says which axes are
 * mirrored (bit 0: x, bit 1: y, bit 2: z). Cubes are centred on their candidate, so a mirror image is the
 * same candidate seen mirrored, as the classifier's training augmentation showed it.
 */
export function mirroredPatches(patches: Float32Array, size: number, axes: number): Float32Array {
  const voxels = size * size * size;
  if (patches.length % voxels !== 0)
    throw new RangeError(`${patches.length} values are not whole ${size}³ cubes`);
  const out = new Float32Array(patches.length);
  const last = size - 1;
  const mirrorX = (axes & 1) !== 0;
  const mirrorY = (axes & 2) !== 0;
  const mirrorZ = (axes & 4) !== 0;
  for (let base = 0; base < patches.length; base += voxels)
    for (let z = 0; z < size; z += 1) {
      const fromZ = mirrorZ ? last - z : z;
      for (let y = 0; y < size; y += 1) {
        const fromY = mirrorY ? last - y : y;
        const to = base + size * (y + size * z);
        const from = base + size * (fromY + size * fromZ);
        for (let x = 0; x < size; x += 1) out[to + x] = patches[from + (mirrorX ? last - x : x)]!;
      }
    }
  return out;
}
