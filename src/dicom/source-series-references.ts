import { readFile } from 'node:fs/promises';
import dcmjs from 'dcmjs';
import { DomainError } from '../shared/errors.js';
import { cross, dot, normalize } from '../volume/vec3.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';

/** One source image of a series: what a SEG frame or an SR image reference points to. */
export interface SourceImage {
  sopClassUid: string;
  sopInstanceUid: string;
  /** ImagePositionPatient: centre of the first transmitted pixel, LPS mm. */
  positionLps: Vec3;
  /** Position along the slice normal (row x column direction), mm: the sort key of reconstructVolume. */
  normalOffsetMm: number;
  /**
   * The image plane: ImageOrientationPatient's row direction (along which the column index grows) and column
   * direction (along which the row index grows), unit vectors in LPS, and PixelSpacing, [between rows, between
   * columns] mm; undefined where the image states no PixelSpacing.
   */
  plane?: { rowDirection: Vec3; columnDirection: Vec3; pixelSpacingMm: [number, number] };
}

/**
 * What derived objects (SEG, SR) copy from their source series: the patient, study and frame of reference
 * they belong to, and the images they reference. Text values are as DICOM encodes them (DA YYYYMMDD, TM
 * HHMMSS, PN family^given), '' where the source leaves a type 2 attribute empty.
 */
export interface SourceSeriesReferences {
  patient: { name: string; id: string; birthDate: string; sex: string };
  study: {
    studyInstanceUid: string;
    studyDate: string;
    studyTime: string;
    accessionNumber: string;
    referringPhysicianName: string;
    studyId: string;
  };
  series: { seriesInstanceUid: string; frameOfReferenceUid: string; modality: string };
  /**
   * Single-frame images ordered by position along the slice normal, ascending: the order reconstructVolume
   * gives slices, so images[k] is slice k of a volume that was not resampled.
   */
  images: SourceImage[];
}

/** Reads the headers of the Part 10 files of one series (files that are not DICOM images are skipped). */
export async function readSourceSeriesReferences(files: readonly string[]): Promise<SourceSeriesReferences> {
  const headers: Record<string, unknown>[] = [];
  for (const file of files) {
    const header = readHeader(await readFile(file));
    if (header) headers.push(header);
  }
  return sourceSeriesReferencesFrom(headers);
}

/** As readSourceSeriesReferences, from Part 10 bytes. */
export function sourceSeriesReferencesFromBytes(instances: Iterable<Uint8Array>): SourceSeriesReferences {
  const headers: Record<string, unknown>[] = [];
  for (const bytes of instances) {
    const header = readHeader(bytes);
    if (header) headers.push(header);
  }
  return sourceSeriesReferencesFrom(headers);
}

/**
 * The source image nearest to slice k of `volume` along its slice axis (direction[6..8]). For a volume that
 * was not resampled this is the image the slice came from; after resampling onto an even grid it is the
 * nearest acquired slice.
 */
export function sourceImageForSlice(
  source: SourceSeriesReferences,
  volume: CtVolume,
  k: number,
): SourceImage {
  const axisK: Vec3 = [volume.direction[6], volume.direction[7], volume.direction[8]];
  const offset = dot(volume.originLps, axisK) + k * volume.spacingMm[2];
  let best = source.images[0];
  if (!best) throw new DomainError('VALIDATION_FAILED', 'the source series has no images');
  for (const image of source.images) {
    if (Math.abs(image.normalOffsetMm - offset) < Math.abs(best.normalOffsetMm - offset)) best = image;
  }
  return best;
}

function readHeader(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const parsed = dcmjs.data.DicomMessage.readFile(buffer, {
      untilTag: '7FE00010',
      includeUntilTagValue: false,
    });
    return dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  } catch {
    return undefined; // not DICOM (reader XML, DICOMDIR stubs): reconstruction reports what it could not use
  }
}

function sourceSeriesReferencesFrom(headers: readonly Record<string, unknown>[]): SourceSeriesReferences {
  const images = headers.filter(
    (h) => numbers(h.ImagePositionPatient)?.length === 3 && numbers(h.ImageOrientationPatient)?.length === 6,
  );
  // A folder may hold more than one series (a scout, a second kernel): keep the largest, as detection does.
  const bySeries = new Map<string, Record<string, unknown>[]>();
  for (const header of images) {
    const uid = text(header.SeriesInstanceUID);
    bySeries.set(uid, [...(bySeries.get(uid) ?? []), header]);
  }
  const series = [...bySeries.values()].sort((a, b) => b.length - a.length)[0];
  const first = series?.[0];
  if (!series || !first) throw new DomainError('VALIDATION_FAILED', 'no DICOM images with a position found');
  if (series.some((h) => Number(text(h.NumberOfFrames) || '1') > 1)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'multi-frame source images are not supported for SEG/SR output',
    );
  }
  const orientation = numbers(first.ImageOrientationPatient)!;
  const normal = normalize(
    cross(
      [orientation[0]!, orientation[1]!, orientation[2]!],
      [orientation[3]!, orientation[4]!, orientation[5]!],
    ),
  );
  const required = (keyword: string): string => {
    const value = text(first[keyword]);
    if (!value) throw new DomainError('INVALID_DICOM', `the source series has no ${keyword}`);
    return value;
  };
  return {
    patient: {
      name: personName(first.PatientName),
      id: text(first.PatientID),
      birthDate: text(first.PatientBirthDate),
      sex: text(first.PatientSex),
    },
    study: {
      studyInstanceUid: required('StudyInstanceUID'),
      studyDate: text(first.StudyDate),
      studyTime: text(first.StudyTime),
      accessionNumber: text(first.AccessionNumber),
      referringPhysicianName: personName(first.ReferringPhysicianName),
      studyId: text(first.StudyID),
    },
    series: {
      seriesInstanceUid: required('SeriesInstanceUID'),
      frameOfReferenceUid: required('FrameOfReferenceUID'),
      modality: text(first.Modality) || 'CT',
    },
    images: series
      .map((h) => {
        const p = numbers(h.ImagePositionPatient)!;
        const positionLps: Vec3 = [p[0]!, p[1]!, p[2]!];
        const o = numbers(h.ImageOrientationPatient)!;
        const spacing = numbers(h.PixelSpacing);
        const image: SourceImage = {
          sopClassUid: text(h.SOPClassUID),
          sopInstanceUid: text(h.SOPInstanceUID),
          positionLps,
          normalOffsetMm: dot(positionLps, normal),
        };
        if (spacing?.length === 2 && spacing.every((s) => s > 0)) {
          image.plane = {
            rowDirection: normalize([o[0]!, o[1]!, o[2]!]),
            columnDirection: normalize([o[3]!, o[4]!, o[5]!]),
            pixelSpacingMm: [spacing[0]!, spacing[1]!],
          };
        }
        return image;
      })
      .sort((a, b) => a.normalOffsetMm - b.normalOffsetMm),
  };
}

function text(value: unknown): string {
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === 'string' || typeof first === 'number' ? String(first).trim() : '';
}

function numbers(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = (value as unknown[]).map(Number);
  return list.every(Number.isFinite) ? list : undefined;
}

function personName(value: unknown): string {
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (first && typeof first === 'object' && 'Alphabetic' in first) return text(first.Alphabetic);
  return text(first);
}
