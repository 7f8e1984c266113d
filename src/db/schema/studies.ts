import { date, index, pgTable, text, time, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { patients } from './patients.js';

/** A DICOM study (one CT examination). */
export const studies = pgTable(
  'studies',
  {
    id: id(),
    patientId: uuid()
      .notNull()
      .references(() => patients.id, { onDelete: 'restrict' }),
    /** StudyInstanceUID (0020,000D). */
    studyInstanceUid: text().notNull(),
    /** AccessionNumber (0008,0050). */
    accessionNumber: text(),
    /** StudyDate (0008,0020) and StudyTime (0008,0030), scanner local time. */
    studyDate: date(),
    studyTime: time(),
    studyDescription: text(),
    referringPhysicianName: text(),
    /** StudyID (0020,0010): the scanner's or RIS's own short study identifier (not the row id). */
    studyIdentifier: text(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('studies_study_instance_uid_key').on(t.studyInstanceUid),
    index('studies_patient_date_idx').on(t.patientId, t.studyDate),
    // QIDO-RS: StudyDate ranges and AccessionNumber matching across patients.
    index('studies_study_date_idx').on(t.studyDate),
    index('studies_accession_number_idx').on(t.accessionNumber),
  ],
);
