import type { DecodedInstance } from '../dicom/pixel-data.js';
import { DomainError } from '../shared/errors.js';
import type { Vec3 } from './volume.js';

/** One 2D image (a classic CT slice or one frame of an Enhanced CT object) with its geometry. */
export interface SliceImage {
  sopInstanceUid: string;
  /** 1-based frame number within its instance. */
  frameNumber: number;
  instanceNumber: number | undefined;
  /** Centre of the first transmitted pixel, LPS mm (ImagePositionPatient). */
  positionLps: Vec3;
  /** Unit vector along a row (increasing column index), LPS (ImageOrientationPatient[0..2]). */
  rowDirection: Vec3;
  /** Unit vector along a column (increasing row index), LPS (ImageOrientationPatient[3..5]). */
  columnDirection: Vec3;
  /** [between rows, between columns] in mm (PixelSpacing). */
  pixelSpacingMm: [number, number];
  rows: number;
  columns: number;
  /** HU = stored * slope + intercept. */
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Stored values that mean "no data" (PixelPaddingValue..PixelPaddingRangeLimit), inclusive. */
  padding: { low: number; high: number } | undefined;
  sliceThicknessMm: number | undefined;
  modality: string | undefined;
  imageType: string[];
  /** Stored pixel values, row-major, length rows*columns. */
  pixels: Int16Array | Uint16Array | Int32Array;
}

type Dataset = Record<string, unknown>;

const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const first = (value: unknown): unknown => asArray(value)[0];
const numbers = (value: unknown): number[] => asArray(value).map(Number);
const item = (sequence: unknown): Dataset | undefined => first(sequence) as Dataset | undefined;

function optionalNumber(value: unknown): number | undefined {
  const v = first(value);
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function vec3(values: number[], what: string, uid: string): Vec3 {
  if (values.length < 3 || !values.slice(0, 3).every(Number.isFinite)) {
    throw new DomainError('INVALID_DICOM', `${what} missing or invalid in ${uid}`, {
      context: { sopInstanceUid: uid },
    });
  }
  return [values[0]!, values[1]!, values[2]!];
}

/** Looks for an attribute in the frame's functional group, then the shared group, then the top level. */
function lookup(groups: (Dataset | undefined)[], sequence: string, attribute: string, top: Dataset): unknown {
  for (const group of groups) {
    const value = item(group?.[sequence])?.[attribute];
    if (value !== undefined) return value;
  }
  return top[attribute];
}

/**
 * Splits a decoded instance into slice images with their geometry. Classic CT has one frame; Enhanced CT
 * carries per-frame position and shared or per-frame orientation, spacing and rescale in functional groups.
 */
export function sliceImagesOf(instance: DecodedInstance): SliceImage[] {
  const ds = instance.dataset;
  const uid = typeof first(ds.SOPInstanceUID) === 'string' ? (first(ds.SOPInstanceUID) as string) : '';
  const shared = item(ds.SharedFunctionalGroupsSequence);
  const perFrame = asArray(ds.PerFrameFunctionalGroupsSequence) as Dataset[];
  const { pixels } = instance;

  return pixels.frames.map((frame, index) => {
    const groups = [perFrame[index], shared];
    const orientation = numbers(lookup(groups, 'PlaneOrientationSequence', 'ImageOrientationPatient', ds));
    const spacing = numbers(lookup(groups, 'PixelMeasuresSequence', 'PixelSpacing', ds));
    if (spacing.length < 2 || !(spacing[0]! > 0) || !(spacing[1]! > 0)) {
      throw new DomainError('INVALID_DICOM', `PixelSpacing missing or invalid in ${uid}`, {
        context: { sopInstanceUid: uid },
      });
    }
    const slope = optionalNumber(lookup(groups, 'PixelValueTransformationSequence', 'RescaleSlope', ds)) ?? 1;
    const intercept =
      optionalNumber(lookup(groups, 'PixelValueTransformationSequence', 'RescaleIntercept', ds)) ?? 0;
    return {
      sopInstanceUid: uid,
      frameNumber: index + 1,
      instanceNumber: optionalNumber(ds.InstanceNumber),
      positionLps: vec3(
        numbers(lookup(groups, 'PlanePositionSequence', 'ImagePositionPatient', ds)),
        'ImagePositionPatient',
        uid,
      ),
      rowDirection: vec3(orientation.slice(0, 3), 'ImageOrientationPatient', uid),
      columnDirection: vec3(orientation.slice(3, 6), 'ImageOrientationPatient', uid),
      pixelSpacingMm: [spacing[0]!, spacing[1]!],
      rows: pixels.rows,
      columns: pixels.columns,
      rescaleSlope: slope,
      rescaleIntercept: intercept,
      padding: paddingRange(ds, pixels.pixelRepresentation),
      sliceThicknessMm: optionalNumber(lookup(groups, 'PixelMeasuresSequence', 'SliceThickness', ds)),
      modality: first(ds.Modality) as string | undefined,
      imageType: asArray(ds.ImageType ?? lookup(groups, 'CTImageFrameTypeSequence', 'FrameType', ds)).map(
        String,
      ),
      pixels: frame,
    };
  });
}

/** PixelPaddingValue (0028,0120) and PixelPaddingRangeLimit (0028,0121) in the stored-value domain. */
function paddingRange(ds: Dataset, pixelRepresentation: 0 | 1): { low: number; high: number } | undefined {
  const toStored = (v: number | undefined) =>
    v !== undefined && pixelRepresentation === 1 && v > 0x7fff ? v - 0x10000 : v;
  const value = toStored(optionalNumber(ds.PixelPaddingValue));
  if (value === undefined) return undefined;
  const limit = toStored(optionalNumber(ds.PixelPaddingRangeLimit)) ?? value;
  return { low: Math.min(value, limit), high: Math.max(value, limit) };
}
