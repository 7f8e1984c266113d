import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';

/** One attribute in the DICOM JSON Model (PS3.18 Annex F.2). */
export interface DicomJsonElement {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON Model: attributes keyed by their tag as 8 upper-case hex digits. */
export type DicomJsonDataset = Record<string, DicomJsonElement>;

/** The Pixel Data tags: (7FE0,0010) PixelData, (7FE0,0008) FloatPixelData, (7FE0,0009) DoubleFloatPixelData. */
export const PIXEL_DATA_TAGS = ['7FE00010', '7FE00008', '7FE00009'] as const;

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/**
 * The data set of a DICOM Part 10 file as DICOM JSON, without its pixel data and without the file meta
 * group: numbers as numbers (DS, IS, binary numbers), person names as `{ Alphabetic, Ideographic,
 * Phonetic }`, sequences as nested data sets, other binary values as base64 `InlineBinary`.
 */
export function dicomJsonFromPart10(bytes: Uint8Array): DicomJsonDataset {
  let dict: Record<string, RawElement>;
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    dict = dcmjs.data.DicomMessage.readFile(buffer, {
      untilTag: '7FE00010',
      includeUntilTagValue: false,
    }).dict;
  } catch (error) {
    throw new DomainError(
      'INVALID_DICOM',
      `not a readable DICOM Part 10 file: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return datasetFromDcmjs(dict, true);
}

interface RawElement {
  vr?: string;
  Value?: unknown[];
  InlineBinary?: string;
}

/** dcmjs's denaturalized data set to the JSON model: drops its private `_rawValue` copies and pixel data. */
function datasetFromDcmjs(dict: Record<string, RawElement>, topLevel: boolean): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of Object.keys(dict).sort()) {
    const key = tag.toUpperCase();
    if (topLevel && ((PIXEL_DATA_TAGS as readonly string[]).includes(key) || key.startsWith('0002')))
      continue;
    // Item and sequence delimiters, group lengths: not attributes.
    if (key.startsWith('FFFE') || key.endsWith('0000')) continue;
    const raw = dict[tag]!;
    const vr = raw.vr ?? 'UN';
    out[key] = elementFromDcmjs(vr, raw);
  }
  return out;
}

function elementFromDcmjs(vr: string, raw: RawElement): DicomJsonElement {
  const values = (raw.Value ?? []).filter((value) => value !== undefined && value !== null);
  if (vr === 'SQ') {
    const items = values.map((item) => datasetFromDcmjs(item as Record<string, RawElement>, false));
    return items.length === 0 ? { vr } : { vr, Value: items };
  }
  if (BINARY_VRS.has(vr)) {
    const chunks = values.filter((value): value is ArrayBuffer => value instanceof ArrayBuffer);
    if (raw.InlineBinary) return { vr, InlineBinary: raw.InlineBinary };
    const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    if (total === 0) return { vr };
    const joined = Buffer.concat(chunks.map((chunk) => new Uint8Array(chunk)));
    return { vr, InlineBinary: joined.toString('base64') };
  }
  if (vr === 'PN') {
    const names = values
      .map((value) => (typeof value === 'string' ? { Alphabetic: value } : value))
      .filter((value) => typeof value === 'object' && Object.keys(value).length > 0);
    return names.length === 0 ? { vr } : { vr, Value: names };
  }
  if (vr === 'AT') {
    const tags = values.map((value) =>
      typeof value === 'number'
        ? value.toString(16).toUpperCase().padStart(8, '0')
        : typeof value === 'string'
          ? value
          : '',
    );
    return tags.length === 0 ? { vr } : { vr, Value: tags };
  }
  const cleaned = values
    .map((value) => (typeof value === 'string' ? value.replace(/\0+$/, '') : value))
    .map((value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value))
    .filter((value) => value !== '');
  return cleaned.length === 0 ? { vr } : { vr, Value: cleaned };
}

/** The first value of an attribute, when it is a string or a number. */
export function firstValue(dataset: DicomJsonDataset | undefined, tag: string): string | number | undefined {
  const value = dataset?.[tag]?.Value?.[0];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}
