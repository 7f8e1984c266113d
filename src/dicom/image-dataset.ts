import dicomParser from 'dicom-parser';

/**
 * The transfer syntaxes whose data set is explicit or implicit VR little endian and not deflated: the
 * ones {@link readImageAttributes} reads. Big endian and deflated files take the dcmjs path.
 */
export const FAST_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2.1.98', // Encapsulated Uncompressed Explicit VR Little Endian
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
]);

const IMPLICIT_LITTLE = '1.2.840.10008.1.2';

type Vr = 'US' | 'SS' | 'US or SS' | 'DS' | 'IS' | 'CS' | 'UI' | 'SQ';

/**
 * The attributes image decoding and slice geometry read (src/volume/slice-image.ts), at the top level
 * or inside the Enhanced CT functional group sequences, by dicomParser tag.
 */
const ATTRIBUTES: Readonly<Record<string, { keyword: string; vr: Vr }>> = {
  x00080008: { keyword: 'ImageType', vr: 'CS' },
  x00080016: { keyword: 'SOPClassUID', vr: 'UI' },
  x00080018: { keyword: 'SOPInstanceUID', vr: 'UI' },
  x00080060: { keyword: 'Modality', vr: 'CS' },
  x00089007: { keyword: 'FrameType', vr: 'CS' },
  x00180050: { keyword: 'SliceThickness', vr: 'DS' },
  x00189329: { keyword: 'CTImageFrameTypeSequence', vr: 'SQ' },
  x0020000d: { keyword: 'StudyInstanceUID', vr: 'UI' },
  x0020000e: { keyword: 'SeriesInstanceUID', vr: 'UI' },
  x00200013: { keyword: 'InstanceNumber', vr: 'IS' },
  x00200032: { keyword: 'ImagePositionPatient', vr: 'DS' },
  x00200037: { keyword: 'ImageOrientationPatient', vr: 'DS' },
  x00200052: { keyword: 'FrameOfReferenceUID', vr: 'UI' },
  x00209113: { keyword: 'PlanePositionSequence', vr: 'SQ' },
  x00209116: { keyword: 'PlaneOrientationSequence', vr: 'SQ' },
  x00280002: { keyword: 'SamplesPerPixel', vr: 'US' },
  x00280004: { keyword: 'PhotometricInterpretation', vr: 'CS' },
  x00280008: { keyword: 'NumberOfFrames', vr: 'IS' },
  x00280010: { keyword: 'Rows', vr: 'US' },
  x00280011: { keyword: 'Columns', vr: 'US' },
  x00280030: { keyword: 'PixelSpacing', vr: 'DS' },
  x00280100: { keyword: 'BitsAllocated', vr: 'US' },
  x00280101: { keyword: 'BitsStored', vr: 'US' },
  x00280102: { keyword: 'HighBit', vr: 'US' },
  x00280103: { keyword: 'PixelRepresentation', vr: 'US' },
  x00280120: { keyword: 'PixelPaddingValue', vr: 'US or SS' },
  x00280121: { keyword: 'PixelPaddingRangeLimit', vr: 'US or SS' },
  x00281052: { keyword: 'RescaleIntercept', vr: 'DS' },
  x00281053: { keyword: 'RescaleSlope', vr: 'DS' },
  x00289110: { keyword: 'PixelMeasuresSequence', vr: 'SQ' },
  x00289145: { keyword: 'PixelValueTransformationSequence', vr: 'SQ' },
  x52009229: { keyword: 'SharedFunctionalGroupsSequence', vr: 'SQ' },
  x52009230: { keyword: 'PerFrameFunctionalGroupsSequence', vr: 'SQ' },
};

const PIXEL_DATA = 'x7fe00010';

/** Where a Pixel Data value lies in the file. */
export interface PixelDataExtent {
  /** Byte offset of the value (native) or of its first item (encapsulated) in the file. */
  offset: number;
  /** Value length in bytes; undefined for encapsulated (undefined-length) Pixel Data. */
  length: number | undefined;
}

export interface ImageDataSet {
  transferSyntaxUid: string;
  /**
   * The attributes in {@link ATTRIBUTES} as dcmjs naturalizes them: keyword keys; single values as
   * scalars and multiple values as arrays; DS and IS as numbers; sequences as arrays of items.
   */
  dataset: Record<string, unknown>;
  pixelData: PixelDataExtent;
}

/**
 * Reads the image attributes of a little-endian (native or encapsulated) DICOM Part 10 file with
 * dicomParser, which indexes elements without decoding their values: an order of magnitude faster
 * than dcmjs. Returns undefined wherever this reader is not sure to match dcmjs (another transfer
 * syntax, a parse error or warning, no Pixel Data, an attribute with an unexpected VR): the caller then
 * takes the dcmjs path, which also produces the error messages for unusable files.
 */
export function readImageAttributes(bytes: Uint8Array): ImageDataSet | undefined {
  let parsed: dicomParser.DataSet;
  try {
    const meta = dicomParser.readPart10Header(bytes);
    const transferSyntaxUid = meta.string('x00020010');
    if (!transferSyntaxUid || !FAST_TRANSFER_SYNTAXES.has(transferSyntaxUid)) return undefined;
    parsed = dicomParser.parseDicom(bytes);
  } catch {
    return undefined;
  }
  if (parsed.warnings.length > 0) return undefined;
  const transferSyntaxUid = parsed.string('x00020010');
  const pixel = parsed.elements[PIXEL_DATA];
  if (!transferSyntaxUid || !pixel) return undefined;
  const encapsulated = pixel.encapsulatedPixelData === true;
  if (!encapsulated && pixel.dataOffset + pixel.length > bytes.byteLength) return undefined;

  const implicit = transferSyntaxUid === IMPLICIT_LITTLE;
  const dataset = naturalize(parsed, implicit);
  if (!dataset) return undefined;
  return {
    transferSyntaxUid,
    dataset,
    pixelData: { offset: pixel.dataOffset, length: encapsulated ? undefined : pixel.length },
  };
}

function naturalize(ds: dicomParser.DataSet, implicit: boolean): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const tag in ds.elements) {
    const attribute = ATTRIBUTES[tag];
    if (!attribute) continue;
    const element = ds.elements[tag]!;
    const vr = elementVr(element, attribute.vr, implicit);
    if (!vr) return undefined;
    const value = vr === 'SQ' ? sequence(element, implicit) : values(ds, element, vr);
    if (value === undefined) return undefined;
    out[attribute.keyword] = value;
  }
  return out;
}

/** The VR to decode with: the encoded one (explicit VR) if it is the dictionary's, else undefined. */
function elementVr(
  element: dicomParser.Element,
  expected: Vr,
  implicit: boolean,
): Exclude<Vr, 'US or SS'> | undefined {
  if (expected === 'SQ') return element.items ? 'SQ' : undefined;
  // dcmjs reads the ambiguous US-or-SS elements of implicit VR files as US.
  if (implicit) return expected === 'US or SS' ? 'US' : expected;
  const vr = element.vr;
  if (expected === 'US or SS') return vr === 'US' || vr === 'SS' ? vr : undefined;
  return vr === expected ? expected : undefined;
}

function sequence(element: dicomParser.Element, implicit: boolean): Record<string, unknown>[] | undefined {
  const items: Record<string, unknown>[] = [];
  for (const item of element.items ?? []) {
    if (!item.dataSet) return undefined;
    const natural = naturalize(item.dataSet, implicit);
    if (!natural) return undefined;
    items.push(natural);
  }
  return items;
}

/** One value as a scalar, several as an array, none as null (as dcmjs naturalizes them). */
function values(ds: dicomParser.DataSet, element: dicomParser.Element, vr: Exclude<Vr, 'SQ' | 'US or SS'>) {
  const { dataOffset, length } = element;
  let list: (string | number | null)[];
  if (vr === 'US' || vr === 'SS') {
    if (length % 2 !== 0) return undefined;
    const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + dataOffset, length);
    list = Array.from({ length: length / 2 }, (_, k) =>
      vr === 'US' ? view.getUint16(2 * k, true) : view.getInt16(2 * k, true),
    );
  } else {
    let text = latin1(ds.byteArray, dataOffset, length);
    if (vr === 'UI' && text.endsWith('\0')) text = text.slice(0, -1); // the padding byte
    list = text.split('\\').map((v) => stringValue(v, vr));
  }
  if (list.length === 0) return null;
  return list.length === 1 ? list[0] : list;
}

/** dcmjs's formatting of one value: CS trimmed (of whitespace, not NUL), DS and IS as numbers, UI digits and dots. */
function stringValue(value: string, vr: 'DS' | 'IS' | 'CS' | 'UI'): string | number | null {
  switch (vr) {
    case 'DS':
    case 'IS': {
      const number = value.trim().replace(/[^0-9.\\\-+e]/gi, '');
      return number === '' ? null : Number(number);
    }
    case 'UI':
      return value.replace(/[^0-9.]/g, '');
    case 'CS':
      return value.trim();
  }
}

function latin1(bytes: Uint8Array, offset: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('latin1');
}
