import { DomainError } from '../shared/errors.js';
import { writeNifti1File } from '../volume/nifti-file.js';
import { reconstructSeries } from '../volume/reconstruct-series.js';
import { listFiles } from '../dicom/part10-files.js';
import { seriesFileInstances } from '../volume/series-files.js';

/** `nodus volume <series-folder> --out <file.nii[.gz]>`: offline reconstruction to NIfTI-1. */
export async function volumeCommand(inputs: string[], out: string): Promise<number> {
  const files = await listFiles(inputs);
  // The decoding threads read the files themselves, each into one reused buffer.
  const result = await reconstructSeries(seriesFileInstances(files), { expectedSlices: files.length });
  const { volume } = result;
  if (!volume) {
    throw new DomainError('INVALID_DICOM', `no volume: ${result.issues.map((i) => i.message).join('; ')}`);
  }
  await writeNifti1File(volume, out);
  const summary = {
    out,
    dimensions: volume.dimensions,
    spacingMm: volume.spacingMm,
    originLps: volume.originLps,
    direction: volume.direction,
    paddingVoxels: volume.paddingVoxels,
    acceptedForScreening: result.accepted,
    quality: result.issues,
    undecodable: result.undecodable,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}
