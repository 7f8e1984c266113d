import type { VolumeRecord } from '../db/repositories/volumes.js';
import type { LabelEvidence, LabelSource } from '../shared/research.js';

/** Format tag of {@link SnapshotData}; a change of shape needs a new tag. */
export const SNAPSHOT_DATA_FORMAT = 'nodus-snapshot-data/1';

/**
 * What a snapshot froze: per member study, the de-identified values its tables show and the internal
 * references (blob keys) its files are read from. Stored once as canonical JSON in the blob store; every
 * export of the snapshot is written from it, never from the live tables, so later review actions, labels or
 * reprocessing do not change an export. Internal references never leave nodus.
 */
export interface SnapshotData {
  format: typeof SNAPSHOT_DATA_FORMAT;
  snapshotId: string;
  project: string;
  cohort: string;
  /** ISO instant the snapshot was frozen (UTC). */
  frozenAt: string;
  /** Identifies the de-identification key the snapshot was frozen with (see keyCheck), not the key. */
  keyCheck: string;
  studies: SnapshotStudy[];
}

export interface SnapshotStudy {
  /** Patient pseudonym (`NODUS-...`), the same in the DICOM files. */
  subject: string;
  /** De-identified StudyInstanceUID and SeriesInstanceUID (`2.25....`), the same in the DICOM files. */
  studyUid: string;
  seriesUid: string;
  /** Institution pseudonym (`SITE-...`). */
  site: string;
  /** StudyDate moved by the patient's date shift (YYYY-MM-DD), or null when not sent. */
  studyDate: string | null;
  manufacturer: string | null;
  manufacturerModelName: string | null;
  convolutionKernel: string | null;
  sliceThicknessMm: number | null;
  reviewStatus: string;
  aiCategory: string | null;
  category: string | null;
  finalCategory: string | null;
  /** The detector whose findings the study's AI nodules are, as `id@version`. */
  detector: string | null;
  /** Volume geometry: voxel (i, j, k) -> LPS mm (see src/db/schema/volumes.ts). */
  volume: Omit<VolumeRecord, 'blobKey'>;
  nodules: SnapshotNodule[];
  labels: SnapshotLabel[];
  /** Internal: where the files come from. */
  source: {
    studyId: string;
    volumeBlobKey: string;
    /** The study's stored instances of the series, sorted by key. */
    instanceBlobKeys: string[];
    /** The study is signed off: its SR and SEG are exported too. */
    signedOff: boolean;
  };
}

/** A reviewed nodule as it stood (LPS mm; diameters on the axial plane, mm). */
export interface SnapshotNodule {
  /** 1-based number within the study; also its value in the study's label mask. */
  number: number;
  origin: 'ai' | 'reader';
  decision: 'pending' | 'accepted' | 'rejected';
  centreLps: [number, number, number];
  longAxisMm: number;
  shortAxisMm: number;
  meanDiameterMm: number;
  volumeMm3: number | null;
  type: string;
  solidComponentMm: number | null;
  score: number | null;
  /** Internal: the AI mask over `maskBoxIjk` of the member volume; null for reader-added nodules. */
  maskBlobKey: string | null;
  maskBoxIjk: [number, number, number, number, number, number] | null;
  /** Internal. */
  noduleId: string;
}

export interface SnapshotLabel {
  /** The nodule's number, or null for a study label. */
  nodule: number | null;
  vocabulary: string;
  /** A code, or a number in the vocabulary's unit. */
  value: string | number;
  unit: string | null;
  source: LabelSource;
  /** `model` labels: `id@version`. */
  model: string | null;
  /** `reader`/`consensus` labels: the reader's pseudonym (`READER-...`). */
  reader: string | null;
  evidence: LabelEvidence;
  /** The day the label was given, moved by the patient's date shift (YYYY-MM-DD). */
  labelledOn: string;
}
