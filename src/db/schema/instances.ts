import {
  bigint,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';
import { id, timestamps } from './columns.js';
import { series } from './series.js';

/** One stored DICOM object (a CT slice or an Enhanced CT multi-frame object). */
export const instances = pgTable(
  'instances',
  {
    id: id(),
    seriesId: uuid()
      .notNull()
      .references(() => series.id, { onDelete: 'restrict' }),
    /** SOPInstanceUID (0008,0018). */
    sopInstanceUid: text().notNull(),
    /** SOPClassUID (0008,0016). */
    sopClassUid: text().notNull(),
    /** TransferSyntaxUID (0002,0010) as received. */
    transferSyntaxUid: text().notNull(),
    instanceNumber: integer(),
    /** ImagePositionPatient (0020,0032) of the first frame, LPS mm. */
    imagePositionPatient: doublePrecision().array(),
    /** Rows (0028,0010), Columns (0028,0011), BitsAllocated (0028,0100); null for objects without pixels (SR). */
    rows: integer(),
    columns: integer(),
    bitsAllocated: integer(),
    /** NumberOfFrames (0028,0008); null when absent (a single-frame image). */
    numberOfFrames: integer(),
    /**
     * The data set as DICOM JSON (PS3.18 F.2) without its pixel data: the WADO-RS metadata and QIDO-RS
     * `includefield` answers. Binary values are inline (InlineBinary); the pixel data's BulkDataURI is added
     * when answering. Null for rows stored before it existed (read from the file and filled on first use).
     */
    metadata: jsonb().$type<DicomJsonDataset>(),
    /** Key of the original Part 10 file in the blob store. */
    blobKey: text().notNull(),
    /** SHA-256 of the stored data set's bytes (file meta left out), hex. */
    sha256: text().notNull(),
    /**
     * SHA-256 of what the instance says, whatever its encoding (src/dicom/content-digest.ts): a same-UID
     * instance with another content digest is a conflict, one with the same is a duplicate. Null for rows
     * stored before it existed (their `sha256` is compared instead).
     */
    contentDigest: text(),
    sizeBytes: bigint({ mode: 'number' }).notNull(),
    /** Calling AE title, STOW-RS client or import path: where the instance came from. */
    source: text().notNull(),
    receivedAt: timestamp({ withTimezone: true }).defaultNow().notNull(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('instances_sop_instance_uid_key').on(t.sopInstanceUid),
    index('instances_series_idx').on(t.seriesId),
  ],
);
