import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENTATION_STORAGE } from '../../../src/dicom/nodule-seg.js';
import { COMPREHENSIVE_3D_SR_STORAGE, writeNoduleStructuredReport } from '../../../src/dicom/nodule-sr.js';
import { newUid } from '../../../src/dicom/uid.js';
import { dciodvfy } from '../../fixtures/dciodvfy.js';
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

type Item = Record<string, unknown>;
const conceptOf = (item: Item) => items(item.ConceptNameCodeSequence)[0]?.CodeValue;
const childrenOf = (item: Item) => items(item.ContentSequence);
const childWith = (item: Item, codeValue: string) => childrenOf(item).find((c) => conceptOf(c) === codeValue);
const numericValue = (item: Item | undefined) => Number(items(item?.MeasuredValueSequence)[0]?.NumericValue);
const unitOf = (item: Item | undefined) =>
  items(items(item?.MeasuredValueSequence)[0]?.MeasurementUnitsCodeSequence)[0]?.CodeValue;

function describeCase(name: string, load: () => Promise<NoduleOutputCase>, skip = false) {
  describe.skipIf(skip)(`writeNoduleStructuredReport (${name})`, () => {
    let item: NoduleOutputCase;
    const folder = temporaryFolder();
    const segmentation = { sopInstanceUid: newUid(), seriesInstanceUid: newUid() };
    const trackingUids = Array.from({ length: 8 }, () => newUid());
    let withSeg: Uint8Array;
    let plain: Uint8Array;
    beforeAll(async () => {
      item = await load();
      withSeg = writeNoduleStructuredReport(item.source, item.nodules, {
        ...OPTIONS,
        segmentation,
        trackingUids,
      });
      plain = writeNoduleStructuredReport(
        item.source,
        item.nodules.map(({ score: _score, ...nodule }) => nodule),
        OPTIONS,
      );
    }, 120_000);
    afterAll(() => folder.remove());

    it.each([
      ['referencing a SEG', () => withSeg],
      ['on its own, without scores', () => plain],
    ])('passes dciodvfy without errors (%s)', async (label, bytes) => {
      const file = path.join(folder.dir, `sr-${label.replace(/\W+/g, '-')}.dcm`);
      fs.writeFileSync(file, bytes());
      const report = await dciodvfy(file);
      if (report.warnings.length > 0)
        console.warn(`dciodvfy SR (${name}, ${label}):\n${report.warnings.join('\n')}`);
      expect(report.errors).toEqual([]);
    });

    it('is a TID 1500 report of the source study with an image library of the source images', () => {
      const dataset = readNaturalized(withSeg);
      expect(dataset.SOPClassUID).toBe(COMPREHENSIVE_3D_SR_STORAGE);
      expect(dataset.Modality).toBe('SR');
      expect(dataset.StudyInstanceUID).toBe(item.source.study.studyInstanceUid);
      expect(dataset.PatientID).toBe(item.source.patient.id);
      expect(items(dataset.ContentTemplateSequence)[0]!.TemplateIdentifier).toBe('1500');
      expect(items(dataset.ConceptNameCodeSequence)[0]!.CodeValue).toBe('126000');
      const root = dataset as Item;
      expect(items(childWith(root, '121049')?.ConceptCodeSequence)[0]?.CodeValue).toBe('en-US');
      expect(items(childWith(root, '121005')?.ConceptCodeSequence)[0]?.CodeValue).toBe('121007');
      expect(childWith(root, '121013')?.TextValue).toBe(OPTIONS.algorithmName);
      expect(items(childWith(root, '121058')?.ConceptCodeSequence)[0]?.CodeValue).toBe('169069000');
      const group = childWith(childWith(root, '111028')!, '126200')!;
      const images = childrenOf(group).filter((c) => c.ValueType === 'IMAGE');
      expect(images.map((c) => items(c.ReferencedSOPSequence)[0]!.ReferencedSOPInstanceUID)).toEqual(
        item.source.images.map((i) => i.sopInstanceUid),
      );
      const evidence = items(
        items(dataset.CurrentRequestedProcedureEvidenceSequence)[0]!.ReferencedSeriesSequence,
      );
      expect(evidence.map((s) => s.SeriesInstanceUID)).toEqual([
        item.source.series.seriesInstanceUid,
        segmentation.seriesInstanceUid,
      ]);
    });

    it('has one measurement group per nodule with its values, segment and tracking UID', () => {
      const root = readNaturalized(withSeg) as Item;
      const groups = childrenOf(childWith(root, '126010')!);
      expect(groups).toHaveLength(item.nodules.length);
      groups.forEach((group, n) => {
        const nodule = item.nodules[n]!;
        expect(conceptOf(group)).toBe('125007');
        expect(childWith(group, '112039')?.TextValue).toBe(`Nodule ${n + 1}`);
        expect(childWith(group, '112040')?.UID).toBe(trackingUids[n]);
        expect(items(childWith(group, '121071')?.ConceptCodeSequence)[0]?.CodeValue).toBe('27925004');
        expect(items(childWith(group, '363698007')?.ConceptCodeSequence)[0]?.CodeValue).toBe('39607008');
        const segment = items(childWith(group, '121191')?.ReferencedSOPSequence)[0]!;
        expect(segment.ReferencedSOPClassUID).toBe(SEGMENTATION_STORAGE);
        expect(segment.ReferencedSOPInstanceUID).toBe(segmentation.sopInstanceUid);
        expect(segment.ReferencedSegmentNumber).toBe(n + 1);
        expect(childWith(group, '121232')?.UID).toBe(item.source.series.seriesInstanceUid);
        const expected: [string, number, string][] = [
          ['103339001', nodule.longAxisMm, 'mm'],
          ['103340004', nodule.shortAxisMm, 'mm'],
          ['81827009', nodule.meanDiameterMm, 'mm'],
          ['118565006', nodule.volumeMm3, 'mm3'],
          ['112031', nodule.meanHu, "[hnsf'U]"],
          ['SOLID_COMPONENT', nodule.solidComponentMm, 'mm'],
          ['111012', nodule.score!, '1'],
        ];
        for (const [codeValue, value, unit] of expected) {
          const measurement = childWith(group, codeValue);
          expect(numericValue(measurement), codeValue).toBeCloseTo(value, 5);
          expect(unitOf(measurement), codeValue).toBe(unit);
        }
        const type = items(childWith(group, 'NODULE_TYPE')?.ConceptCodeSequence)[0];
        expect(type?.CodingSchemeDesignator).toBe('99NODUS');
        expect(type?.CodeMeaning).toBe(
          { solid: 'Solid', 'part-solid': 'Part-solid', 'ground-glass': 'Ground-glass' }[nodule.type],
        );
      });
    });

    it('leaves out the segment reference and the score when it has neither', () => {
      const root = readNaturalized(plain) as Item;
      const groups = childrenOf(childWith(root, '126010')!);
      expect(groups).toHaveLength(item.nodules.length);
      for (const group of groups) {
        expect(childWith(group, '121191')).toBeUndefined();
        expect(childWith(group, '111012')).toBeUndefined();
        expect(childWith(group, '103339001')).toBeDefined();
      }
    });
  });
}

describeCase('synthetic 13 x 11 x 9 series', syntheticCase);

describe('writeNoduleStructuredReport without nodules', () => {
  it('writes an empty Imaging Measurements container that passes dciodvfy', async () => {
    const { source } = await syntheticCase();
    const folder = temporaryFolder();
    try {
      const bytes = writeNoduleStructuredReport(source, [], OPTIONS);
      const file = path.join(folder.dir, 'empty-sr.dcm');
      fs.writeFileSync(file, bytes);
      expect((await dciodvfy(file)).errors).toEqual([]);
      expect(childrenOf(childWith(readNaturalized(bytes) as Item, '126010')!)).toEqual([]);
    } finally {
      folder.remove();
    }
  });
});
describeCase(
  'LIDC-IDRI-0001',
  () => lidcNoduleCase(path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001')),
  !sampleDir || !fs.existsSync(path.join(sampleDir, 'lidc', 'LIDC-IDRI-0001')),
);
