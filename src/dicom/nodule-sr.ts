import type { NoduleMeasurement } from '../inference/nodule-measurement.js';
import type { CaliperAxes } from '../shared/caliper-axes.js';
import { DomainError } from '../shared/errors.js';
import type { LungRadsCategory } from '../shared/lung-rads-category.js';
import {
  CODES,
  LUNG_RADS_CATEGORY_CODES,
  NODULE_TYPE_CODES,
  NODUS_SCHEME_IDENTIFICATION,
  dicomDateTime,
  sourceContextAttributes,
  uidFromName,
  writePart10,
  type Code,
} from './derived-object.js';
import { SEGMENTATION_STORAGE, noduleLabel } from './nodule-seg.js';
import { toPersonName } from './person-name.js';
import { imageCaliper, type ImageCaliper } from './image-caliper.js';
import type { SourceSeriesReferences } from './source-series-references.js';
import { newUid } from './uid.js';

export const COMPREHENSIVE_3D_SR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.34';

/** A nodule as the report states it: its measurements and, from the detector, its score in [0, 1]. */
export type ReportedNodule = NoduleMeasurement & { score?: number };

/**
 * What the report needs of a nodule: the axial diameters (mm) and type always; volume (mm3), mean attenuation
 * (HU), solid component (mm) and score when known (a nodule a reader added has no mask, so no volume or HU).
 */
export type ReportedMeasurements = Pick<
  NoduleMeasurement,
  'longAxisMm' | 'shortAxisMm' | 'meanDiameterMm' | 'type'
> &
  Partial<Pick<NoduleMeasurement, 'volumeMm3' | 'meanHu' | 'solidComponentMm'>> & {
    score?: number;
    /** Where the axes were measured (LPS mm): written as SCOORDs on the source image they lie on. */
    axesLps?: CaliperAxes | null | undefined;
  };

/**
 * Tracking Identifier of a measurement group whose axes are on an image: the convention of cornerstone3D's
 * SR adapters, under which OHIF v3 loads the group as a tracked bidirectional measurement.
 */
export const BIDIRECTIONAL_TRACKING_IDENTIFIER = 'Cornerstone3DTools@^0.1.0:Bidirectional';

/** The radiologist who verified (signed off) the report: VERIFIED, with a person observer. */
export interface ReportVerification {
  /**
   * The person's name: a DICOM PN (`Family^Given`), a display name ("Jane Doe", "Doe, Jane") or, for a user
   * with no better name, an e-mail address; written as PN by toPersonName, never with an `@`.
   *
   * The e-mail itself is not written (TID 1003 would take it as Person Observer's Login Name, a TEXT item):
   * de-identification keeps SR TEXT values, so it would reach research exports.
   */
  observerName: string;
  /** Verifying organization (the institution). */
  organization: string;
  verifiedAt: Date;
}

/**
 * A second reader's read (a partner institution's radiologist, the consortium's hub): their Lung-RADS category
 * beside the first reader's, whether they agree, and their comment.
 */
export interface SecondReaderOpinion extends ReportVerification {
  category: LungRadsCategory;
  agrees: boolean;
  comment?: string | undefined;
}

/** Most characters of an LO value (PS3.5 Table 6.2-1). */
const MAX_LO_CHARS = 64;

export interface NoduleReportOptions {
  algorithmName: string;
  algorithmVersion: string;
  /** Manufacturer of the writing software; 'nodus' unless set. */
  manufacturer?: string;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Tracking Unique Identifier of nodule n (the SEG's TrackingUID of segment n+1); new UIDs unless set. */
  trackingUids?: readonly string[];
  /**
   * The SEG written for the same nodules (segment n+1 = nodules[n]): each group then references its segment.
   * With `segmentCount`, only nodules[0..segmentCount-1] have a segment; the rest (reader-added, no mask) none.
   */
  segmentation?: { sopInstanceUid: string; seriesInstanceUid: string; segmentCount?: number };
  /** The final Lung-RADS category (e.g. "4A"), as a RadLex CODE under Qualitative Evaluations. */
  lungRadsCategory?: LungRadsCategory;
  /** Who verified the report; UNVERIFIED unless set. */
  verification?: ReportVerification;
  /**
   * Second reads of a verified report: each a further verifying observer, and under Qualitative Evaluations
   * its own Lung-RADS category with that person (and organization) as observer context and its comment.
   */
  secondReads?: readonly SecondReaderOpinion[];
  /** Content date and time; now unless set. */
  createdAt?: Date;
}

type ContentItem = Record<string, unknown>;

/**
 * Writes the nodules as a Comprehensive 3D SR following TID 1500 (Measurement Report), explicit VR little
 * endian: language (en-US), device observer (the algorithm), procedure reported (CT of chest), an image
 * library of the source images, and one TID 1411 measurement group per nodule in `nodules` order: tracking
 * identifier "Nodule n" and UID, finding (Nodule), finding site (Lung), the SEG segment when
 * `options.segmentation` is given, source series, and as NUM: long axis, short axis and mean diameter (mm),
 * volume (mm3), mean attenuation (HU), solid component diameter (mm, private code) when known, the detector's
 * score (Certainty of Finding, no units) when known; the nodule type as a RadLex solidity descriptor (CODE).
 * With `options.lungRadsCategory`, a Qualitative Evaluations container holds the category as a RadLex CODE;
 * with `options.verification`, the document is VERIFIED (Verifying Observer) and names the person as an
 * observer (TID 1002/1003, PN). The private scheme is declared only when one of its codes is used.
 */
export function writeNoduleStructuredReport(
  source: SourceSeriesReferences,
  nodules: readonly ReportedMeasurements[],
  options: NoduleReportOptions,
): Uint8Array {
  const { date, time } = dicomDateTime(options.createdAt ?? new Date());
  const manufacturer = options.manufacturer ?? 'nodus';
  const algorithm = [
    text('HAS CONCEPT MOD', CODES.algorithmName, options.algorithmName),
    text('HAS CONCEPT MOD', CODES.algorithmVersion, options.algorithmVersion),
  ];
  const measurement = (
    name: Code,
    value: number,
    unit: Code,
    modifiers: ContentItem[] = [],
  ): ContentItem => ({
    ...item('CONTAINS', 'NUM', name),
    MeasuredValueSequence: [{ NumericValue: decimalString(value), MeasurementUnitsCodeSequence: [unit] }],
    ContentSequence: [...modifiers, ...algorithm],
  });
  // An axis drawn on its image (TID 300 row 8, TID 320): a two-point polyline in that image's pixels.
  const onImage = (caliper: ImageCaliper, axis: 'long' | 'short'): ContentItem[] => [
    {
      RelationshipType: 'INFERRED FROM',
      ValueType: 'SCOORD',
      GraphicType: 'POLYLINE',
      GraphicData: caliper[axis],
      ContentSequence: [
        {
          RelationshipType: 'SELECTED FROM',
          ValueType: 'IMAGE',
          ReferencedSOPSequence: [
            {
              ReferencedSOPClassUID: caliper.image.sopClassUid,
              ReferencedSOPInstanceUID: caliper.image.sopInstanceUid,
            },
          ],
        },
      ],
    },
  ];
  const mean = [codeItem('HAS CONCEPT MOD', CODES.derivation, CODES.mean)];

  const groups = nodules.map((nodule, n): ContentItem => {
    const caliper = nodule.axesLps ? imageCaliper(source, nodule.axesLps) : undefined;
    const content: ContentItem[] = [
      text(
        'HAS OBS CONTEXT',
        CODES.trackingIdentifier,
        caliper ? BIDIRECTIONAL_TRACKING_IDENTIFIER : noduleLabel(n),
      ),
      uidRef('HAS OBS CONTEXT', CODES.trackingUniqueIdentifier, options.trackingUids?.[n] ?? newUid()),
      codeItem('CONTAINS', CODES.finding, CODES.nodule),
      codeItem('HAS CONCEPT MOD', CODES.findingSite, CODES.lung),
    ];
    if (options.segmentation && n < (options.segmentation.segmentCount ?? nodules.length)) {
      content.push({
        ...item('CONTAINS', 'IMAGE', CODES.referencedSegment),
        ReferencedSOPSequence: [
          {
            ReferencedSOPClassUID: SEGMENTATION_STORAGE,
            ReferencedSOPInstanceUID: options.segmentation.sopInstanceUid,
            ReferencedSegmentNumber: n + 1,
          },
        ],
      });
    }
    content.push(
      uidRef('CONTAINS', CODES.sourceSeriesForSegmentation, source.series.seriesInstanceUid),
      // Long axis first: OHIF takes the first NUM's SCOORD as the measurement's image.
      measurement(CODES.longAxis, nodule.longAxisMm, CODES.millimeter, caliper && onImage(caliper, 'long')),
      measurement(
        CODES.shortAxis,
        nodule.shortAxisMm,
        CODES.millimeter,
        caliper && onImage(caliper, 'short'),
      ),
      measurement(CODES.diameter, nodule.meanDiameterMm, CODES.millimeter, mean),
    );
    if (nodule.volumeMm3 !== undefined)
      content.push(measurement(CODES.volume, nodule.volumeMm3, CODES.cubicMillimeter));
    if (nodule.meanHu !== undefined)
      content.push(measurement(CODES.attenuationCoefficient, nodule.meanHu, CODES.hounsfieldUnit, mean));
    if (nodule.solidComponentMm !== undefined)
      content.push(measurement(CODES.solidComponentDiameter, nodule.solidComponentMm, CODES.millimeter));
    if (nodule.score !== undefined)
      content.push(measurement(CODES.certaintyOfFinding, nodule.score, CODES.noUnits));
    content.push(codeItem('CONTAINS', CODES.solidnessDescriptor, NODULE_TYPE_CODES[nodule.type]));
    return {
      ...item('CONTAINS', 'CONTAINER', CODES.measurementGroup),
      ContinuityOfContent: 'SEPARATE',
      ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1411' }],
      ContentSequence: content,
    };
  });

  const imageLibrary: ContentItem = {
    ...item('CONTAINS', 'CONTAINER', CODES.imageLibrary),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      {
        ...item('CONTAINS', 'CONTAINER', CODES.imageLibraryGroup),
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: [
          codeItem('HAS ACQ CONTEXT', CODES.modality, CODES.computedTomography),
          uidRef('HAS ACQ CONTEXT', CODES.frameOfReferenceUid, source.series.frameOfReferenceUid),
          ...source.images.map((image) => ({
            RelationshipType: 'CONTAINS',
            ValueType: 'IMAGE',
            ReferencedSOPSequence: [
              { ReferencedSOPClassUID: image.sopClassUid, ReferencedSOPInstanceUID: image.sopInstanceUid },
            ],
          })),
        ],
      },
    ],
  };

  const evidence = [
    {
      SeriesInstanceUID: source.series.seriesInstanceUid,
      ReferencedSOPSequence: source.images.map((image) => ({
        ReferencedSOPClassUID: image.sopClassUid,
        ReferencedSOPInstanceUID: image.sopInstanceUid,
      })),
    },
  ];
  if (options.segmentation) {
    evidence.push({
      SeriesInstanceUID: options.segmentation.seriesInstanceUid,
      ReferencedSOPSequence: [
        {
          ReferencedSOPClassUID: SEGMENTATION_STORAGE,
          ReferencedSOPInstanceUID: options.segmentation.sopInstanceUid,
        },
      ],
    });
  }

  const verification = options.verification;
  const observerName = verification && verifyingObserverName(verification);
  const personObserver: ContentItem[] = verification
    ? [
        codeItem('HAS OBS CONTEXT', CODES.observerType, CODES.person),
        { ...item('HAS OBS CONTEXT', 'PNAME', CODES.personObserverName), PersonName: observerName },
      ]
    : [];
  const secondReads = verification ? (options.secondReads ?? []) : [];
  // TID 1002 by content item: a second reader's category is attributed to that person, not the first reader.
  const secondReadItems: ContentItem[] = secondReads.map((read) => ({
    ...codeItem('CONTAINS', CODES.lungRadsAssessment, LUNG_RADS_CATEGORY_CODES[read.category]),
    ContentSequence: [
      codeItem('HAS OBS CONTEXT', CODES.observerType, CODES.person),
      {
        ...item('HAS OBS CONTEXT', 'PNAME', CODES.personObserverName),
        PersonName: verifyingObserverName(read),
      },
      text('HAS OBS CONTEXT', CODES.personObserverOrganization, loValue(read.organization)),
      text(
        'HAS PROPERTIES',
        CODES.comment,
        `Second read: ${read.agrees ? 'agrees' : 'disagrees'} with the first read` +
          (read.comment ? `. ${read.comment}` : ''),
      ),
    ],
  }));
  const qualitativeEvaluations: ContentItem[] =
    options.lungRadsCategory === undefined
      ? []
      : [
          {
            ...item('CONTAINS', 'CONTAINER', CODES.qualitativeEvaluations),
            ContinuityOfContent: 'SEPARATE',
            ContentSequence: [
              codeItem(
                'CONTAINS',
                CODES.lungRadsAssessment,
                LUNG_RADS_CATEGORY_CODES[options.lungRadsCategory],
              ),
              ...secondReadItems,
            ],
          },
        ];
  // The private scheme is declared (SOP Common Module) when one of its codes is written.
  const usesPrivateCodes = nodules.some((nodule) => nodule.solidComponentMm !== undefined);

  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: COMPREHENSIVE_3D_SR_STORAGE,
    SOPInstanceUID: options.sopInstanceUid ?? newUid(),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...(usesPrivateCodes && { CodingSchemeIdentificationSequence: [NODUS_SCHEME_IDENTIFICATION] }),
    ...sourceContextAttributes(source),
    Modality: 'SR',
    SeriesInstanceUID: options.seriesInstanceUid ?? newUid(),
    SeriesNumber: options.seriesNumber ?? 902,
    SeriesDescription: options.seriesDescription ?? `${options.algorithmName} nodule measurements`,
    ReferencedPerformedProcedureStepSequence: [],
    Manufacturer: manufacturer,
    ManufacturerModelName: options.algorithmName,
    SoftwareVersions: options.algorithmVersion,
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: verification ? 'VERIFIED' : 'UNVERIFIED',
    ...(verification && {
      VerifyingObserverSequence: [verification, ...secondReads].map((observer) => ({
        VerifyingObserverName: verifyingObserverName(observer),
        VerifyingObserverIdentificationCodeSequence: [],
        VerifyingOrganization: loValue(observer.organization),
        VerificationDateTime: dicomDateTimeValue(observer.verifiedAt),
      })),
    }),
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      { StudyInstanceUID: source.study.studyInstanceUid, ReferencedSeriesSequence: evidence },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [CODES.imagingMeasurementReport],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: [
      codeItem('HAS CONCEPT MOD', CODES.languageOfContent, CODES.englishUs),
      codeItem('HAS OBS CONTEXT', CODES.observerType, CODES.device),
      uidRef(
        'HAS OBS CONTEXT',
        CODES.deviceObserverUid,
        uidFromName(`${options.algorithmName} ${options.algorithmVersion}`),
      ),
      text('HAS OBS CONTEXT', CODES.deviceObserverName, options.algorithmName),
      text('HAS OBS CONTEXT', CODES.deviceObserverManufacturer, manufacturer),
      text(
        'HAS OBS CONTEXT',
        CODES.deviceObserverModelName,
        `${options.algorithmName} ${options.algorithmVersion}`,
      ),
      ...personObserver,
      codeItem('HAS CONCEPT MOD', CODES.procedureReported, CODES.ctOfChest),
      imageLibrary,
      {
        ...item('CONTAINS', 'CONTAINER', CODES.imagingMeasurements),
        ContinuityOfContent: 'SEPARATE',
        // An empty ContentSequence is invalid (type 1C): no nodules, no children.
        ...(groups.length > 0 && { ContentSequence: groups }),
      },
      ...qualitativeEvaluations,
    ],
  };
  return writePart10(dataset);
}

/** LO: one value (no backslash) of at most 64 characters. */
function loValue(value: string): string {
  return value.replace(/\\/g, ' ').trim().slice(0, MAX_LO_CHARS);
}

/** The verifier's name as PN (toPersonName); VALIDATION_FAILED when it gives none. */
function verifyingObserverName(verification: ReportVerification): string {
  const name = toPersonName(verification.observerName);
  if (!name) throw new DomainError('VALIDATION_FAILED', 'the verifying observer has no name');
  return name;
}

/** A DT value (YYYYMMDDHHMMSS), UTC. */
function dicomDateTimeValue(at: Date): string {
  const { date, time } = dicomDateTime(at);
  return `${date}${time}`;
}

function item(relationship: string, valueType: string, name: Code): ContentItem {
  return { RelationshipType: relationship, ValueType: valueType, ConceptNameCodeSequence: [name] };
}

function text(relationship: string, name: Code, value: string): ContentItem {
  return { ...item(relationship, 'TEXT', name), TextValue: value };
}

function uidRef(relationship: string, name: Code, value: string): ContentItem {
  return { ...item(relationship, 'UIDREF', name), UID: value };
}

function codeItem(relationship: string, name: Code, value: Code): ContentItem {
  return { ...item(relationship, 'CODE', name), ConceptCodeSequence: [value] };
}

/** A DS value (at most 16 characters): up to 6 significant decimals, no exponent for these magnitudes. */
function decimalString(value: number): string {
  for (let digits = 6; digits >= 0; digits -= 1) {
    const candidate = String(Number(value.toFixed(digits)));
    if (candidate.length <= 16) return candidate;
  }
  return String(Math.round(value));
}
