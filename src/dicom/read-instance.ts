import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';
import { isDicomUid } from '../shared/dicom-uid.js';

dcmjs.log.setLevel('error');

/** The header attributes nodus keeps for every instance. Positions in LPS mm, thickness in mm. */
export interface InstanceHeader {
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  patientId: string;
  issuerOfPatientId: string | undefined;
  patientName: string | undefined;
  /** ISO date (YYYY-MM-DD) or undefined. */
  patientBirthDate: string | undefined;
  patientSex: string | undefined;
  accessionNumber: string | undefined;
  /** ISO date (YYYY-MM-DD) or undefined. */
  studyDate: string | undefined;
  /** HH:MM:SS or undefined. */
  studyTime: string | undefined;
  studyDescription: string | undefined;
  referringPhysicianName: string | undefined;
  seriesNumber: number | undefined;
  seriesDescription: string | undefined;
  bodyPartExamined: string | undefined;
  manufacturer: string | undefined;
  manufacturerModelName: string | undefined;
  institutionName: string | undefined;
  convolutionKernel: string | undefined;
  sliceThicknessMm: number | undefined;
  kvp: number | undefined;
  instanceNumber: number | undefined;
  imagePositionPatient: [number, number, number] | undefined;
}

/** Reads the header of a DICOM Part 10 file (the pixel data is not decoded). */
export function readInstanceHeader(bytes: Uint8Array): InstanceHeader {
  let parsed: ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    parsed = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: '7FE00010', includeUntilTagValue: false });
  } catch (error) {
    throw new DomainError('INVALID_DICOM', `not a readable DICOM Part 10 file: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.meta);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);

  const requiredUid = (name: string, value: unknown): string => {
    const text = str(value);
    if (text === undefined || !isDicomUid(text)) {
      throw new DomainError('INVALID_DICOM', `missing or invalid ${name}`, { context: { attribute: name } });
    }
    return text;
  };

  const position = Array.isArray(ds.ImagePositionPatient)
    ? (ds.ImagePositionPatient as unknown[]).map(Number)
    : undefined;
  return {
    transferSyntaxUid: requiredUid('TransferSyntaxUID', meta.TransferSyntaxUID),
    sopClassUid: requiredUid('SOPClassUID', ds.SOPClassUID ?? meta.MediaStorageSOPClassUID),
    sopInstanceUid: requiredUid('SOPInstanceUID', ds.SOPInstanceUID ?? meta.MediaStorageSOPInstanceUID),
    studyInstanceUid: requiredUid('StudyInstanceUID', ds.StudyInstanceUID),
    seriesInstanceUid: requiredUid('SeriesInstanceUID', ds.SeriesInstanceUID),
    modality: str(ds.Modality) ?? 'OT',
    patientId: str(ds.PatientID) ?? '',
    issuerOfPatientId: str(ds.IssuerOfPatientID),
    patientName: personName(ds.PatientName),
    patientBirthDate: isoDate(ds.PatientBirthDate),
    patientSex: str(ds.PatientSex),
    accessionNumber: str(ds.AccessionNumber),
    studyDate: isoDate(ds.StudyDate),
    studyTime: isoTime(ds.StudyTime),
    studyDescription: str(ds.StudyDescription),
    referringPhysicianName: personName(ds.ReferringPhysicianName),
    seriesNumber: num(ds.SeriesNumber),
    seriesDescription: str(ds.SeriesDescription),
    bodyPartExamined: str(ds.BodyPartExamined),
    manufacturer: str(ds.Manufacturer),
    manufacturerModelName: str(ds.ManufacturerModelName),
    institutionName: str(ds.InstitutionName),
    convolutionKernel: Array.isArray(ds.ConvolutionKernel)
      ? ds.ConvolutionKernel.map(String).join('\\')
      : str(ds.ConvolutionKernel),
    sliceThicknessMm: num(ds.SliceThickness),
    kvp: num(ds.KVP),
    instanceNumber: num(ds.InstanceNumber),
    imagePositionPatient:
      position?.length === 3 && position.every(Number.isFinite)
        ? [position[0]!, position[1]!, position[2]!]
        : undefined,
  };
}

function firstValue(value: unknown): unknown {
  return Array.isArray(value) ? (value as unknown[])[0] : value;
}

function str(value: unknown): string | undefined {
  const first = firstValue(value);
  if (typeof first !== 'string' && typeof first !== 'number') return undefined;
  const text = String(first).trim();
  return text === '' ? undefined : text;
}

function num(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function personName(value: unknown): string | undefined {
  const first = firstValue(value);
  if (first && typeof first === 'object' && 'Alphabetic' in first) return str(first.Alphabetic);
  return str(first);
}

/** DICOM DA (YYYYMMDD) to ISO; anything else (partial or malformed dates) becomes undefined. */
function isoDate(value: unknown): string | undefined {
  const text = str(value);
  const match = text?.match(/^(\d{4})(\d{2})(\d{2})$/);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

/** DICOM TM (HHMMSS.FFFFFF, trailing parts optional) to HH:MM:SS. */
function isoTime(value: unknown): string | undefined {
  const text = str(value);
  const match = text?.match(/^(\d{2})(\d{2})?(\d{2})?/);
  if (!match) return undefined;
  return `${match[1]}:${match[2] ?? '00'}:${match[3] ?? '00'}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
