import type { NoduleMeasurement } from '../inference/nodule-measurement.js';
import { DomainError } from '../shared/errors.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';
import { CODES, dicomDateTime, sourceContextAttributes, writePart10 } from './derived-object.js';
import {
  sourceImageForSlice,
  type SourceImage,
  type SourceSeriesReferences,
} from './source-series-references.js';
import { newUid } from './uid.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

/** Tags as DICOM AT values (group << 16 | element), for the dimension index. */
const TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000b;
const TAG_SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const TAG_IMAGE_POSITION_PATIENT = 0x00200032;
const TAG_PLANE_POSITION_SEQUENCE = 0x00209113;

export interface NoduleSegmentationOptions {
  algorithmName: string;
  algorithmVersion: string;
  /** Manufacturer of the writing software; 'nodus' unless set. */
  manufacturer?: string;
  /** The SEG's SOPInstanceUID (the SR refers to it); a new UID unless set. */
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** TrackingUID of segment n+1 (the SR's Tracking Unique Identifier); new UIDs unless set. */
  trackingUids?: readonly string[];
  /** Content date and time; now unless set. */
  createdAt?: Date;
  /** DimensionOrganizationUID; a new UID unless set (set it, with the other UIDs, for byte-identical output). */
  dimensionOrganizationUid?: string;
}

/** The label, tracking id and segment number of nodule `index` (0-based) in the SEG and the SR. */
export function noduleLabel(index: number): string {
  return `Nodule ${index + 1}`;
}

/**
 * Writes the nodules' segmentations as one DICOM Segmentation (PS3.3 A.51), BINARY, one segment per nodule
 * (segment n+1 = nodules[n], label "Nodule n+1"), explicit VR little endian.
 *
 * Frames lie on the volume's grid: frame planes are slices k of `volume` (ImagePositionPatient = originLps +
 * k * spacingMm[2] * axis_k, LPS mm; orientation = direction[0..5]; PixelSpacing = [spacingMm[1],
 * spacingMm[0]]), Rows x Columns = ny x nx. Only slices where a nodule's mask is set get a frame for its
 * segment. Each frame references the source image of its slice (the nearest along the slice normal).
 * Pixels are packed one bit each, LSB first, frames back to back (PS3.5 §8.1.1).
 */
export function writeNoduleSegmentation(
  source: SourceSeriesReferences,
  volume: CtVolume,
  nodules: readonly NoduleMeasurement[],
  options: NoduleSegmentationOptions,
): Uint8Array {
  if (nodules.length === 0) {
    throw new DomainError('VALIDATION_FAILED', 'a segmentation needs at least one nodule');
  }
  const [nx, ny, nz] = volume.dimensions;
  const frameSize = nx * ny;
  const frames: { segment: number; k: number }[] = [];
  nodules.forEach((nodule, n) => {
    for (const k of slicesWithMask(nodule)) {
      if (k < 0 || k >= nz)
        throw new DomainError('VALIDATION_FAILED', `nodule ${n + 1} lies outside the volume`);
      frames.push({ segment: n + 1, k });
    }
  });
  if (frames.length === 0) throw new DomainError('VALIDATION_FAILED', 'the nodule masks are empty');

  const pixels = new Uint8Array(Math.ceil((frames.length * frameSize) / 8 / 2) * 2);
  frames.forEach(({ segment, k }, f) => {
    const nodule = nodules[segment - 1]!;
    const [i0, j0, k0, i1, j1] = nodule.mask.boxIjk;
    const w = i1 - i0 + 1;
    const h = j1 - j0 + 1;
    for (let j = j0; j <= j1; j += 1)
      for (let i = i0; i <= i1; i += 1) {
        if (!nodule.mask.data[i - i0 + w * (j - j0 + h * (k - k0))]) continue;
        if (i < 0 || j < 0 || i >= nx || j >= ny) {
          throw new DomainError('VALIDATION_FAILED', `nodule ${segment} lies outside the volume`);
        }
        const bit = f * frameSize + i + nx * j;
        pixels[bit >> 3]! |= 1 << (bit & 7);
      }
  });

  const d = volume.direction;
  const axisK: Vec3 = [d[6], d[7], d[8]];
  const positionOf = (k: number): Vec3 =>
    [0, 1, 2].map((a) => roundMm(volume.originLps[a]! + k * volume.spacingMm[2] * axisK[a]!)) as Vec3;
  const sourceOf = new Map<number, SourceImage>();
  for (const { k } of frames) if (!sourceOf.has(k)) sourceOf.set(k, sourceImageForSlice(source, volume, k));
  const referenced = [
    ...new Map([...sourceOf.values()].map((image) => [image.sopInstanceUid, image])).values(),
  ];

  const { date, time } = dicomDateTime(options.createdAt ?? new Date());
  const dimensionOrganizationUid = options.dimensionOrganizationUid ?? newUid();
  const manufacturer = options.manufacturer ?? 'nodus';
  const sopInstanceUid = options.sopInstanceUid ?? newUid();
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'PRIMARY'],
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: sopInstanceUid,
    ContentDate: date,
    ContentTime: time,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...sourceContextAttributes(source),
    Modality: 'SEG',
    SeriesInstanceUID: options.seriesInstanceUid ?? newUid(),
    SeriesNumber: options.seriesNumber ?? 901,
    SeriesDescription: options.seriesDescription ?? `${options.algorithmName} nodule segmentation`,
    FrameOfReferenceUID: source.series.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    Manufacturer: manufacturer,
    ManufacturerModelName: options.algorithmName,
    DeviceSerialNumber: options.algorithmVersion,
    SoftwareVersions: options.algorithmVersion,
    InstanceNumber: 1,
    ContentLabel: 'NODULES',
    ContentDescription: `${options.algorithmName} lung nodules`,
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentSequence: nodules.map((_, n) => ({
      SegmentNumber: n + 1,
      SegmentLabel: noduleLabel(n),
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: options.algorithmName,
      SegmentationAlgorithmIdentificationSequence: [
        {
          AlgorithmFamilyCodeSequence: [CODES.artificialIntelligence],
          AlgorithmName: options.algorithmName,
          AlgorithmVersion: options.algorithmVersion,
        },
      ],
      SegmentedPropertyCategoryCodeSequence: [CODES.morphologicallyAbnormalStructure],
      SegmentedPropertyTypeCodeSequence: [CODES.nodule],
      AnatomicRegionSequence: [CODES.lung],
      TrackingID: noduleLabel(n),
      TrackingUID: options.trackingUids?.[n] ?? newUid(),
    })),
    DimensionOrganizationType: '3D',
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: TAG_REFERENCED_SEGMENT_NUMBER,
        FunctionalGroupPointer: TAG_SEGMENT_IDENTIFICATION_SEQUENCE,
        DimensionDescriptionLabel: 'Segment Number',
      },
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: TAG_IMAGE_POSITION_PATIENT,
        FunctionalGroupPointer: TAG_PLANE_POSITION_SEQUENCE,
        DimensionDescriptionLabel: 'Image Position Patient',
      },
    ],
    NumberOfFrames: frames.length,
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [
          { ImageOrientationPatient: [d[0], d[1], d[2], d[3], d[4], d[5]].map(roundCosine) },
        ],
        PixelMeasuresSequence: [
          {
            PixelSpacing: [volume.spacingMm[1], volume.spacingMm[0]].map(roundMm),
            SliceThickness: roundMm(volume.spacingMm[2]),
            SpacingBetweenSlices: roundMm(volume.spacingMm[2]),
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: frames.map(({ segment, k }) => {
      const image = sourceOf.get(k)!;
      return {
        DerivationImageSequence: [
          {
            DerivationCodeSequence: [CODES.segmentation],
            SourceImageSequence: [
              {
                ReferencedSOPClassUID: image.sopClassUid,
                ReferencedSOPInstanceUID: image.sopInstanceUid,
                PurposeOfReferenceCodeSequence: [CODES.sourceImageForProcessing],
              },
            ],
          },
        ],
        FrameContentSequence: [{ DimensionIndexValues: [segment, k + 1] }],
        PlanePositionSequence: [{ ImagePositionPatient: positionOf(k) }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: segment }],
      };
    }),
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: source.series.seriesInstanceUid,
        ReferencedInstanceSequence: referenced.map((image) => ({
          ReferencedSOPClassUID: image.sopClassUid,
          ReferencedSOPInstanceUID: image.sopInstanceUid,
        })),
      },
    ],
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OB' },
  };
  return writePart10(dataset);
}

/** Slices k (volume index) where the nodule's mask has at least one voxel, ascending. */
function slicesWithMask(nodule: NoduleMeasurement): number[] {
  const [i0, j0, k0, i1, j1, k1] = nodule.mask.boxIjk;
  const plane = (i1 - i0 + 1) * (j1 - j0 + 1);
  const slices: number[] = [];
  for (let k = k0; k <= k1; k += 1) {
    const offset = (k - k0) * plane;
    if (nodule.mask.data.subarray(offset, offset + plane).some((v) => v !== 0)) slices.push(k);
  }
  return slices;
}

/** DS values: at most 16 characters; micrometre precision is plenty for positions and spacings. */
function roundMm(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function roundCosine(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
