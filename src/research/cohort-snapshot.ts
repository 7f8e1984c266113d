import type { Database } from '../db/client.js';
import { cohortMembers } from '../db/repositories/cohort-members.js';
import { recordFrozenSnapshot, snapshotToFreeze } from '../db/repositories/cohort-snapshots.js';
import { snapshotById } from '../db/repositories/cohort-snapshots.js';
import { captureSnapshotStudies } from '../db/repositories/snapshot-capture.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { GZIP_LEVEL, snapshotFiles } from './export/export-files.js';
import {
  EXPORT_MANIFEST_FORMAT,
  encodeManifest,
  hashExportFiles,
  sha256Hex,
  type ExportManifest,
} from './export/export-manifest.js';
import { keyCheck } from './project-pseudonym.js';
import { SNAPSHOT_DATA_FORMAT, type SnapshotData } from './snapshot-data.js';

export interface SnapshotDeps {
  db: Database;
  blobs: BlobStore;
  /** NODUS_DEID_KEY: the secret that keys every project's pseudonyms; undefined refuses to freeze or export. */
  deidentificationKey: string | undefined;
}

/** What an export needs: the frozen data and manifest of a snapshot. */
export interface FrozenSnapshot {
  data: SnapshotData;
  manifest: ExportManifest;
}

const DEIDENTIFICATION =
  'DICOM PS3.15 Basic Application Level Confidentiality Profile, Retain Longitudinal Temporal Information with Modified Dates Option (DCM 113100, 113107); keyed pseudonyms per project';

/**
 * Freezes a snapshot: resolves the cohort's members (as the snapshot's creator sees them), captures their
 * de-identified data, makes every export file once to record its size and SHA-256, and stores the data and
 * manifest; then marks the snapshot frozen, after which the database refuses any change to it.
 * Safe to run again after a crash (a frozen snapshot is returned as it is).
 */
export async function freezeSnapshot(
  deps: SnapshotDeps,
  snapshotId: string,
  onProgress?: (stage: 'members' | 'files', done: number, total: number) => void | Promise<void>,
): Promise<ExportManifest> {
  const project = requireKey(deps);
  const row = await snapshotToFreeze(deps.db, snapshotId);
  if (row.snapshot.status === 'frozen') return (await loadFrozenSnapshot(deps, snapshotId)).manifest;

  const deid = { name: row.projectName, key: project };
  const members = await cohortMembers(deps.db, row.snapshot.definition, {
    projectId: row.projectId,
    institutionIds: row.creatorRole === 'admin' ? undefined : row.creatorInstitutions,
  });
  await onProgress?.('members', members.length, members.length);
  const data: SnapshotData = {
    format: SNAPSHOT_DATA_FORMAT,
    snapshotId,
    project: row.projectName,
    cohort: row.cohortName,
    frozenAt: new Date().toISOString(),
    keyCheck: keyCheck(deid),
    studies: await captureSnapshotStudies(deps.db, members, { ...deid, id: row.projectId }),
  };
  const files = [...snapshotFiles(data, { blobs: deps.blobs, db: deps.db, project: deid })];
  const entries = await hashExportFiles(files, (done) => onProgress?.('files', done, files.length));
  const manifest: ExportManifest = {
    format: EXPORT_MANIFEST_FORMAT,
    snapshotId,
    project: row.projectName,
    cohort: row.cohortName,
    definition: row.snapshot.definition,
    frozenAt: data.frozenAt,
    studies: data.studies.length,
    nodules: data.studies.reduce((sum, s) => sum + s.nodules.length, 0),
    deidentification: DEIDENTIFICATION,
    compression: { format: 'gzip', level: GZIP_LEVEL, zlib: process.versions.zlib },
    members: data.studies.map((study) => ({
      subject: study.subject,
      study: study.studyUid,
      series: study.seriesUid,
      detector: study.detector,
      nodules: study.nodules.length,
      labels: study.labels.map((l) => ({
        vocabulary: l.vocabulary,
        nodule: l.nodule,
        value: l.value,
        source: l.source,
      })),
    })),
    files: entries,
  };
  const dataBlobKey = `snapshots/${snapshotId}/data.json`;
  const manifestBlobKey = `snapshots/${snapshotId}/manifest.json`;
  const manifestBytes = encodeManifest(manifest);
  await deps.blobs.put(dataBlobKey, new TextEncoder().encode(JSON.stringify(data)));
  await deps.blobs.put(manifestBlobKey, manifestBytes);
  await recordFrozenSnapshot(deps.db, snapshotId, members, {
    dataBlobKey,
    manifestBlobKey,
    manifestSha256: sha256Hex(manifestBytes),
    studyCount: manifest.studies,
    noduleCount: manifest.nodules,
    fileCount: entries.length,
    totalBytes: entries.reduce((sum, e) => sum + e.bytes, 0),
    frozenAt: new Date(data.frozenAt),
  });
  return manifest;
}

/** The frozen data and manifest; NOT_FOUND for an unknown snapshot, CONFLICT for one not frozen. */
export async function loadFrozenSnapshot(
  deps: Pick<SnapshotDeps, 'db' | 'blobs'>,
  snapshotId: string,
): Promise<FrozenSnapshot> {
  const { snapshot: row } = await snapshotById(deps.db, snapshotId);
  if (row.status !== 'frozen' || !row.dataBlobKey || !row.manifestBlobKey) {
    throw new DomainError(
      'CONFLICT',
      `cohort snapshot ${snapshotId} is ${row.status}${row.error ? ` (${row.error})` : ''}; only a frozen snapshot can be exported`,
    );
  }
  const manifestBytes = await deps.blobs.get(row.manifestBlobKey);
  if (sha256Hex(manifestBytes) !== row.manifestSha256) {
    throw new DomainError(
      'INTERNAL',
      `the stored manifest of snapshot ${snapshotId} does not match its hash`,
    );
  }
  const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  return {
    manifest: decode(manifestBytes) as ExportManifest,
    data: decode(await deps.blobs.get(row.dataBlobKey)) as SnapshotData,
  };
}

/** The de-identification key, or a clear error naming the setting. */
export function requireKey(deps: Pick<SnapshotDeps, 'deidentificationKey'>): string {
  if (!deps.deidentificationKey) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'NODUS_DEID_KEY is not set: research snapshots and exports need the de-identification key',
    );
  }
  return deps.deidentificationKey;
}

/** The export files of a frozen snapshot, made from its frozen data. */
export function frozenSnapshotFiles(deps: SnapshotDeps, frozen: FrozenSnapshot) {
  const project = { name: frozen.data.project, key: requireKey(deps) };
  if (keyCheck(project) !== frozen.data.keyCheck) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `NODUS_DEID_KEY is not the key snapshot ${frozen.data.snapshotId} was frozen with: its pseudonyms and UIDs could not be made again`,
    );
  }
  return snapshotFiles(frozen.data, { blobs: deps.blobs, db: deps.db, project });
}
