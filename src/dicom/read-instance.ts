import dcmjs from 'dcmjs';
import dicomParser from 'dicom-parser';
import { FAST_TRANSFER_SYNTAXES } from './image-dataset.js';
import { DomainError } from '../shared/errors.js';
import { isDicomUid } from '../shared/dicom-uid.js';

dcmjs.log.setLevel('error');
// dcmjs reports each element whose dictionary VR is ambiguous in implicit VR files (it then picks the usual VR).
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

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
  /** ImagesInAcquisition (0020,1002): how many images the acquisition has, when the modality says. */
  imagesInAcquisition: number | undefined;
  imagePositionPatient: [number, number, number] | undefined;
  /** StudyID (0020,0010). */
  studyIdentifier: string | undefined;
  /** SeriesDate (0008,0021), ISO, and SeriesTime (0008,0031), HH:MM:SS. */
  seriesDate: string | undefined;
  seriesTime: string | undefined;
  /** Rows, Columns and BitsAllocated of the image; undefined for objects without pixel data. */
  rows: number | undefined;
  columns: number | undefined;
  bitsAllocated: number | undefined;
  /** NumberOfFrames (0028,0008) when present. */
  numberOfFrames: number | undefined;
}

/**
 * Reads the header of a DICOM Part 10 file (the pixel data is not decoded). Little-endian files in the
 * default or Latin-1 character set are read with dicom-parser (fast, ~10x); everything else with dcmjs.
 */
export function readInstanceHeader(bytes: Uint8Array): InstanceHeader {
  const fast = readInstanceHeaderFast(bytes);
  if (fast) return fast;
  try {
    return readInstanceHeaderWithDcmjs(bytes);
  } catch (error) {
    // A reader that stops at an element longer than the file reports what it did not reach ("missing
    // StudyInstanceUID"): name the element that broke off instead.
    const overrun = overrunElement(bytes);
    if (!overrun) throw error;
    throw new DomainError(
      'INVALID_DICOM',
      `element ${overrun.tag} declares ${overrun.length} bytes but only ${overrun.remaining} remain: the file is truncated or corrupt`,
      { context: { tag: overrun.tag }, cause: error },
    );
  }
}

/** The element whose declared length runs past the end of the file, if parsing breaks off at one. */
function overrunElement(bytes: Uint8Array): { tag: string; length: number; remaining: number } | undefined {
  try {
    dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
    return undefined;
  } catch (thrown) {
    const { exception, dataSet } = (thrown ?? {}) as { exception?: unknown; dataSet?: dicomParser.DataSet };
    if (typeof exception !== 'string' || !exception.includes('buffer overrun') || !dataSet) return undefined;
    const last = Object.values(dataSet.elements)
      .sort((a, b) => a.dataOffset - b.dataOffset)
      .at(-1);
    if (!last || last.dataOffset + last.length <= bytes.length) return undefined;
    const tag = last.tag.slice(1).toUpperCase();
    return {
      tag: `(${tag.slice(0, 4)},${tag.slice(4)})`,
      length: last.length,
      remaining: Math.max(0, bytes.length - last.dataOffset),
    };
  }
}

/** The dcmjs path: every transfer syntax and character set dcmjs reads. */
export function readInstanceHeaderWithDcmjs(bytes: Uint8Array): InstanceHeader {
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

  return headerFrom(ds, meta);
}

/**
 * Builds the header from a data set and its file meta by keyword, in dcmjs's naturalized form (strings,
 * numbers, arrays of them; PersonName as { Alphabetic }).
 */
function headerFrom(ds: Record<string, unknown>, meta: Record<string, unknown>): InstanceHeader {
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
    imagesInAcquisition: positiveInteger(num(ds.ImagesInAcquisition)),
    studyIdentifier: str(ds.StudyID),
    seriesDate: isoDate(ds.SeriesDate),
    seriesTime: isoTime(ds.SeriesTime),
    rows: positiveInteger(num(ds.Rows)),
    columns: positiveInteger(num(ds.Columns)),
    bitsAllocated: positiveInteger(num(ds.BitsAllocated)),
    numberOfFrames: positiveInteger(num(ds.NumberOfFrames)),
    imagePositionPatient:
      position?.length === 3 && position.every(Number.isFinite)
        ? [position[0]!, position[1]!, position[2]!]
        : undefined,
  };
}

// eslint-disable-next-line no-control-regex
const TRAILING_NULS = /\u0000+$/;

function firstValue(value: unknown): unknown {
  return Array.isArray(value) ? (value as unknown[])[0] : value;
}

function str(value: unknown): string | undefined {
  const first = firstValue(value);
  if (typeof first !== 'string' && typeof first !== 'number') return undefined;
  // Some writers pad with NUL instead of space; neither is part of the value.
  const text = String(first).replace(TRAILING_NULS, '').trim();
  return text === '' ? undefined : text;
}

function num(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function positiveInteger(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
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

/** Keyword -> dicom-parser tag and how dcmjs would present the value. */
const HEADER_TAGS: Record<
  string,
  { tag: string; kind: 'text' | 'number' | 'numbers' | 'texts' | 'name' | 'us' }
> = {
  SOPClassUID: { tag: 'x00080016', kind: 'text' },
  SOPInstanceUID: { tag: 'x00080018', kind: 'text' },
  StudyInstanceUID: { tag: 'x0020000d', kind: 'text' },
  SeriesInstanceUID: { tag: 'x0020000e', kind: 'text' },
  Modality: { tag: 'x00080060', kind: 'text' },
  PatientID: { tag: 'x00100020', kind: 'text' },
  IssuerOfPatientID: { tag: 'x00100021', kind: 'text' },
  PatientName: { tag: 'x00100010', kind: 'name' },
  PatientBirthDate: { tag: 'x00100030', kind: 'text' },
  PatientSex: { tag: 'x00100040', kind: 'text' },
  AccessionNumber: { tag: 'x00080050', kind: 'text' },
  StudyDate: { tag: 'x00080020', kind: 'text' },
  StudyTime: { tag: 'x00080030', kind: 'text' },
  StudyDescription: { tag: 'x00081030', kind: 'text' },
  ReferringPhysicianName: { tag: 'x00080090', kind: 'name' },
  SeriesNumber: { tag: 'x00200011', kind: 'number' },
  SeriesDescription: { tag: 'x0008103e', kind: 'text' },
  BodyPartExamined: { tag: 'x00180015', kind: 'text' },
  Manufacturer: { tag: 'x00080070', kind: 'text' },
  ManufacturerModelName: { tag: 'x00081090', kind: 'text' },
  InstitutionName: { tag: 'x00080080', kind: 'text' },
  ConvolutionKernel: { tag: 'x00181210', kind: 'texts' },
  SliceThickness: { tag: 'x00180050', kind: 'number' },
  KVP: { tag: 'x00180060', kind: 'number' },
  InstanceNumber: { tag: 'x00200013', kind: 'number' },
  ImagesInAcquisition: { tag: 'x00201002', kind: 'number' },
  ImagePositionPatient: { tag: 'x00200032', kind: 'numbers' },
  StudyID: { tag: 'x00200010', kind: 'text' },
  SeriesDate: { tag: 'x00080021', kind: 'text' },
  SeriesTime: { tag: 'x00080031', kind: 'text' },
  NumberOfFrames: { tag: 'x00280008', kind: 'number' },
  Rows: { tag: 'x00280010', kind: 'us' },
  Columns: { tag: 'x00280011', kind: 'us' },
  BitsAllocated: { tag: 'x00280100', kind: 'us' },
};

/**
 * The dicom-parser path. Returns undefined (use dcmjs) for anything it does not read exactly as dcmjs
 * would: big endian or deflated data sets, a character set other than the default or ISO_IR 100, text
 * outside ASCII, or any parse problem.
 */
export function readInstanceHeaderFast(bytes: Uint8Array): InstanceHeader | undefined {
  let parsed: dicomParser.DataSet;
  try {
    parsed = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch {
    return undefined;
  }
  const transferSyntaxUid = parsed.string('x00020010');
  if (!transferSyntaxUid || !FAST_TRANSFER_SYNTAXES.has(transferSyntaxUid)) return undefined;
  const charset = parsed.string('x00080005') ?? '';
  if (charset !== '' && charset !== 'ISO_IR 100' && charset !== 'ISO_IR 6') return undefined;

  let nonAscii = false;
  const text = (tag: string): string | undefined => {
    const element = parsed.elements[tag];
    if (!element || element.length === 0) return undefined;
    const raw = parsed.string(tag);
    // eslint-disable-next-line no-control-regex
    if (raw !== undefined && /[^\x00-\x7f]/.test(raw)) nonAscii = true;
    return raw;
  };
  const value = (keyword: string): unknown => {
    const entry = HEADER_TAGS[keyword];
    if (!entry) return undefined;
    if (entry.kind === 'us') {
      return parsed.elements[entry.tag]?.length === 2 ? parsed.uint16(entry.tag) : undefined;
    }
    const raw = text(entry.tag);
    if (raw === undefined) return undefined;
    switch (entry.kind) {
      case 'text':
        return raw;
      case 'number':
        return raw.trim() === '' ? undefined : Number(raw);
      case 'numbers':
        return raw.split('\\').map(Number);
      case 'texts':
        return raw.includes('\\') ? raw.split('\\') : raw;
      case 'name':
        return { Alphabetic: raw.split('=')[0] };
    }
  };
  const ds = Object.fromEntries(Object.keys(HEADER_TAGS).map((keyword) => [keyword, value(keyword)]));
  const meta = {
    TransferSyntaxUID: transferSyntaxUid,
    MediaStorageSOPClassUID: text('x00020002'),
    MediaStorageSOPInstanceUID: text('x00020003'),
  };
  try {
    const header = headerFrom(ds, meta);
    return nonAscii ? undefined : header;
  } catch {
    return undefined; // let dcmjs produce the error message
  }
}
