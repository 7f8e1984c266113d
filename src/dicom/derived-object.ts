import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import type { NoduleType } from '../phantom/nodule-type.js';
import type { LungRadsCategory } from '../shared/lung-rads-category.js';
import type { SourceSeriesReferences } from './source-series-references.js';

/** A coded concept as DICOM writes it in a code sequence item (PS3.3 §8.8). */
export interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

const code = (CodeValue: string, CodingSchemeDesignator: string, CodeMeaning: string): Code => ({
  CodeValue,
  CodingSchemeDesignator,
  CodeMeaning,
});

/**
 * Private coding scheme of nodus, for concepts with no standard code (PS3.16 §8: designators starting "99"
 * are private). Declared in CodingSchemeIdentificationSequence of every object that uses one of its codes.
 */
export const NODUS_SCHEME = '99NODUS';

/**
 * Codes used by the nodule SEG and SR. DCM and SCT values checked against the DICOM PS3.16 tables as pydicom's
 * concept dictionary and DCMTK's dcmsr/codes headers list them; UCUM units as CID 7181 lists them. PS3.16 has
 * no context group for Lung-RADS categories or nodule solidity (it codes PI-RADS with RadLex, CID 6325 ff.);
 * those are RadLex codes (designator RADLEX, PS3.16 Table 8-1), with the RIDs that the ACR/RSNA Open Imaging
 * Data Model pulmonary nodule definitions and Philips' FHIR lung nodule profiles use.
 */
export const CODES = {
  // SEG segment description (CID 7150, CID 7151, CID 4).
  morphologicallyAbnormalStructure: code('49755003', 'SCT', 'Morphologically Abnormal Structure'),
  nodule: code('27925004', 'SCT', 'Nodule'),
  lung: code('39607008', 'SCT', 'Lung'),
  artificialIntelligence: code('123110', 'DCM', 'Artificial Intelligence'),
  // SEG derivation (CID 7203, CID 7202).
  segmentation: code('113076', 'DCM', 'Segmentation'),
  sourceImageForProcessing: code('121322', 'DCM', 'Source image for image processing operation'),
  // TID 1500 Measurement Report and included templates.
  imagingMeasurementReport: code('126000', 'DCM', 'Imaging Measurement Report'),
  languageOfContent: code('121049', 'DCM', 'Language of Content Item and Descendants'),
  englishUs: code('en-US', 'RFC5646', 'English (US)'),
  observerType: code('121005', 'DCM', 'Observer Type'),
  device: code('121007', 'DCM', 'Device'),
  deviceObserverUid: code('121012', 'DCM', 'Device Observer UID'),
  deviceObserverName: code('121013', 'DCM', 'Device Observer Name'),
  deviceObserverManufacturer: code('121014', 'DCM', 'Device Observer Manufacturer'),
  deviceObserverModelName: code('121015', 'DCM', 'Device Observer Model Name'),
  procedureReported: code('121058', 'DCM', 'Procedure reported'),
  ctOfChest: code('169069000', 'SCT', 'CT of chest'),
  imageLibrary: code('111028', 'DCM', 'Image Library'),
  imageLibraryGroup: code('126200', 'DCM', 'Image Library Group'),
  modality: code('121139', 'DCM', 'Modality'),
  computedTomography: code('CT', 'DCM', 'Computed Tomography'),
  frameOfReferenceUid: code('112227', 'DCM', 'Frame of Reference UID'),
  imagingMeasurements: code('126010', 'DCM', 'Imaging Measurements'),
  measurementGroup: code('125007', 'DCM', 'Measurement Group'),
  trackingIdentifier: code('112039', 'DCM', 'Tracking Identifier'),
  trackingUniqueIdentifier: code('112040', 'DCM', 'Tracking Unique Identifier'),
  finding: code('121071', 'DCM', 'Finding'),
  findingSite: code('363698007', 'SCT', 'Finding Site'),
  referencedSegment: code('121191', 'DCM', 'Referenced Segment'),
  sourceSeriesForSegmentation: code('121232', 'DCM', 'Source series for segmentation'),
  algorithmName: code('111001', 'DCM', 'Algorithm Name'),
  algorithmVersion: code('111003', 'DCM', 'Algorithm Version'),
  // Measurements (CID 7469, CID 7464).
  // Code meanings as PS3.16 CID 7470 writes them (and OHIF's SR reader matches them).
  longAxis: code('103339001', 'SCT', 'Long Axis'),
  shortAxis: code('103340004', 'SCT', 'Short Axis'),
  diameter: code('81827009', 'SCT', 'Diameter'),
  volume: code('118565006', 'SCT', 'Volume'),
  attenuationCoefficient: code('112031', 'DCM', 'Attenuation Coefficient'),
  derivation: code('121401', 'DCM', 'Derivation'),
  mean: code('373098007', 'SCT', 'Mean'),
  /** CAD certainty of a finding (CID 6048); nodus reports the detector's score in [0, 1]. */
  certaintyOfFinding: code('111012', 'DCM', 'Certainty of Finding'),
  // TID 1500 row 9: the container of document-level qualitative evaluations.
  qualitativeEvaluations: code('C0034375', 'UMLS', 'Qualitative Evaluations'),
  /** RadLex RID50134, the concept whose values are the Lung-RADS categories (LUNG_RADS_CATEGORY_CODES). */
  lungRadsAssessment: code('RID50134', 'RADLEX', 'Lung-RADS assessment'),
  /** RadLex RID46010; its values are the solidity descriptors of NODULE_TYPE_CODES. */
  solidnessDescriptor: code('RID46010', 'RADLEX', 'Solidness descriptor'),
  // TID 1002 Observer Context and TID 1003 Person Observer Identifying Attributes.
  person: code('121006', 'DCM', 'Person'),
  personObserverName: code('121008', 'DCM', 'Person Observer Name'),
  personObserverOrganization: code('121009', 'DCM', "Person Observer's Organization Name"),
  comment: code('121106', 'DCM', 'Comment'),
  // Units (UCUM, CID 7181).
  millimeter: code('mm', 'UCUM', 'millimeter'),
  cubicMillimeter: code('mm3', 'UCUM', 'cubic millimeter'),
  hounsfieldUnit: code("[hnsf'U]", 'UCUM', 'Hounsfield unit'),
  noUnits: code('1', 'UCUM', 'no units'),
  /**
   * Private: no standard code names the mean diameter of a part-solid nodule's solid component. RadLex
   * RID50154 "solid component of part-solid pulmonary nodule" names the component, not a measurement of it.
   */
  solidComponentDiameter: code('SOLID_COMPONENT', NODUS_SCHEME, 'Solid component mean diameter'),
} as const;

/**
 * The Lung-RADS attenuation classes as RadLex solidity descriptors (values of RID46010): solid RID5741,
 * part-solid RID46011 "partially solid", ground-glass RID46016 "non-solid" (Lung-RADS v2022 calls
 * ground-glass nodules non-solid). DICOM's "Ground glass opacity" (DCM 112120, CID 6102/6104) is a finding,
 * not a nodule's type.
 */
export const NODULE_TYPE_CODES: Record<NoduleType, Code> = {
  solid: code('RID5741', 'RADLEX', 'Solid'),
  'part-solid': code('RID46011', 'RADLEX', 'Partially solid'),
  'ground-glass': code('RID46016', 'RADLEX', 'Non-solid'),
};

/** The Lung-RADS categories as RadLex codes (values of RID50134 "Lung-RADS assessment"): RID50135-RID50141. */
export const LUNG_RADS_CATEGORY_CODES: Record<LungRadsCategory, Code> = {
  '0': code('RID50135', 'RADLEX', 'Lung-RADS 0'),
  '1': code('RID50136', 'RADLEX', 'Lung-RADS 1'),
  '2': code('RID50137', 'RADLEX', 'Lung-RADS 2'),
  '3': code('RID50138', 'RADLEX', 'Lung-RADS 3'),
  '4A': code('RID50139', 'RADLEX', 'Lung-RADS 4A'),
  '4B': code('RID50140', 'RADLEX', 'Lung-RADS 4B'),
  '4X': code('RID50141', 'RADLEX', 'Lung-RADS 4X'),
};

/** CodingSchemeIdentificationSequence item declaring NODUS_SCHEME. */
export const NODUS_SCHEME_IDENTIFICATION = {
  CodingSchemeDesignator: NODUS_SCHEME,
  CodingSchemeName: 'nodus private codes',
  CodingSchemeResponsibleOrganization: 'nodus',
};

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.171659305146327512016546364437313186071';

/** Date and time as DICOM DA (YYYYMMDD) and TM (HHMMSS), UTC. */
export function dicomDateTime(at: Date): { date: string; time: string } {
  const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

/**
 * A stable UID for a name (a UUID v5-like SHA-1 of the text under 2.25, PS3.5 §B.2): the same device, for
 * instance, gets the same Device Observer UID in every report.
 */
export function uidFromName(name: string): string {
  const hash = createHash('sha1').update(`nodus:${name}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${hash.subarray(0, 16).toString('hex')}`).toString()}`;
}

/** The Patient, General Study and Frame of Reference attributes a derived object copies from its source. */
export function sourceContextAttributes(source: SourceSeriesReferences): Record<string, unknown> {
  return {
    PatientName: source.patient.name,
    PatientID: source.patient.id,
    PatientBirthDate: source.patient.birthDate,
    PatientSex: source.patient.sex,
    StudyInstanceUID: source.study.studyInstanceUid,
    StudyDate: source.study.studyDate,
    StudyTime: source.study.studyTime,
    AccessionNumber: source.study.accessionNumber,
    ReferringPhysicianName: source.study.referringPhysicianName,
    StudyID: source.study.studyId,
  };
}

/** Writes a naturalized data set as a Part 10 file in explicit VR little endian. */
export function writePart10(dataset: Record<string, unknown>): Uint8Array {
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'NODUS',
  });
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
