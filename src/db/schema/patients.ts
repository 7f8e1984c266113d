import { date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';
import { institutions } from './institutions.js';

/** A patient as identified by one institution (PatientID is only unique within its issuer). */
export const patients = pgTable(
  'patients',
  {
    id: id(),
    institutionId: uuid()
      .notNull()
      .references(() => institutions.id, { onDelete: 'restrict' }),
    /** PatientID (0010,0020). */
    patientId: text().notNull(),
    /** IssuerOfPatientID (0010,0021), when sent. */
    issuerOfPatientId: text(),
    /** PatientName (0010,0010) as a DICOM PN string. */
    patientName: text(),
    /** PatientBirthDate (0010,0030). */
    birthDate: date(),
    /** PatientSex (0010,0040): M, F or O. */
    sex: text(),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('patients_institution_patient_key').on(t.institutionId, t.patientId),
    index('patients_patient_id_idx').on(t.patientId),
  ],
);
