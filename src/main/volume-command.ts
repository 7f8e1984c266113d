import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { listFiles } from '../ingest/import-files.js';
import { DomainError } from '../shared/errors.js';
import { encodeNifti1 } from '../volume/nifti.js';
import { reconstructSeries } from '../volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../volume/series-files.js';

/** `nodus volume <series-folder> --out <file.nii[.gz]>`: offline reconstruction to NIfTI-1. */
export async function volumeCommand(inputs: string[], out: string): Promise<number> {
  const files = await listFiles(inputs);
  const result = await reconstructSeries(readPart10FilesReusingBuffer(files), {
    expectedSlices: files.length,
    scratchInput: true,
  });
  const { volume } = result;
  if (!volume) {
    throw new DomainError('INVALID_DICOM', `no volume: ${result.issues.map((i) => i.message).join('; ')}`);
  }
  const nifti = encodeNifti1(volume);
  fs.writeFileSync(out, out.endsWith('.gz') ? gzipSync(nifti, { level: 1 }) : nifti);
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
