import type { NoduleMeasurement } from '../inference/nodule-measurement.js';
import type { NoduleType } from '../phantom/nodule-type.js';
import type { CaliperAxes } from '../shared/caliper-axes.js';
import type { LungRadsCategory } from '../shared/lung-rads-category.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';
import { uidFromName } from './derived-object.js';
import { SEGMENTATION_STORAGE, writeNoduleSegmentation } from './nodule-seg.js';
import {
  COMPREHENSIVE_3D_SR_STORAGE,
  writeNoduleStructuredReport,
  type ReportVerification,
  type SecondReaderOpinion,
} from './nodule-sr.js';
import type { SourceSeriesReferences } from './source-series-references.js';

/**
 * A nodule as signed off: accepted by the radiologist, with its measurements as they stand after review.
 * Axial diameters in mm, volume in mm3, attenuation in HU.
 */
export interface SignedOffNodule {
  /** The reviewed nodule's id: its Tracking UID derives from it, so it is the same in every report. */
  id: string;
  /** Centre, LPS mm. */
  centreLps: Vec3;
  longAxisMm: number;
  shortAxisMm: number;
  /** Where the axes lie, LPS mm: the SR draws them on their image (OHIF tracks them); null when typed. */
  axesLps?: CaliperAxes | null | undefined;
  meanDiameterMm: number;
  type: NoduleType;
  volumeMm3?: number | undefined;
  solidComponentMm?: number | undefined;
  /** Mean attenuation of the AI's segmentation, HU; undefined for a nodule a reader added. */
  meanHu?: number | undefined;
  /** The detector's score in [0, 1]; undefined for a nodule a reader added. */
  score?: number | undefined;
  /**
   * The AI's segmentation on the volume's grid: `data[i + w*(j + h*k)]` relative to `boxIjk`
   * ([iMin, jMin, kMin, iMax, jMax, kMax], inclusive), 1 = nodule. Undefined for a nodule a reader added.
   */
  mask?: NoduleMeasurement['mask'] | undefined;
}

export type VolumeGeometry = Pick<CtVolume, 'dimensions' | 'spacingMm' | 'originLps' | 'direction'>;

export interface SignedOffReportInput {
  source: SourceSeriesReferences;
  /**
   * Grid of the volume the masks lie on (the one the AI ran on): voxel (i, j, k) at originLps +
   * i*spacingMm[0]*direction[0..2] + j*spacingMm[1]*direction[3..5] + k*spacingMm[2]*direction[6..8], LPS mm.
   * No voxels are needed.
   */
  volume: VolumeGeometry;
  nodules: readonly SignedOffNodule[];
  /** The final Lung-RADS category the radiologist gave. */
  finalCategory: LungRadsCategory;
  /** Who signed off, where and when; also the content date of both objects. */
  verification: ReportVerification;
  /** Second reads of partner institutions, oldest first (written in the SR beside the first read). */
  secondReads?: readonly SecondReaderOpinion[];
  /**
   * What the objects' UIDs derive from, e.g. `<studyId>:<review version>`: the same key gives the same
   * SOP Instance and Series UIDs, so reading a report twice gives the same objects.
   */
  reportKey: string;
}

export interface SignedOffReportOptions {
  algorithmName: string;
  algorithmVersion: string;
}

/** One written DICOM object: Part 10 bytes with its identity. */
export interface WrittenDicomObject {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  bytes: Uint8Array;
}

export interface SignedOffReport {
  /** TID 1500 Comprehensive 3D SR of every accepted nodule, with the final category, VERIFIED. */
  sr: WrittenDicomObject;
  /** One segment per nodule that has a non-empty mask; undefined when none has. */
  seg?: WrittenDicomObject | undefined;
}

/**
 * Writes the DICOM objects of a signed-off study: a SEG of the accepted nodules that have an AI mask (one
 * segment each, in `nodules` order) and a Comprehensive 3D SR (TID 1500) of every accepted nodule, the
 * segmented ones first (nodule n = segment n+1, same Tracking ID and UID in both objects), then those without a
 * mask (reader-added: no segment reference, no volume or attenuation). The SR records the final Lung-RADS
 * category and the signing radiologist (VERIFIED, person observer). UIDs derive from `reportKey` and the
 * nodules' ids; content dates are the sign-off time.
 */
export function writeSignedOffReport(
  input: SignedOffReportInput,
  options: SignedOffReportOptions,
): SignedOffReport {
  const masked = input.nodules.filter((n) => n.mask && n.mask.data.some((v) => v !== 0));
  const unmasked = input.nodules.filter((n) => !masked.includes(n));
  const ordered = [...masked, ...unmasked];
  const trackingUids = ordered.map((n) => uidFromName(`nodule:${n.id}`));
  const uid = (part: string) => uidFromName(`signed-off-report:${input.reportKey}:${part}`);
  const createdAt = input.verification.verifiedAt;

  let seg: WrittenDicomObject | undefined;
  if (masked.length > 0) {
    const identity = { sopInstanceUid: uid('seg'), seriesInstanceUid: uid('seg-series') };
    // The SEG writer reads only the volume's grid, never its voxels.
    const grid: CtVolume = { ...input.volume, hu: new Int16Array(0), paddingVoxels: 0 };
    const bytes = writeNoduleSegmentation(input.source, grid, masked.map(asMeasurement), {
      ...options,
      ...identity,
      trackingUids,
      createdAt,
      dimensionOrganizationUid: uid('seg-dimensions'),
      seriesDescription: `${options.algorithmName} nodule segmentation (signed off)`,
    });
    seg = { sopClassUid: SEGMENTATION_STORAGE, ...identity, bytes };
  }

  const report = { sopInstanceUid: uid('sr'), seriesInstanceUid: uid('sr-series') };
  const bytes = writeNoduleStructuredReport(input.source, ordered, {
    ...options,
    ...report,
    trackingUids,
    createdAt,
    seriesDescription: `${options.algorithmName} nodule report (signed off)`,
    lungRadsCategory: input.finalCategory,
    verification: input.verification,
    ...(input.secondReads && input.secondReads.length > 0 && { secondReads: input.secondReads }),
    ...(seg && {
      segmentation: {
        sopInstanceUid: seg.sopInstanceUid,
        seriesInstanceUid: seg.seriesInstanceUid,
        segmentCount: masked.length,
      },
    }),
  });
  return { sr: { sopClassUid: COMPREHENSIVE_3D_SR_STORAGE, ...report, bytes }, ...(seg && { seg }) };
}

/** The SEG writer's input shape for a masked nodule (it reads only the mask; the rest is for completeness). */
function asMeasurement(nodule: SignedOffNodule): NoduleMeasurement {
  const mask = nodule.mask!;
  return {
    centreLps: nodule.centreLps,
    centreIjk: maskCentroid(mask),
    boundingBoxIjk: mask.boxIjk,
    mask,
    longAxisMm: nodule.longAxisMm,
    shortAxisMm: nodule.shortAxisMm,
    meanDiameterMm: nodule.meanDiameterMm,
    volumeMm3: nodule.volumeMm3 ?? 0,
    meanHu: nodule.meanHu ?? 0,
    type: nodule.type,
    solidComponentMm: nodule.solidComponentMm ?? 0,
  };
}

/** Centroid of the mask as a voxel index of the volume. */
function maskCentroid({ boxIjk, data }: NoduleMeasurement['mask']): Vec3 {
  const [i0, j0, k0, i1, j1] = boxIjk;
  const w = i1 - i0 + 1;
  const h = j1 - j0 + 1;
  const sum: Vec3 = [0, 0, 0];
  let count = 0;
  data.forEach((v, index) => {
    if (!v) return;
    sum[0] += i0 + (index % w);
    sum[1] += j0 + (Math.floor(index / w) % h);
    sum[2] += k0 + Math.floor(index / (w * h));
    count += 1;
  });
  return sum.map((s) => s / Math.max(count, 1)) as Vec3;
}
