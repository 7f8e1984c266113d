import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENTATION_STORAGE } from '../../../src/dicom/nodule-seg.js';
import {
  BIDIRECTIONAL_TRACKING_IDENTIFIER,
  COMPREHENSIVE_3D_SR_STORAGE,
  writeNoduleStructuredReport,
} from '../../../src/dicom/nodule-sr.js';
import { newUid } from '../../../src/dicom/uid.js';
import { LUNG_RADS_CATEGORIES, type LungRadsCategory } from '../../../src/shared/lung-rads-category.js';
import { dciodvfy, messagesOfOurs } from '../../fixtures/dciodvfy.js';
import {
  items,
  lidcNoduleCase,
  readNaturalized,
  syntheticCase,
  temporaryFolder,
  type NoduleOutputCase,
} from '../../fixtures/nodule-outputs.js';
import { imagePointLps } from '../../fixtures/image-point.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const OPTIONS = { algorithmName: 'nodus-detector', algorithmVersion: '1.0.0' };

type Item = Record<string, unknown>;
const conceptOf = (item: Item) => items(item.ConceptNameCodeSequence)[0]?.CodeValue;
const childrenOf = (item: Item) => items(item.ContentSequence);
const childWith = (item: Item, codeValue: string) => childrenOf(item).find((c) => conceptOf(c) === codeValue);
const numericValue = (item: Item | undefined) => Number(items(item?.MeasuredValueSequence)[0]?.NumericValue);
const unitOf = (item: Item | undefined) =>
  items(items(item?.MeasuredValueSequence)[0]?.MeasurementUnitsCodeSequence)[0]?.CodeValue;
/** A code as [scheme designator, value, meaning]. */
const codeOf = (code: Item | undefined) => [code?.CodingSchemeDesignator, code?.CodeValue, code?.CodeMeaning];
const conceptCodeOf = (item: Item | undefined) => codeOf(items(item?.ConceptCodeSequence)[0]);
const nameCodeOf = (item: Item | undefined) => codeOf(items(item?.ConceptNameCodeSequence)[0]);

/** Every coding scheme designator in a data set, nested sequences included. */
function designators(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) designators(v, found);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'CodingSchemeDesignator' && typeof v === 'string') found.add(v);
      else designators(v, found);
    }
  }
  return found;
}

/** The nodule types as RadLex solidity descriptors, values of RID46010 "Solidness descriptor". */
const NODULE_TYPE_CODES = {
  solid: ['RADLEX', 'RID5741', 'Solid'],
  'part-solid': ['RADLEX', 'RID46011', 'Partially solid'],
  'ground-glass': ['RADLEX', 'RID46016', 'Non-solid'],
};

function describeCase(name: string, load: () => Promise<NoduleOutputCase>, skip = false) {
  describe.skipIf(skip)(`writeNoduleStructuredReport (${name})`, () => {
    let item: NoduleOutputCase;
    const folder = temporaryFolder();
    const segmentation = { sopInstanceUid: newUid(), seriesInstanceUid: newUid() };
    const trackingUids = Array.from({ length: 8 }, () => newUid());
    let withSeg: Uint8Array;
    let plain: Uint8Array;
    let standardOnly: Uint8Array;
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
      standardOnly = writeNoduleStructuredReport(
        item.source,
        item.nodules.map(({ solidComponentMm: _solid, ...nodule }) => nodule),
        { ...OPTIONS, lungRadsCategory: '4A' },
      );
    }, 120_000);
    afterAll(() => folder.remove());

    it.each([
      ['referencing a SEG', () => withSeg],
      ['on its own, without scores', () => plain],
      ['without solid components, with a category', () => standardOnly],
    ])('passes dciodvfy without errors or warnings of its own (%s)', async (label, bytes) => {
      const file = path.join(folder.dir, `sr-${label.replace(/\W+/g, '-')}.dcm`);
      fs.writeFileSync(file, bytes());
      const report = await dciodvfy(file);
      expect(messagesOfOurs(report, item.source), report.output).toEqual([]);
    });

    it('uses standard codes but for the solid component diameter, and declares 99NODUS only then', () => {
      const withPrivate = readNaturalized(withSeg);
      expect([...designators(withPrivate)].sort()).toEqual([
        '99NODUS',
        'DCM',
        'RADLEX',
        'RFC5646',
        'SCT',
        'UCUM',
      ]);
      expect(
        items(withPrivate.CodingSchemeIdentificationSequence).map((s) => s.CodingSchemeDesignator),
      ).toEqual(['99NODUS']);
      const standard = readNaturalized(standardOnly);
      expect(standard.CodingSchemeIdentificationSequence).toBeUndefined();
      expect([...designators(standard)].sort()).toEqual(['DCM', 'RADLEX', 'RFC5646', 'SCT', 'UCUM', 'UMLS']);
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
        // With its axes on an image, the group follows cornerstone3D's convention (OHIF tracks it).
        expect(childWith(group, '112039')?.TextValue).toBe(
          nodule.axesLps ? BIDIRECTIONAL_TRACKING_IDENTIFIER : `Nodule ${n + 1}`,
        );
        expect(childWith(group, '112040')?.UID).toBe(trackingUids[n]);
        expect(items(childWith(group, '121071')?.ConceptCodeSequence)[0]?.CodeValue).toBe('27925004');
        expect(items(childWith(group, '363698007')?.ConceptCodeSequence)[0]?.CodeValue).toBe('39607008');
        const segment = items(childWith(group, '121191')?.ReferencedSOPSequence)[0]!;
        expect(segment.ReferencedSOPClassUID).toBe(SEGMENTATION_STORAGE);
        expect(segment.ReferencedSOPInstanceUID).toBe(segmentation.sopInstanceUid);
        expect(segment.ReferencedSegmentNumber).toBe(n + 1);
        expect(childWith(group, '121232')?.UID).toBe(item.source.series.seriesInstanceUid);
        const expected: [string, string, number, string][] = [
          ['SCT', '103339001', nodule.longAxisMm, 'mm'],
          ['SCT', '103340004', nodule.shortAxisMm, 'mm'],
          ['SCT', '81827009', nodule.meanDiameterMm, 'mm'],
          ['SCT', '118565006', nodule.volumeMm3, 'mm3'],
          ['DCM', '112031', nodule.meanHu, "[hnsf'U]"],
          // The one private code: no standard concept names the solid component's diameter.
          ['99NODUS', 'SOLID_COMPONENT', nodule.solidComponentMm, 'mm'],
          ['DCM', '111012', nodule.score!, '1'],
        ];
        for (const [scheme, codeValue, value, unit] of expected) {
          const measurement = childWith(group, codeValue);
          expect(nameCodeOf(measurement)[0], codeValue).toBe(scheme);
          expect(numericValue(measurement), codeValue).toBeCloseTo(value, 5);
          expect(unitOf(measurement), codeValue).toBe(unit);
        }
        const type = childWith(group, 'RID46010');
        expect(nameCodeOf(type)).toEqual(['RADLEX', 'RID46010', 'Solidness descriptor']);
        expect(conceptCodeOf(type)).toEqual(NODULE_TYPE_CODES[nodule.type]);
      });
    });

    it.each(Object.entries(NODULE_TYPE_CODES))('codes a %s nodule as %j', (type, code) => {
      const nodule = { ...item.nodules[0]!, type: type as keyof typeof NODULE_TYPE_CODES };
      const root = readNaturalized(writeNoduleStructuredReport(item.source, [nodule], OPTIONS)) as Item;
      const group = childrenOf(childWith(root, '126010')!)[0]!;
      expect(conceptCodeOf(childWith(group, 'RID46010'))).toEqual(code);
    });

    it('draws each axis as a two-point polyline on the image it lies on, which maps back to its LPS ends', () => {
      const root = readNaturalized(withSeg) as Item;
      const groups = childrenOf(childWith(root, '126010')!);
      const withAxes = item.nodules.filter((nodule) => nodule.axesLps);
      expect(withAxes.length).toBeGreaterThan(0);
      groups.forEach((group, n) => {
        const axes = item.nodules[n]!.axesLps;
        for (const [codeValue, ends] of [
          ['103339001', axes?.long],
          ['103340004', axes?.short],
        ] as const) {
          const scoords = childrenOf(childWith(group, codeValue)!).filter((c) => c.ValueType === 'SCOORD');
          if (!ends) {
            expect(scoords).toEqual([]);
            continue;
          }
          expect(scoords).toHaveLength(1);
          const scoord = scoords[0]!;
          expect(scoord.RelationshipType).toBe('INFERRED FROM');
          expect(scoord.GraphicType).toBe('POLYLINE');
          const [selected] = childrenOf(scoord);
          expect(selected!.RelationshipType).toBe('SELECTED FROM');
          const sop = items(selected!.ReferencedSOPSequence)[0]!;
          const image = item.source.images.find((i) => i.sopInstanceUid === sop.ReferencedSOPInstanceUID)!;
          expect(sop.ReferencedSOPClassUID).toBe(image.sopClassUid);
          const data = (scoord.GraphicData as number[]).map(Number);
          expect(data).toHaveLength(4);
          const back = [imagePointLps(image, data[0]!, data[1]!), imagePointLps(image, data[2]!, data[3]!)];
          back.forEach((point, e) => point.forEach((v, a) => expect(v).toBeCloseTo(ends[e]![a]!, 3)));
        }
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

describe('writeNoduleStructuredReport: axes on images', () => {
  it('puts a caliper along the columns of slice 3 at the pixels it spans (centre (4, 5), 8 pixels long)', async () => {
    const { source, volume, nodules } = await syntheticCase();
    const root = readNaturalized(writeNoduleStructuredReport(source, [nodules[0]!], OPTIONS)) as Item;
    const group = childrenOf(childWith(root, '126010')!)[0]!;
    const scoord = (code: string) =>
      childrenOf(childWith(group, code)!).find((c) => c.ValueType === 'SCOORD')!;
    // Pixel (i, j)'s centre is (i + 0.5, j + 0.5): the long axis runs from i = 0 to i = 8 on row 5.
    const long = (scoord('103339001').GraphicData as number[]).map(Number);
    const short = (scoord('103340004').GraphicData as number[]).map(Number);
    [0.5, 5.5, 8.5, 5.5].forEach((v, a) => expect(long[a]).toBeCloseTo(v, 4));
    [4.5, 5.5 - 4.1 / 0.8 / 2, 4.5, 5.5 + 4.1 / 0.8 / 2].forEach((v, a) =>
      expect(short[a]).toBeCloseTo(v, 4),
    );
    // On the image at slice 3 of the volume (its normal offset).
    const offset = volume.originLps[2] + 3 * volume.spacingMm[2] * volume.direction[8];
    const sop = items(childrenOf(scoord('103339001'))[0]!.ReferencedSOPSequence)[0]!;
    const image = source.images.find((i) => i.sopInstanceUid === sop.ReferencedSOPInstanceUID)!;
    expect(image.positionLps[2]).toBeCloseTo(offset, 4);
  });

  it('writes no SCOORD, and the plain label, for a caliper that is not on one image', async () => {
    const { source, nodules } = await syntheticCase();
    const axes = structuredClone(nodules[0]!.axesLps!);
    axes.short[1][2] += 2; // 2 mm out of the slice: drawn on a coronal or sagittal plane
    const root = readNaturalized(
      writeNoduleStructuredReport(source, [{ ...nodules[0]!, axesLps: axes }], OPTIONS),
    ) as Item;
    const group = childrenOf(childWith(root, '126010')!)[0]!;
    expect(childWith(group, '112039')?.TextValue).toBe('Nodule 1');
    for (const code of ['103339001', '103340004'])
      expect(childrenOf(childWith(group, code)!).filter((c) => c.ValueType === 'SCOORD')).toEqual([]);
  });
});

describe('writeNoduleStructuredReport with a Lung-RADS category', () => {
  // RadLex: RID50134 "Lung-RADS assessment", its values RID50135 (0) to RID50141 (4X).
  const expected: Record<LungRadsCategory, [string, string, string]> = {
    '0': ['RADLEX', 'RID50135', 'Lung-RADS 0'],
    '1': ['RADLEX', 'RID50136', 'Lung-RADS 1'],
    '2': ['RADLEX', 'RID50137', 'Lung-RADS 2'],
    '3': ['RADLEX', 'RID50138', 'Lung-RADS 3'],
    '4A': ['RADLEX', 'RID50139', 'Lung-RADS 4A'],
    '4B': ['RADLEX', 'RID50140', 'Lung-RADS 4B'],
    '4X': ['RADLEX', 'RID50141', 'Lung-RADS 4X'],
  };

  it.each(LUNG_RADS_CATEGORIES.map((category) => [category, expected[category]] as const))(
    'codes category %s as %j under Qualitative Evaluations',
    async (category, code) => {
      const { source, nodules } = await syntheticCase();
      const bytes = writeNoduleStructuredReport(source, nodules, { ...OPTIONS, lungRadsCategory: category });
      const evaluations = childWith(readNaturalized(bytes), 'C0034375')!;
      expect(nameCodeOf(evaluations)).toEqual(['UMLS', 'C0034375', 'Qualitative Evaluations']);
      const [assessment, ...others] = childrenOf(evaluations);
      expect(others).toEqual([]);
      expect(assessment!.ValueType).toBe('CODE');
      expect(nameCodeOf(assessment)).toEqual(['RADLEX', 'RID50134', 'Lung-RADS assessment']);
      expect(conceptCodeOf(assessment)).toEqual(code);
    },
  );
});

describe('writeNoduleStructuredReport without nodules', () => {
  it('writes an empty Imaging Measurements container that passes dciodvfy', async () => {
    const { source } = await syntheticCase();
    const folder = temporaryFolder();
    try {
      const bytes = writeNoduleStructuredReport(source, [], OPTIONS);
      const file = path.join(folder.dir, 'empty-sr.dcm');
      fs.writeFileSync(file, bytes);
      const report = await dciodvfy(file);
      expect(messagesOfOurs(report, source), report.output).toEqual([]);
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
