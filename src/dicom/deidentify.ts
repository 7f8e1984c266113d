import { createHmac } from 'node:crypto';
import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';

dcmjs.log.setLevel('error');

/** A de-identification project: its name and secret key scope every pseudonym, UID and date shift. */
export interface DeidentificationProject {
  name: string;
  /** HMAC-SHA256 key; keep it secret: whoever has it can re-identify by trying candidate identifiers. */
  key: Uint8Array | string;
}

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

/**
 * PS3.15 Table E.1-1 actions (Basic Profile) applied by tag: D replace with a dummy value, Z empty, X remove.
 * UIDs (action U) are handled by VR for every UI attribute; dates (DA, DT) by the Retain Longitudinal
 * Temporal Information with Modified Dates option, which shifts them (action C) instead of removing them,
 * except Patient's Birth Date, which is emptied. Where the table allows a choice (X/Z, X/Z/D), the
 * strictest the CT Image IOD permits is taken. "Retain Patient Characteristics" is not applied, so
 * Patient's Sex is emptied and Age, Size and Weight are removed.
 */
const ACTIONS: Readonly<Record<string, 'D' | 'Z' | 'X'>> = {
  '00080050': 'Z', // AccessionNumber
  '00080080': 'X', // InstitutionName
  '00080081': 'X', // InstitutionAddress
  '00080082': 'X', // InstitutionCodeSequence
  '00080090': 'Z', // ReferringPhysicianName
  '00080092': 'X', // ReferringPhysicianAddress
  '00080094': 'X', // ReferringPhysicianTelephoneNumbers
  '00080096': 'X', // ReferringPhysicianIdentificationSequence
  '0008009C': 'X', // ConsultingPhysicianName
  '0008009D': 'X', // ConsultingPhysicianIdentificationSequence
  '00080201': 'X', // TimezoneOffsetFromUTC
  '00081010': 'X', // StationName
  '00081030': 'X', // StudyDescription
  '0008103E': 'X', // SeriesDescription
  '00081040': 'X', // InstitutionalDepartmentName
  '00081041': 'X', // InstitutionalDepartmentTypeCodeSequence
  '00081048': 'X', // PhysiciansOfRecord
  '00081049': 'X', // PhysiciansOfRecordIdentificationSequence
  '00081050': 'X', // PerformingPhysicianName
  '00081052': 'X', // PerformingPhysicianIdentificationSequence
  '00081060': 'X', // NameOfPhysiciansReadingStudy
  '00081062': 'X', // PhysiciansReadingStudyIdentificationSequence
  '00081070': 'X', // OperatorsName
  '00081072': 'X', // OperatorIdentificationSequence
  '00081080': 'X', // AdmittingDiagnosesDescription
  '00081084': 'X', // AdmittingDiagnosesCodeSequence
  '00081110': 'X', // ReferencedStudySequence
  '00081111': 'X', // ReferencedPerformedProcedureStepSequence
  '00081120': 'X', // ReferencedPatientSequence
  '00082111': 'X', // DerivationDescription
  '00084000': 'X', // IdentifyingComments
  '00100021': 'X', // IssuerOfPatientID
  '00100024': 'X', // IssuerOfPatientIDQualifiersSequence
  '00100030': 'Z', // PatientBirthDate
  '00100032': 'X', // PatientBirthTime
  '00100040': 'Z', // PatientSex
  '00100050': 'X', // PatientInsurancePlanCodeSequence
  '00100101': 'X', // PatientPrimaryLanguageCodeSequence
  '00100102': 'X', // PatientPrimaryLanguageModifierCodeSequence
  '00101000': 'X', // OtherPatientIDs
  '00101001': 'X', // OtherPatientNames
  '00101002': 'X', // OtherPatientIDsSequence
  '00101005': 'X', // PatientBirthName
  '00101010': 'X', // PatientAge
  '00101020': 'X', // PatientSize
  '00101030': 'X', // PatientWeight
  '00101040': 'X', // PatientAddress
  '00101060': 'X', // PatientMotherBirthName
  '00101080': 'X', // MilitaryRank
  '00101081': 'X', // BranchOfService
  '00101090': 'X', // MedicalRecordLocator
  '00102000': 'X', // MedicalAlerts
  '00102110': 'X', // Allergies
  '00102150': 'X', // CountryOfResidence
  '00102152': 'X', // RegionOfResidence
  '00102154': 'X', // PatientTelephoneNumbers
  '00102160': 'X', // EthnicGroup
  '00102180': 'X', // Occupation
  '001021A0': 'X', // SmokingStatus
  '001021B0': 'X', // AdditionalPatientHistory
  '001021C0': 'X', // PregnancyStatus
  '00102203': 'X', // PatientSexNeutered
  '00102297': 'X', // ResponsiblePerson
  '00102299': 'X', // ResponsibleOrganization
  '00104000': 'X', // PatientComments
  '00181000': 'X', // DeviceSerialNumber
  '00181004': 'X', // PlateID
  '00181030': 'X', // ProtocolName
  '00181400': 'X', // AcquisitionDeviceProcessingDescription
  '00184000': 'X', // AcquisitionComments
  '0018700A': 'X', // DetectorID
  '00189424': 'X', // AcquisitionProtocolDescription
  '0018A003': 'X', // ContributionDescription
  '00200010': 'Z', // StudyID
  '00204000': 'X', // ImageComments
  '00209158': 'X', // FrameComments
  '00321032': 'X', // RequestingPhysician
  '00321033': 'X', // RequestingService
  '00321060': 'X', // RequestedProcedureDescription
  '00321070': 'X', // RequestedContrastAgent
  '00324000': 'X', // StudyComments
  '00380010': 'X', // AdmissionID
  '00380300': 'X', // CurrentPatientLocation
  '00380400': 'X', // PatientInstitutionResidence
  '00380500': 'X', // PatientState
  '00384000': 'X', // VisitComments
  '00400001': 'X', // ScheduledStationAETitle
  '00400006': 'X', // ScheduledPerformingPhysicianName
  '00400007': 'X', // ScheduledProcedureStepDescription
  '00400009': 'X', // ScheduledProcedureStepID
  '00400010': 'X', // ScheduledStationName
  '00400011': 'X', // ScheduledProcedureStepLocation
  '00400241': 'X', // PerformedStationAETitle
  '00400242': 'X', // PerformedStationName
  '00400243': 'X', // PerformedLocation
  '00400253': 'X', // PerformedProcedureStepID
  '00400254': 'X', // PerformedProcedureStepDescription
  '00400275': 'X', // RequestAttributesSequence
  '00400280': 'X', // CommentsOnThePerformedProcedureStep
  '00400555': 'X', // AcquisitionContextSequence
  '00401001': 'X', // RequestedProcedureID
  '00401010': 'X', // NamesOfIntendedRecipientsOfResults
  '00401400': 'X', // RequestedProcedureComments
  '00402016': 'Z', // PlacerOrderNumberImagingServiceRequest
  '00402017': 'Z', // FillerOrderNumberImagingServiceRequest
  '00402400': 'X', // ImagingServiceRequestComments
  '0040A073': 'X', // VerifyingObserverSequence (D; removed, not used by CT)
  '0040A075': 'D', // VerifyingObserverName
  '0040A123': 'D', // PersonName
  '0040A730': 'X', // ContentSequence
  '00700084': 'Z', // ContentCreatorName
  '04000561': 'X', // OriginalAttributesSequence
  '00120063': 'X', // DeidentificationMethod (written anew)
  '00120064': 'X', // DeidentificationMethodCodeSequence (written anew)
};

/** UI attributes that name classes, syntaxes or coding schemes, not instances: never replaced. */
const CLASS_UID_TAGS = new Set([
  '00020002', // MediaStorageSOPClassUID
  '00020010', // TransferSyntaxUID
  '00020012', // ImplementationClassUID
  '00041510', // ReferencedSOPClassUIDInFile
  '00041512', // ReferencedTransferSyntaxUIDInFile
  '00080016', // SOPClassUID
  '0008001A', // RelatedGeneralSOPClassUID
  '0008001B', // OriginalSpecializedSOPClassUID
  '0008010C', // CodingSchemeUID
  '0008010D', // ContextGroupExtensionCreatorUID
  '00080117', // ContextUID
  '00080118', // MappingResourceUID
  '00081150', // ReferencedSOPClassUID
]);
/** The UID root of DICOM itself (SOP classes, transfer syntaxes, well-known frames of reference). */
const DICOM_ROOT = '1.2.840.10008.';

const DUMMY = 'REMOVED';
const SHIFT_MIN_DAYS = -3650;
const SHIFT_MAX_DAYS = -365;
const DAY_MS = 86_400_000;

const code = (CodeValue: string, CodeMeaning: string) => ({
  '00080100': { vr: 'SH', Value: [CodeValue] },
  '00080102': { vr: 'SH', Value: ['DCM'] },
  '00080104': { vr: 'LO', Value: [CodeMeaning] },
});

/** The keyed pseudonyms of one instance: patient, date shift and UID map, all derived with HMAC-SHA256. */
export interface Pseudonyms {
  patientId: string;
  /** Days added to every date of this patient, in [-3650, -365]. */
  dateShiftDays: number;
  uid(original: string): string;
}

/**
 * The pseudonyms of a patient in a project: `NODUS-<12 hex>` for the ID, a whole-day date shift in
 * [-3650, -365], and `2.25.<decimal of 128 bits>` UIDs (a UUID v8 form, PS3.5 §B.2). The same input and
 * project always give the same result, so series and studies of one patient stay linked.
 */
export function pseudonymsFor(
  project: DeidentificationProject,
  patientId: string,
  issuerOfPatientId = '',
): Pseudonyms {
  const mac = (purpose: string, text: string) =>
    createHmac('sha256', project.key).update(`${project.name}\u0000${purpose}\u0000${text}`).digest();
  const patient = `${patientId}\u0000${issuerOfPatientId}`;
  const span = SHIFT_MAX_DAYS - SHIFT_MIN_DAYS + 1;
  const uids = new Map<string, string>();
  return {
    patientId: `NODUS-${mac('patient', patient).toString('hex').slice(0, 12).toUpperCase()}`,
    dateShiftDays: SHIFT_MIN_DAYS + (mac('date-shift', patient).readUInt32BE(0) % span),
    uid(original) {
      let mapped = uids.get(original);
      if (mapped === undefined) {
        const hash = mac('uid', original).subarray(0, 16);
        hash[6] = (hash[6]! & 0x0f) | 0x80;
        hash[8] = (hash[8]! & 0x3f) | 0x80;
        mapped = `2.25.${BigInt(`0x${hash.toString('hex')}`).toString()}`;
        uids.set(original, mapped);
      }
      return mapped;
    },
  };
}

/**
 * De-identifies one DICOM Part 10 instance under PS3.15 Annex E: the Basic Application Level
 * Confidentiality Profile with the Retain Longitudinal Temporal Information with Modified Dates Option.
 * Patient ID and Name become a keyed pseudonym; every instance UID is replaced by a keyed hash (stable in
 * the project); every date (DA, and the date of DT) moves by one per-patient whole number of days; times
 * are kept; Table E.1-1 attributes are removed or emptied, and so are private groups and curve (50xx) and
 * overlay (60xx) groups. Pixel data are copied unchanged, so burned-in annotation is refused.
 *
 * @throws DomainError `INVALID_DICOM` when the bytes are not a readable Part 10 file,
 *   `VALIDATION_FAILED` when Burned In Annotation (0028,0301) is YES.
 */
export function deidentifyInstance(bytes: Uint8Array, project: DeidentificationProject): Uint8Array {
  let parsed: ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    parsed = dcmjs.data.DicomMessage.readFile(buffer);
  } catch (error) {
    throw new DomainError('INVALID_DICOM', `not a readable DICOM Part 10 file: ${String(error)}`, {
      cause: error,
    });
  }
  const dataset = parsed.dict as Dataset;
  if (firstString(dataset['00280301'])?.trim().toUpperCase() === 'YES') {
    throw new DomainError(
      'VALIDATION_FAILED',
      'Burned In Annotation is YES: the pixel data may identify the patient and nodus does not clean pixels',
      { context: { sopInstanceUid: firstString(dataset['00080018']) } },
    );
  }
  const pseudonyms = pseudonymsFor(
    project,
    firstString(dataset['00100020']) ?? '',
    firstString(dataset['00100021']) ?? '',
  );

  const out = cleanDataset(dataset, pseudonyms);
  out['00100010'] = { vr: 'PN', Value: [{ Alphabetic: pseudonyms.patientId }] };
  out['00100020'] = { vr: 'LO', Value: [pseudonyms.patientId] };
  out['00120062'] = { vr: 'CS', Value: ['YES'] };
  out['00120063'] = {
    vr: 'LO',
    Value: ['Basic Application Confidentiality Profile', 'Retain Longitudinal With Modified Dates'],
  };
  out['00120064'] = {
    vr: 'SQ',
    Value: [
      code('113100', 'Basic Application Confidentiality Profile'),
      code('113107', 'Retain Longitudinal Temporal Information Modified Dates Option'),
    ],
  };
  out['00280303'] = { vr: 'CS', Value: ['MODIFIED'] };

  const meta = cleanMeta(parsed.meta, pseudonyms);
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = sortedByTag(out);
  return new Uint8Array(dict.write());
}

function cleanMeta(meta: Dataset, pseudonyms: Pseudonyms): Dataset {
  const out: Dataset = {};
  for (const [tag, element] of Object.entries(meta)) {
    // Group length is recomputed on write; source AE title and private information may identify.
    if (tag === '00020000' || tag === '00020016' || tag === '00020100' || tag === '00020102') continue;
    out[tag] = element.vr === 'UI' ? replaceUids(tag, element, pseudonyms) : element;
  }
  return out;
}

function cleanDataset(dataset: Dataset, pseudonyms: Pseudonyms): Dataset {
  const out: Dataset = {};
  for (const [tag, element] of Object.entries(dataset)) {
    const group = Number.parseInt(tag.slice(0, 4), 16);
    if (group % 2 === 1) continue; // private
    if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) continue; // curves, overlays
    const action = ACTIONS[tag.toUpperCase()];
    if (action === 'X') continue;
    if (action === 'Z') {
      out[tag] = { vr: element.vr, Value: [] };
      continue;
    }
    if (action === 'D') {
      out[tag] = { vr: element.vr, Value: [element.vr === 'PN' ? { Alphabetic: DUMMY } : DUMMY] };
      continue;
    }
    switch (element.vr) {
      case 'UI':
        out[tag] = replaceUids(tag, element, pseudonyms);
        break;
      case 'DA':
      case 'DT':
        out[tag] = {
          vr: element.vr,
          Value: (element.Value ?? []).map((value) =>
            typeof value === 'string' ? shiftDate(value, pseudonyms.dateShiftDays) : '',
          ),
        };
        break;
      case 'SQ':
        out[tag] = {
          vr: 'SQ',
          Value: (element.Value ?? []).map((item) => cleanDataset(item as Dataset, pseudonyms)),
        };
        break;
      default:
        out[tag] = element;
    }
  }
  return out;
}

function replaceUids(tag: string, element: Element, pseudonyms: Pseudonyms): Element {
  if (CLASS_UID_TAGS.has(tag.toUpperCase())) return element;
  return {
    vr: 'UI',
    Value: (element.Value ?? []).map((value) => {
      const uid = typeof value === 'string' ? value.replace(/\0/g, '').trim() : '';
      return uid === '' || uid.startsWith(DICOM_ROOT) ? uid : pseudonyms.uid(uid);
    }),
  };
}

/**
 * Moves the date (YYYYMMDD) at the start of a DA or DT value by `days`, keeping the rest (time, offset).
 * A value with no full date (a DT of only year or month, an old "YYYY.MM.DD") is emptied rather than kept.
 */
export function shiftDate(value: string, days: number): string {
  const text = value.trim();
  const match = /^(\d{4})(\d{2})(\d{2})/.exec(text);
  if (!match) return '';
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + days * DAY_MS;
  if (Number.isNaN(ms)) return '';
  const shifted = new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
  return `${shifted}${text.slice(8)}`;
}

function firstString(element: Element | undefined): string | undefined {
  const value = element?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

function sortedByTag(dataset: Dataset): Dataset {
  return Object.fromEntries(Object.entries(dataset).sort(([a], [b]) => a.localeCompare(b)));
}
