import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
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
