import { createHmac } from 'node:crypto';
import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';
import {
  ALSO_REMOVED,
  CONFIDENTIALITY_PROFILE,
  DICOM_UID_ROOT,
  WELL_KNOWN_UID_TAGS,
  resolveAction,
  type ProfileAction,
} from './confidentiality-profile.js';

dcmjs.log.setLevel('error');

/** A de-identification project: its name and secret key scope every pseudonym, UID and date shift. */
export interface DeidentificationProject {
  name: string;
  /** HMAC-SHA256 key; keep it secret: whoever has it can re-identify by trying candidate identifiers. */
  key: Uint8Array | string;
}

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

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
 *
 * Every attribute of Table E.1-1, at any depth of sequences, gets the action confidentiality-profile.ts resolves
 * for it (removed, emptied, a dummy value, a keyed UID, a shifted date, or its items cleaned); private groups
 * and curve (50xx) and overlay (60xx) groups are removed. Patient ID and Name become the keyed pseudonym
 * `NODUS-<12 hex>`. Every UID other than class, transfer syntax, coding scheme and DICOM-rooted ones, listed in
 * the table or not, is replaced by a keyed `2.25.` UID that depends only on the project and the original UID,
 * so references between instances (Referenced SOP Instance UID, Series, Study and Frame of Reference UIDs,
 * SR UIDREFs, Tracking UIDs) still resolve among instances de-identified in the same project. Every date (DA,
 * and the date of DT) moves by the patient's whole-day shift; times are kept. Patient Identity Removed,
 * De-identification Method (Code Sequence) and Longitudinal Temporal Information Modified (MODIFIED) are set.
 * Pixel data are copied unchanged, so an instance with burned-in annotation is refused.
 *
 * Deterministic: the same bytes and project give byte-identical output.
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
  dict.dict = Object.fromEntries(sortedEntries(out));
  return new Uint8Array(dict.write());
}

/** File meta attributes that name the sending, receiving or source application, or carry private data. */
const META_REMOVED = new Set([
  '00020000', // FileMetaInformationGroupLength: recomputed on write
  '00020016', // SourceApplicationEntityTitle
  '00020017', // SendingApplicationEntityTitle
  '00020018', // ReceivingApplicationEntityTitle
  '00020026', // SourcePresentationAddress
  '00020027', // SendingPresentationAddress
  '00020028', // ReceivingPresentationAddress
  '00020100', // PrivateInformationCreatorUID
  '00020102', // PrivateInformation
]);

function cleanMeta(meta: Dataset, pseudonyms: Pseudonyms): Dataset {
  const out: Dataset = {};
  for (const [tag, element] of sortedEntries(meta)) {
    const key = tag.toUpperCase();
    if (META_REMOVED.has(key)) continue;
    out[tag] = element.vr === 'UI' ? replaceUids(key, element, pseudonyms) : element;
  }
  return out;
}

/**
 * The attributes of a data set or sequence item, de-identified: each one by its row of Table E.1-1
 * (resolveAction), at any depth; attributes the table does not list by VR: UIDs replaced (WELL_KNOWN_UID_TAGS
 * aside), DA and DT shifted, sequences cleaned item by item, the rest kept. Private, curve and overlay groups go.
 */
function cleanDataset(dataset: Dataset, pseudonyms: Pseudonyms): Dataset {
  const out: Dataset = {};
  for (const [tag, element] of sortedEntries(dataset)) {
    const key = tag.toUpperCase();
    const group = Number.parseInt(key.slice(0, 4), 16);
    if (group % 2 === 1) continue; // private
    if ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000) continue; // curves, overlays
    const cleaned = applyAction(actionFor(key, element.vr), key, element, pseudonyms);
    if (cleaned) out[tag] = cleaned;
  }
  return out;
}

function actionFor(tag: string, vr: string): ProfileAction {
  const row = CONFIDENTIALITY_PROFILE.get(tag);
  if (row) return resolveAction(row, vr);
  if (ALSO_REMOVED.has(tag)) return 'remove';
  switch (vr) {
    case 'SQ':
      return 'cleanItems';
    case 'UI':
      return WELL_KNOWN_UID_TAGS.has(tag) ? 'keep' : 'replaceUid';
    case 'DA':
    case 'DT':
      return 'shiftDate';
    default:
      return 'keep';
  }
}

function applyAction(
  action: ProfileAction,
  tag: string,
  element: Element,
  pseudonyms: Pseudonyms,
): Element | undefined {
  switch (action) {
    case 'remove':
      return undefined;
    case 'empty':
      return { vr: element.vr, Value: [] };
    case 'dummy':
      return { vr: element.vr, Value: [dummyValue(element.vr)] };
    case 'dummyIfValued':
      return { vr: element.vr, Value: hasValue(element) ? [dummyValue(element.vr)] : [] };
    case 'replaceUid':
      return replaceUids(tag, element, pseudonyms);
    case 'shiftDate':
      if (element.vr !== 'DA' && element.vr !== 'DT') return element;
      return {
        vr: element.vr,
        Value: (element.Value ?? []).map((value) =>
          typeof value === 'string' ? shiftDate(value, pseudonyms.dateShiftDays) : '',
        ),
      };
    case 'cleanItems':
      return {
        vr: element.vr,
        Value: (element.Value ?? []).map((item) => cleanDataset(item as Dataset, pseudonyms)),
      };
    case 'keep':
      return element;
  }
}

function replaceUids(tag: string, element: Element, pseudonyms: Pseudonyms): Element {
  if (WELL_KNOWN_UID_TAGS.has(tag)) return element;
  return {
    vr: element.vr,
    Value: (element.Value ?? []).map((value) => {
      const uid = typeof value === 'string' ? value.replace(/\0/g, '').trim() : '';
      return uid === '' || uid.startsWith(DICOM_UID_ROOT) ? uid : pseudonyms.uid(uid);
    }),
  };
}

/** A value of the VR that is valid and says nothing: PS3.15's dummy value (action D). */
function dummyValue(vr: string): unknown {
  switch (vr) {
    case 'PN':
      return { Alphabetic: DUMMY };
    case 'DA':
      return '19000101';
    case 'TM':
      return '000000';
    case 'DT':
      return '19000101000000';
    case 'AS':
      return '000D';
    case 'DS':
    case 'IS':
      return '0';
    case 'FL':
    case 'FD':
    case 'SL':
    case 'SS':
    case 'SV':
    case 'UL':
    case 'US':
    case 'UV':
      return 0;
    case 'OB':
    case 'OD':
    case 'OF':
    case 'OL':
    case 'OV':
    case 'OW':
    case 'UN':
      return new ArrayBuffer(8);
    default:
      return DUMMY; // AE, CS, LO, LT, SH, ST, UC, UR, UT: an upper-case word fits each
  }
}

function hasValue(element: Element): boolean {
  return (element.Value ?? []).some((value) => {
    if (typeof value === 'string') return value.replace(/\0/g, '').trim() !== '';
    if (value instanceof ArrayBuffer) return value.byteLength > 0;
    if (value !== null && typeof value === 'object') {
      return Object.values(value).some((part) => typeof part === 'string' && part.trim() !== '');
    }
    return value !== null && value !== undefined;
  });
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

/** Entries in tag order (upper-case hex, compared as text), whatever order the reader gave. */
function sortedEntries(dataset: Dataset): [string, Element][] {
  return Object.entries(dataset).sort(([a], [b]) => {
    const [x, y] = [a.toUpperCase(), b.toUpperCase()];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
