import dcmjs from 'dcmjs';
import { newUid } from './uid.js';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Stored value of voxels outside the field of view (as GE scanners write it). */
const PADDING_STORED = -2000;
const RESCALE_INTERCEPT = -1024;

export interface CtSeriesSpec {
  /** [columns, rows, slices]. */
  dimensions: [number, number, number];
  pixelSpacingMm: number;
  sliceSpacingMm: number;
  /** ImagePositionPatient of the first slice (LPS mm); slice k is shifted by k*sliceSpacingMm along +z. */
  originLps: [number, number, number];
  /** HU, index i + nx*(j + ny*k). */
  hu: Int16Array;
  /** Optional: 1 = outside the field of view, written as PixelPaddingValue. */
  paddingMask?: Uint8Array;
  patientId: string;
  patientName: string;
  seriesDescription: string;
}

/**
 * Writes an axial CT series as CT Image Storage Part 10 files (explicit VR little endian, signed 16-bit,
 * RescaleIntercept -1024, PixelPaddingValue -2000). Returns one file per slice with its UIDs.
 */
export function writeCtSeries(spec: CtSeriesSpec): {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  files: Uint8Array[];
} {
  const [nx, ny, nz] = spec.dimensions;
  const studyInstanceUid = newUid();
  const seriesInstanceUid = newUid();
  const frameOfReferenceUid = newUid();
  const files: Uint8Array[] = [];
  for (let k = 0; k < nz; k += 1) {
    const sopInstanceUid = newUid();
    const stored = new Int16Array(nx * ny);
    const offset = k * nx * ny;
    for (let p = 0; p < stored.length; p += 1) {
      stored[p] = spec.paddingMask?.[offset + p] ? PADDING_STORED : spec.hu[offset + p]! - RESCALE_INTERCEPT;
    }
    const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
      MediaStorageSOPInstanceUID: sopInstanceUid,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      ImplementationClassUID: '2.25.171659305146327512016546364437313186071',
      ImplementationVersionName: 'NODUS_PHANTOM',
    });
    const dict = new dcmjs.data.DicomDict(meta);
    dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
      SpecificCharacterSet: 'ISO_IR 100',
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      SOPClassUID: CT_IMAGE_STORAGE,
      SOPInstanceUID: sopInstanceUid,
      StudyDate: '20260101',
      StudyTime: '090000',
      AccessionNumber: 'PHANTOM',
      ReferringPhysicianName: '',
      Modality: 'CT',
      Manufacturer: 'nodus',
      ManufacturerModelName: 'chest phantom',
      InstitutionName: 'nodus phantom',
      StudyDescription: 'Synthetic low-dose chest CT',
      SeriesDescription: spec.seriesDescription,
      PatientName: spec.patientName,
      PatientID: spec.patientId,
      PatientBirthDate: '19600101',
      PatientSex: 'O',
      BodyPartExamined: 'CHEST',
      SliceThickness: spec.sliceSpacingMm,
      KVP: 120,
      ConvolutionKernel: 'STANDARD',
      PatientPosition: 'FFS',
      StudyInstanceUID: studyInstanceUid,
      SeriesInstanceUID: seriesInstanceUid,
      StudyID: '1',
      SeriesNumber: 2,
      InstanceNumber: k + 1,
      AcquisitionNumber: 1,
      ImagePositionPatient: [
        spec.originLps[0],
        spec.originLps[1],
        spec.originLps[2] + k * spec.sliceSpacingMm,
      ],
      ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
      FrameOfReferenceUID: frameOfReferenceUid,
      PositionReferenceIndicator: '',
      SliceLocation: spec.originLps[2] + k * spec.sliceSpacingMm,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: ny,
      Columns: nx,
      PixelSpacing: [spec.pixelSpacingMm, spec.pixelSpacingMm],
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      PixelPaddingValue: PADDING_STORED,
      WindowCenter: -600,
      WindowWidth: 1500,
      RescaleIntercept: RESCALE_INTERCEPT,
      RescaleSlope: 1,
      RescaleType: 'HU',
      PixelData: [stored.buffer],
      _vrMap: { PixelData: 'OW', PixelPaddingValue: 'SS' },
    });
    files.push(new Uint8Array(dict.write()));
  }
  return { studyInstanceUid, seriesInstanceUid, files };
}
