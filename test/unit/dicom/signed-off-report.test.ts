import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSignedOffReport, type SignedOffNodule } from '../../../src/dicom/signed-off-report.js';
import { dciodvfy } from '../../fixtures/dciodvfy.js';
import {
  items,
  readNaturalized,
  syntheticCase,
  temporaryFolder,
  type NoduleOutputCase,
} from '../../fixtures/nodule-outputs.js';

type Item = Record<string, unknown>;
const conceptOf = (item: Item) => items(item.ConceptNameCodeSequence)[0]?.CodeValue;

describe('writeSignedOffReport', () => {
  let item: NoduleOutputCase;
  let nodules: SignedOffNodule[];
  const folder = temporaryFolder();
  const verification = {
    observerName: 'Doe^Jane',
    organization: 'Test Hospital',
    verifiedAt: new Date('2025-04-01T10:20:30Z'),
  };

  beforeAll(async () => {
    item = await syntheticCase();
    // A reader-added nodule first: the writer puts the segmented ones first anyway.
    nodules = [
      {
        id: 'reader-1',
        centreLps: [1, 2, 103],
        longAxisMm: 7,
        shortAxisMm: 5,
        meanDiameterMm: 6,
        type: 'solid',
      },
      ...item.nodules.slice(0, 2).map((n, index) => ({ ...n, id: `ai-${index}` })),
    ];
  });
  afterAll(() => folder.remove());

  const write = (reportKey = 'study:3') =>
    writeSignedOffReport(
      { source: item.source, volume: item.volume, nodules, finalCategory: '4B', verification, reportKey },
      { algorithmName: 'nodus', algorithmVersion: '0.1.0' },
    );

  it('writes a SEG of the masked nodules and a VERIFIED SR of all, both valid under dciodvfy', async () => {
    const { sr, seg } = write();
    expect(seg).toBeDefined();
    for (const [name, bytes] of [
      ['sr.dcm', sr.bytes],
      ['seg.dcm', seg!.bytes],
    ] as const) {
      const file = path.join(folder.dir, name);
      fs.writeFileSync(file, bytes);
      const report = await dciodvfy(file);
      expect(report.errors, report.output).toEqual([]);
    }
    const segment = readNaturalized(seg!.bytes);
    expect(items(segment.SegmentSequence)).toHaveLength(2);
    const report = readNaturalized(sr.bytes);
    expect(report).toMatchObject({ VerificationFlag: 'VERIFIED', SOPInstanceUID: sr.sopInstanceUid });
    expect(items(report.VerifyingObserverSequence)[0]).toMatchObject({
      VerifyingOrganization: 'Test Hospital',
    });
    const root = items(report.ContentSequence);
    const groups = items(root.find((i) => conceptOf(i) === '126010')!.ContentSequence);
    // Segments 1 and 2 are the AI nodules (same tracking UIDs); the reader's nodule comes last, unsegmented.
    expect(groups.map((g) => items(g.ContentSequence).filter((c) => c.ValueType === 'IMAGE').length)).toEqual(
      [1, 1, 0],
    );
    const trackingUids = groups.map(
      (g) => items(g.ContentSequence).find((c) => c.ValueType === 'UIDREF')!.UID,
    );
    expect(trackingUids.slice(0, 2)).toEqual(items(segment.SegmentSequence).map((s) => s.TrackingUID));
    // Without a mask there is no volume or attenuation to report.
    expect(items(groups[2]!.ContentSequence).filter((c) => c.ValueType === 'NUM')).toHaveLength(3);
    const evaluations = root.find((i) => conceptOf(i) === 'C0034375')!;
    expect(items(items(evaluations.ContentSequence)[0]!.ConceptCodeSequence)[0]!.CodeMeaning).toBe(
      'Lung-RADS 4B',
    );
  });

  it('derives UIDs from the report key and the nodule ids', () => {
    const first = write();
    const second = write();
    const other = write('study:4');
    expect(second.sr.sopInstanceUid).toBe(first.sr.sopInstanceUid);
    expect(second.seg!.sopInstanceUid).toBe(first.seg!.sopInstanceUid);
    expect(second.sr.bytes).toEqual(first.sr.bytes);
    expect(second.seg!.bytes).toEqual(first.seg!.bytes);
    expect(other.sr.sopInstanceUid).not.toBe(first.sr.sopInstanceUid);
    expect(other.seg!.seriesInstanceUid).not.toBe(first.seg!.seriesInstanceUid);
  });

  it('writes no SEG when no nodule has a mask', () => {
    nodules = nodules.filter((n) => !n.mask);
    const { sr, seg } = write();
    expect(seg).toBeUndefined();
    const groups = items(
      items(readNaturalized(sr.bytes).ContentSequence).find((i) => conceptOf(i) === '126010')!
        .ContentSequence,
    );
    expect(groups).toHaveLength(1);
  });
});
