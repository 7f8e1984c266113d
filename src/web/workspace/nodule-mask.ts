// nodus's nodule mask (GET /api/studies/{id}/nodules/{noduleId}/mask): a NIfTI-1 file over the nodule's
// bounding box, int16, 1 = nodule, placed by its sform (NIfTI's RAS+ world, mm). The workspace outlines it.

/** Where each voxel of the mask that is set (value 1) lies, in DICOM patient coordinates (LPS, mm). */
export function maskPointsLps(bytes: ArrayBuffer): [number, number, number][] {
  const view = new DataView(bytes);
  if (bytes.byteLength < 352 || view.getInt32(0, true) !== 348)
    throw new Error('not a little-endian NIfTI-1 file');
  const [nx, ny, nz] = [1, 2, 3].map((d) => view.getInt16(40 + 2 * d, true)) as [number, number, number];
  if (view.getInt16(70, true) !== 4) throw new Error('the mask is not int16');
  const offset = view.getFloat32(108, true);
  // srow_x, srow_y, srow_z: world (RAS) = S * [i, j, k, 1].
  const s = Array.from({ length: 12 }, (_, n) => view.getFloat32(280 + 4 * n, true));
  const points: [number, number, number][] = [];
  for (let k = 0; k < nz; k += 1)
    for (let j = 0; j < ny; j += 1)
      for (let i = 0; i < nx; i += 1) {
        if (view.getInt16(offset + 2 * (i + nx * (j + ny * k)), true) !== 1) continue;
        const ras = [0, 1, 2].map(
          (r) => s[4 * r]! * i + s[4 * r + 1]! * j + s[4 * r + 2]! * k + s[4 * r + 3]!,
        );
        // LPS = diag(-1, -1, 1) * RAS.
        points.push([-ras[0]!, -ras[1]!, ras[2]!]);
      }
  return points;
}
