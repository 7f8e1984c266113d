import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENTATION_STORAGE, writeNoduleSegmentation } from '../../../src/dicom/nodule-seg.js';
import { newUid } from '../../../src/dicom/uid.js';
import type { NoduleMeasurement } from '../../../src/inference/nodule-measurement.js';
import type { CtVolume } from '../../../src/volume/volume.js';
import { dciodvfy, messagesOfOurs } from '../../fixtures/dciodvfy.js';
import {
  items,
  lidcNoduleCase,
  readNaturalized,
  syntheticCase,
  temporaryFolder,
  type NoduleOutputCase,
} from '../../fixtures/nodule-outputs.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const OPTIONS = { algorithmName: 'nodus-detector', algorithmVersion: '1.0.0' };

/** The first code of a code sequence as [scheme designator, value, meaning]. */
const codeOf = (sequence: unknown) => {
  const code = items(sequence)[0];
  return [code?.CodingSchemeDesignator, code?.CodeValue, code?.CodeMeaning];
};

/** Paints each nodule's mask into a volume-sized label array of its own. */
function expectedMasks(volume: CtVolume, nodules: readonly NoduleMeasurement[]): Uint8Array[] {
  const [nx, ny, nz] = volume.dimensions;
  return nodules.map(({ mask }) => {
    const full = new Uint8Array(nx * ny * nz);
    const [i0, j0, k0, i1, j1, k1] = mask.boxIjk;
    const w = i1 - i0 + 1;
    const h = j1 - j0 + 1;
    for (let k = k0; k <= k1; k += 1)
      for (let j = j0; j <= j1; j += 1)
        for (let i = i0; i <= i1; i += 1)
          if (mask.data[i - i0 + w * (j - j0 + h * (k - k0))]) full[i + nx * (j + ny * k)] = 1;
    return full;
  });
}

/**
 * Decodes a BINARY SEG back onto the volume's grid: frame f is found at slice k from its
 * ImagePositionPatient along the slice axis, its bits (LSB first, frames back to back) unpacked.
 */
function decodeSegments(
  dataset: Record<string, unknown>,
  volume: CtVolume,
): { masks: Uint8Array[]; frameSlices: number[][] } {
  const [nx, ny, nz] = volume.dimensions;
  const rows = dataset.Rows as number;
  const columns = dataset.Columns as number;
  expect([columns, rows]).toEqual([nx, ny]);
  const segments = items(dataset.SegmentSequence).length;
  const masks = Array.from({ length: segments }, () => new Uint8Array(nx * ny * nz));
  const frameSlices: number[][] = Array.from({ length: segments }, () => []);
  const bits = new Uint8Array((dataset.PixelData as ArrayBuffer[])[0]!);
  const axis = volume.direction.slice(6, 9);
  items(dataset.PerFrameFunctionalGroupsSequence).forEach((frame, f) => {
    const segment = items(frame.SegmentIdentificationSequence)[0]!.ReferencedSegmentNumber as number;
    const position = (items(frame.PlanePositionSequence)[0]!.ImagePositionPatient as number[]).map(Number);
    const along = [0, 1, 2].reduce((s, a) => s + (position[a]! - volume.originLps[a]!) * axis[a]!, 0);
    const k = Math.round(along / volume.spacingMm[2]);
    expect(Math.abs(along - k * volume.spacingMm[2])).toBeLessThan(1e-3);
    frameSlices[segment - 1]!.push(k);
    const dimension = items(frame.FrameContentSequence)[0]!.DimensionIndexValues as number[];
    expect(dimension).toEqual([segment, k + 1]);
    for (let p = 0; p < rows * columns; p += 1) {
      const bit = f * rows * columns + p;
      if ((bits[bit >> 3]! >> (bit & 7)) & 1) masks[segment - 1]![p + nx * ny * k] = 1;
    }
  });
  return { masks, frameSlices };
}

function describeCase(name: string, load: () => Promise<NoduleOutputCase>, skip = false) {
  describe.skipIf(skip)(`writeNoduleSegmentation (${name})`, () => {
    let item: NoduleOutputCase;
    let bytes: Uint8Array;
    const folder = temporaryFolder();
    const sopInstanceUid = newUid();
    const trackingUids = [newUid(), newUid(), newUid(), newUid(), newUid(), newUid()];
    beforeAll(async () => {
      item = await load();
      expect(item.nodules.length).toBeGreaterThan(0);
      bytes = writeNoduleSegmentation(item.source, item.volume, item.nodules, {
        ...OPTIONS,
        sopInstanceUid,
        trackingUids,
      });
    }, 120_000);
    afterAll(() => folder.remove());

    it('passes dciodvfy without errors or warnings of its own', async () => {
      const file = path.join(folder.dir, 'seg.dcm');
      fs.writeFileSync(file, bytes);
      const report = await dciodvfy(file);
      expect(messagesOfOurs(report, item.source), report.output).toEqual([]);
    });

    it('codes segments and derivations with standard codes only (SCT, DCM), declaring no private scheme', () => {
      const dataset = readNaturalized(bytes);
      expect(dataset.CodingSchemeIdentificationSequence).toBeUndefined();
      const segment = items(dataset.SegmentSequence)[0]!;
      const frame = items(dataset.PerFrameFunctionalGroupsSequence)[0]!;
      const derivation = items(frame.DerivationImageSequence)[0]!;
      const expected: [string, unknown, string[]][] = [
        [
          'category (CID 7150)',
          segment.SegmentedPropertyCategoryCodeSequence,
          ['SCT', '49755003', 'Morphologically Abnormal Structure'],
        ],
        ['type (CID 7151)', segment.SegmentedPropertyTypeCodeSequence, ['SCT', '27925004', 'Nodule']],
        ['anatomic region (CID 4)', segment.AnatomicRegionSequence, ['SCT', '39607008', 'Lung']],
        [
          'algorithm family (CID 7162)',
          items(segment.SegmentationAlgorithmIdentificationSequence)[0]!.AlgorithmFamilyCodeSequence,
          ['DCM', '123110', 'Artificial Intelligence'],
        ],
        ['derivation (CID 7203)', derivation.DerivationCodeSequence, ['DCM', '113076', 'Segmentation']],
        [
          'purpose of reference (CID 7202)',
          items(derivation.SourceImageSequence)[0]!.PurposeOfReferenceCodeSequence,
          ['DCM', '121322', 'Source image for image processing operation'],
        ],
      ];
      for (const [what, sequence, code] of expected) expect(codeOf(sequence), what).toEqual(code);
      // Written by the algorithm, not a person: Content Creator's Name (type 2) stays empty.
      expect(dataset.ContentCreatorName).toEqual([]);
    });

    it('decodes back to the input masks voxel for voxel, with frames only where a segment is', () => {
      const dataset = readNaturalized(bytes);
      const { masks, frameSlices } = decodeSegments(dataset, item.volume);
      const expected = expectedMasks(item.volume, item.nodules);
      expect(masks).toHaveLength(expected.length);
      masks.forEach((mask, n) => {
        let differences = 0;
        for (let p = 0; p < mask.length; p += 1) if (mask[p] !== expected[n]![p]) differences += 1;
        expect(differences, `segment ${n + 1}`).toBe(0);
        const [nx, ny] = item.volume.dimensions;
        const occupied: number[] = [];
        for (let k = 0; k < item.volume.dimensions[2]; k += 1)
          if (expected[n]!.subarray(k * nx * ny, (k + 1) * nx * ny).some((v) => v === 1)) occupied.push(k);
        expect(frameSlices[n]).toEqual(occupied);
      });
      expect(dataset.NumberOfFrames).toBe(frameSlices.flat().length);
    });

    it('describes one segment per nodule and refers to the source series and its images', () => {
      const dataset = readNaturalized(bytes);
      expect(dataset.SOPClassUID).toBe(SEGMENTATION_STORAGE);
      expect(dataset.SOPInstanceUID).toBe(sopInstanceUid);
      expect(dataset.SegmentationType).toBe('BINARY');
      expect(dataset.FrameOfReferenceUID).toBe(item.source.series.frameOfReferenceUid);
      expect(dataset.StudyInstanceUID).toBe(item.source.study.studyInstanceUid);
      expect(dataset.PatientID).toBe(item.source.patient.id);
      const segments = items(dataset.SegmentSequence);
      segments.forEach((segment, n) => {
        expect(segment.SegmentNumber).toBe(n + 1);
        expect(segment.SegmentLabel).toBe(`Nodule ${n + 1}`);
        expect(segment.SegmentAlgorithmType).toBe('AUTOMATIC');
        expect(segment.SegmentAlgorithmName).toBe(OPTIONS.algorithmName);
        expect(items(segment.SegmentedPropertyCategoryCodeSequence)[0]!.CodeValue).toBe('49755003');
        expect(items(segment.SegmentedPropertyTypeCodeSequence)[0]!.CodeValue).toBe('27925004');
        expect(items(segment.AnatomicRegionSequence)[0]!.CodeValue).toBe('39607008');
        expect(segment.TrackingUID).toBe(trackingUids[n]);
      });

      const series = items(dataset.ReferencedSeriesSequence);
      expect(series).toHaveLength(1);
      expect(series[0]!.SeriesInstanceUID).toBe(item.source.series.seriesInstanceUid);
      const listed = new Set(
        items(series[0]!.ReferencedInstanceSequence).map((r) => r.ReferencedSOPInstanceUID),
      );
      // Source slice k of an unresampled volume is images[k]: each frame refers to the image it lies on.
      expect(item.source.images).toHaveLength(item.volume.dimensions[2]);
      const { frameSlices } = decodeSegments(dataset, item.volume);
      for (const frame of items(dataset.PerFrameFunctionalGroupsSequence)) {
        const position = (items(frame.PlanePositionSequence)[0]!.ImagePositionPatient as number[]).map(
          Number,
        );
        const reference = items(items(frame.DerivationImageSequence)[0]!.SourceImageSequence)[0]!;
        const image = item.source.images.find((i) => i.sopInstanceUid === reference.ReferencedSOPInstanceUID);
        expect(image).toBeDefined();
        expect(listed.has(image!.sopInstanceUid)).toBe(true);
        for (let a = 0; a < 3; a += 1) expect(image!.positionLps[a]).toBeCloseTo(position[a]!, 3);
      }
      expect(listed.size).toBe(new Set(frameSlices.flat()).size);
    });
  });
}

describeCase('synthetic 13 x 11 x 9 series', syntheticCase);
describeCase(
  'LIDC-IDRI-0001',
  () => lidcNoduleCase(path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001')),
  !sampleDir || !fs.existsSync(path.join(sampleDir, 'lidc', 'LIDC-IDRI-0001')),
);

describe('writeNoduleSegmentation input checks', () => {
  it('refuses an empty nodule list', async () => {
    const { source, volume } = await syntheticCase();
    expect(() => writeNoduleSegmentation(source, volume, [], OPTIONS)).toThrow(/at least one nodule/);
  });
});
