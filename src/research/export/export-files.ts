import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Database } from '../../db/client.js';
import { deidentifyInstance, type DeidentificationProject } from '../../dicom/deidentify.js';
import { buildSignedOffReport } from '../../dicom/signed-off-study-objects.js';
import { DomainError } from '../../shared/errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { decodeNifti1Volume, encodeNifti1 } from '../../volume/nifti.js';
import type { CtVolume } from '../../volume/volume.js';
import type { SnapshotData, SnapshotStudy } from '../snapshot-data.js';
import { toCsv } from './csv-table.js';
import { luna16Annotations } from './luna16-annotations.js';
import { monaiDatalist } from './monai-datalist.js';
import { snapshotTables, studyFolder } from './snapshot-tables.js';

/** gzip level of the NIfTI files (zlib's default): part of what the manifest's hashes depend on. */
export const GZIP_LEVEL = 6;
const gzipLevel = promisify(gzip);
const gzipAsync = (bytes: Uint8Array) => gzipLevel(bytes, { level: GZIP_LEVEL });

/** One file of an export: its path under the export root and how to make its bytes (on demand). */
export interface ExportFile {
  path: string;
  produce(): Promise<Uint8Array>;
}

export interface ExportSources {
  blobs: BlobStore;
  db: Database;
  project: DeidentificationProject;
}

/**
 * Every file of a snapshot's export, in a fixed order: the tables (CSV and JSON), LUNA16's annotations.csv,
 * the MONAI datalist, then per study its CT (NIfTI-1, gzip), its nodule label map, and its de-identified
 * DICOM: the CT instances, and for signed-off studies the SR and SEG. Files are made one at a time when
 * asked for, so memory holds one study's volume at most, whatever the cohort's size.
 */
export function* snapshotFiles(data: SnapshotData, sources: ExportSources): Generator<ExportFile> {
  const text = (make: () => string) => () => Promise.resolve(new TextEncoder().encode(make()));
  for (const table of snapshotTables(data)) {
    yield { path: `tables/${table.name}.csv`, produce: text(() => toCsv(table.columns, table.rows)) };
    yield {
      path: `tables/${table.name}.json`,
      produce: text(() => `${JSON.stringify(table.rows, null, 1)}\n`),
    };
  }
  yield { path: 'luna16/annotations.csv', produce: text(() => luna16Annotations(data)) };
  yield { path: 'monai/datalist.json', produce: text(() => monaiDatalist(data)) };
  for (const study of data.studies) yield* studyFiles(study, sources);
}

function* studyFiles(study: SnapshotStudy, sources: ExportSources): Generator<ExportFile> {
  const folder = studyFolder(study);
  yield {
    path: `${folder}/ct.nii.gz`,
    // The stored volume is already the NIfTI-1 file (HU, scanner affine, no identifying header text).
    produce: async () => gzipAsync(await sources.blobs.get(study.source.volumeBlobKey)),
  };
  yield {
    path: `${folder}/nodules.nii.gz`,
    produce: async () => gzipAsync(await labelMap(study, sources.blobs)),
  };
  const digits = Math.max(4, String(study.source.instanceBlobKeys.length).length);
  for (const [index, key] of study.source.instanceBlobKeys.entries()) {
    yield {
      path: `${folder}/dicom/CT-${String(index + 1).padStart(digits, '0')}.dcm`,
      produce: async () => deidentifyInstance(await sources.blobs.get(key), sources.project),
    };
  }
  if (study.source.signedOff) {
    // Made once for both files; a signed-off study never changes, so the objects are the same each time.
    let report: ReturnType<typeof buildSignedOffReport> | undefined;
    const reportOnce = () => (report ??= buildSignedOffReport(sources, study.source.studyId));
    yield {
      path: `${folder}/dicom/SR.dcm`,
      produce: async () => deidentifyInstance((await reportOnce()).report.sr.bytes, sources.project),
    };
    if (study.nodules.some((n) => n.decision === 'accepted' && n.maskBlobKey)) {
      yield {
        path: `${folder}/dicom/SEG.dcm`,
        produce: async () => {
          const seg = (await reportOnce()).report.seg;
          if (!seg)
            throw new DomainError('INTERNAL', `study ${study.studyUid}: the signed-off report has no SEG`);
          return deidentifyInstance(seg.bytes, sources.project);
        },
      };
    }
  }
}

/** The study's nodule label map on its volume's grid: 0 background, n inside nodule number n's AI mask. */
async function labelMap(study: SnapshotStudy, blobs: BlobStore): Promise<Uint8Array> {
  const geometry = {
    spacingMm: study.volume.spacingMm as CtVolume['spacingMm'],
    originLps: study.volume.originLps as CtVolume['originLps'],
    direction: study.volume.direction as CtVolume['direction'],
  };
  const [nx, ny, nz] = study.volume.dimensions as [number, number, number];
  const labels = new Int16Array(nx * ny * nz);
  for (const nodule of study.nodules) {
    if (!nodule.maskBlobKey || !nodule.maskBoxIjk) continue;
    const [i0, j0, k0] = nodule.maskBoxIjk;
    const mask = decodeNifti1Volume(await blobs.get(nodule.maskBlobKey), geometry);
    const [mx, my, mz] = mask.dimensions;
    for (let k = 0; k < mz; k += 1)
      for (let j = 0; j < my; j += 1)
        for (let i = 0; i < mx; i += 1) {
          if (mask.hu[i + mx * (j + my * k)] === 0) continue;
          const I = i0 + i;
          const J = j0 + j;
          const K = k0 + k;
          if (I < nx && J < ny && K < nz) labels[I + nx * (J + ny * K)] = nodule.number;
        }
  }
  return encodeNifti1(
    { ...geometry, dimensions: [nx, ny, nz], hu: labels, paddingVoxels: 0 },
    'nodus nodule labels (value = nodule number)',
  );
}
