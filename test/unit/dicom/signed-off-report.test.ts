import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportVerification } from '../../../src/dicom/nodule-sr.js';
import { writeSignedOffReport, type SignedOffNodule } from '../../../src/dicom/signed-off-report.js';
import { dciodvfy, messagesOfOurs } from '../../fixtures/dciodvfy.js';
import {
  items,
  readNaturalized,
  syntheticCase,
  temporaryFolder,
  type NoduleOutputCase,
} from '../../fixtures/nodule-outputs.js';

type Item = Record<string, unknown>;
const conceptOf = (item: Item) => items(item.ConceptNameCodeSequence)[0]?.CodeValue;
/** The first code of a code sequence as [scheme designator, value, meaning]. */
const codeOf = (sequence: unknown) => {
  const code = items(sequence)[0];
  return [code?.CodingSchemeDesignator, code?.CodeValue, code?.CodeMeaning];
};
/** PN as dcmjs reads it back: the alphabetic group. */
const alphabetic = (value: unknown) => (items(value)[0] as { Alphabetic?: string } | undefined)?.Alphabetic;

describe('writeSignedOffReport', () => {
  let item: NoduleOutputCase;
  let nodules: SignedOffNodule[];
  const folder = temporaryFolder();
  const verification: ReportVerification = {
    observerName: 'Jane Doe',
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

  const write = (reportKey = 'study:3', signer = verification) =>
    writeSignedOffReport(
      {
        source: item.source,
        volume: item.volume,
        nodules,
        finalCategory: '4B',
        verification: signer,
        reportKey,
      },
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
      expect(messagesOfOurs(report, item.source), `${name}:\n${report.output}`).toEqual([]);
    }
    const segment = readNaturalized(seg!.bytes);
    expect(items(segment.SegmentSequence)).toHaveLength(2);
    const report = readNaturalized(sr.bytes);
    expect(report).toMatchObject({ VerificationFlag: 'VERIFIED', SOPInstanceUID: sr.sopInstanceUid });
    const verifier = items(report.VerifyingObserverSequence)[0]!;
    expect(verifier.VerifyingOrganization).toBe('Test Hospital');
    expect(alphabetic(verifier.VerifyingObserverName)).toBe('Doe^Jane');
    const root = items(report.ContentSequence);
    // TID 1002/1003: after the device, a person observer named as PN, and no TEXT that names anyone (the
    // de-identifier keeps SR TEXT values).
    const person = root.findIndex((i) => items(i.ConceptCodeSequence)[0]?.CodeValue === '121006');
    expect(
      root
        .slice(person, person + 3)
        .map((i) => [i.RelationshipType, i.ValueType, ...codeOf(i.ConceptNameCodeSequence)]),
    ).toEqual([
      ['HAS OBS CONTEXT', 'CODE', 'DCM', '121005', 'Observer Type'],
      ['HAS OBS CONTEXT', 'PNAME', 'DCM', '121008', 'Person Observer Name'],
      ['HAS CONCEPT MOD', 'CODE', 'DCM', '121058', 'Procedure reported'],
    ]);
    expect(alphabetic(root[person + 1]!.PersonName)).toBe('Doe^Jane');
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
    const assessment = items(evaluations.ContentSequence)[0]!;
    expect(codeOf(assessment.ConceptNameCodeSequence)).toEqual([
      'RADLEX',
      'RID50134',
      'Lung-RADS assessment',
    ]);
    expect(codeOf(assessment.ConceptCodeSequence)).toEqual(['RADLEX', 'RID50140', 'Lung-RADS 4B']);
  });

  it.each([
    // [the user's display name, the PN written]: a PN, never an e-mail address.
    ['Doe^Jane', 'Doe^Jane'],
    ['Doe, Jane', 'Doe^Jane'],
    ['Administrator', 'Administrator^'],
    ['reader@example.org', 'reader^'],
    ['jane.doe@example.org', 'doe^jane'],
  ])('writes signer %j as PN %j, valid under dciodvfy', async (name, expected) => {
    const { sr } = write('study:3', { ...verification, observerName: name });
    const report = readNaturalized(sr.bytes);
    expect(alphabetic(items(report.VerifyingObserverSequence)[0]!.VerifyingObserverName)).toBe(expected);
    const root = items(report.ContentSequence);
    expect(alphabetic(root.find((i) => conceptOf(i) === '121008')!.PersonName)).toBe(expected);
    expect(Buffer.from(sr.bytes).toString('latin1')).not.toContain('example.org');
    const file = path.join(folder.dir, `sr-${name.replace(/\W+/g, '-')}.dcm`);
    fs.writeFileSync(file, sr.bytes);
    const checked = await dciodvfy(file);
    expect(messagesOfOurs(checked, item.source), checked.output).toEqual([]);
  });

  it("writes a second reader's read beside the first: a further verifier, and their own category, valid under dciodvfy", async () => {
    const { sr } = writeSignedOffReport(
      {
        source: item.source,
        volume: item.volume,
        nodules,
        finalCategory: '4B',
        verification,
        secondReads: [
          {
            observerName: 'Wang^Fang',
            organization: 'City Hospital',
            verifiedAt: new Date('2025-04-02T08:00:00Z'),
            category: '4A',
            agrees: false,
            comment: 'Nodule 1 is 7 mm on my reading.',
          },
        ],
        reportKey: 'study:3:second-reads:1',
      },
      { algorithmName: 'nodus', algorithmVersion: '0.1.0' },
    );
    const file = path.join(folder.dir, 'sr-second-read.dcm');
    fs.writeFileSync(file, sr.bytes);
    const checked = await dciodvfy(file);
    expect(messagesOfOurs(checked, item.source), checked.output).toEqual([]);
    const report = readNaturalized(sr.bytes);
    const verifiers = items(report.VerifyingObserverSequence);
    expect(verifiers.map((v) => [alphabetic(v.VerifyingObserverName), v.VerifyingOrganization])).toEqual([
      ['Doe^Jane', 'Test Hospital'],
      ['Wang^Fang', 'City Hospital'],
    ]);
    const evaluations = items(
      items(report.ContentSequence).find((i) => conceptOf(i) === 'C0034375')!.ContentSequence,
    );
    // The first read's category, then the second reader's, attributed to them by its own observer context.
    expect(evaluations.map((e) => codeOf(e.ConceptCodeSequence)[2])).toEqual([
      'Lung-RADS 4B',
      'Lung-RADS 4A',
    ]);
    const context = items(evaluations[1]!.ContentSequence);
    expect(context.map((c) => [c.RelationshipType, codeOf(c.ConceptNameCodeSequence)[1]])).toEqual([
      ['HAS OBS CONTEXT', '121005'],
      ['HAS OBS CONTEXT', '121008'],
      ['HAS OBS CONTEXT', '121009'],
      ['HAS PROPERTIES', '121106'],
    ]);
    expect(alphabetic(context[1]!.PersonName)).toBe('Wang^Fang');
    expect(context[2]!.TextValue).toBe('City Hospital');
    expect(context[3]!.TextValue).toBe(
      'Second read: disagrees with the first read. Nodule 1 is 7 mm on my reading.',
    );
  });

  it('refuses a verifier with no name at all', () => {
    expect(() => write('study:3', { ...verification, observerName: ' ^ ' })).toThrow(/no name/);
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
