import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONFIDENTIALITY_PROFILE,
  WELL_KNOWN_UID_TAGS,
  resolveAction,
  type BasicAction,
  type ProfileAction,
} from '../../../src/dicom/confidentiality-profile.js';
import { deidentifyInstance, shiftDate } from '../../../src/dicom/deidentify.js';
import { writeSignedOffReport, type SignedOffNodule } from '../../../src/dicom/signed-off-report.js';
import { sourceSeriesReferencesFromBytes } from '../../../src/dicom/source-series-references.js';
import { writeCtSeries } from '../../../src/dicom/write-ct-series.js';
import { DomainError } from '../../../src/shared/errors.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { dciodvfy } from '../../fixtures/dciodvfy.js';
import { sampleDir } from '../../fixtures/sample-data.js';
import { syntheticCtInstance, testUid } from '../../fixtures/synthetic-instance.js';

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

const project = { name: 'trial-a', key: 'k'.repeat(40) };
const DICOM_ROOT = '1.2.840.10008.';
const lidcDir = sampleDir && path.join(sampleDir, 'lidc', 'LIDC-IDRI-0001');
const lidcFiles =
  lidcDir && fs.existsSync(lidcDir)
    ? fs
        .readdirSync(lidcDir, { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.dcm'))
        .sort()
        .map((name) => path.join(lidcDir, name))
    : [];

function read(bytes: Uint8Array): { meta: Dataset; dict: Dataset } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(buffer);
  return { meta: parsed.meta, dict: parsed.dict };
}

function write(meta: Dataset, dict: Dataset): Uint8Array {
  const out = new dcmjs.data.DicomDict(meta);
  out.dict = Object.fromEntries(Object.entries(dict).sort(([a], [b]) => a.localeCompare(b)));
  return new Uint8Array(out.write());
}

const first = (ds: Dataset, tag: string): string | undefined => {
  const value = ds[tag]?.Value?.[0];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Alphabetic' in value) return String(value.Alphabetic);
  return undefined;
};

const itemsOf = (ds: Dataset | undefined, tag: string): Dataset[] => (ds?.[tag]?.Value ?? []) as Dataset[];

/** Every string in a data set, its sequences and PN components, with the tags that hold it. */
function allStrings(ds: Dataset, into: { tag: string; text: string }[] = []) {
  for (const [tag, element] of Object.entries(ds)) {
    for (const value of element.Value ?? []) {
      if (typeof value === 'string') into.push({ tag, text: value });
      else if (element.vr === 'SQ') allStrings(value as Dataset, into);
      else if (value && typeof value === 'object' && !(value instanceof ArrayBuffer)) {
        for (const part of Object.values(value)) if (typeof part === 'string') into.push({ tag, text: part });
      }
    }
  }
  return into;
}

/** The string values of `tag` wherever it occurs: top level and inside sequences at any depth. */
function valuesAnywhere(ds: Dataset, tag: string): string[] {
  return allStrings(ds)
    .filter((entry) => entry.tag === tag)
    .map((entry) => entry.text.replace(/\0/g, '').trim());
}

function pixelBytes(bytes: Uint8Array): Buffer {
  const element = read(bytes).dict['7FE00010'];
  return Buffer.concat((element?.Value as ArrayBuffer[]).map((b) => Buffer.from(b)));
}

const PHI_TAGS = ['00100010', '00100020', '00100030', '00080050', '00080080', '00080020'];

/** The synthetic CT instance plus identifying, private, overlay and nested-UID attributes. */
function richSynthetic(options: { patientId?: string; burnedIn?: string; sop?: string } = {}) {
  const bytes = syntheticCtInstance({
    studyInstanceUid: '1.2.3.4.100',
    seriesInstanceUid: '1.2.3.4.200',
    sopInstanceUid: options.sop ?? testUid(),
    patientId: options.patientId ?? 'PAT-777',
  });
  const { meta, dict } = read(bytes);
  Object.assign(dict, {
    '00080021': { vr: 'DA', Value: ['20251231'] },
    '0008002A': { vr: 'DT', Value: ['20260101101500.5+0100'] },
    '00080032': { vr: 'TM', Value: ['101600'] },
    '00080090': { vr: 'PN', Value: [{ Alphabetic: 'Who^Referrer' }] },
    '00081010': { vr: 'SH', Value: ['STATION7'] },
    '00081030': { vr: 'LO', Value: ['Chest PAT-777'] },
    '00081070': { vr: 'PN', Value: [{ Alphabetic: 'Op^Erator' }] },
    '00081140': {
      vr: 'SQ',
      Value: [
        {
          '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
          '00081155': { vr: 'UI', Value: ['1.2.3.4.999'] },
        },
      ],
    },
    '00100030': { vr: 'DA', Value: ['19500607'] },
    '00100040': { vr: 'CS', Value: ['F'] },
    '00101000': { vr: 'LO', Value: ['OTHER-PAT-777'] },
    '00101010': { vr: 'AS', Value: ['075Y'] },
    '00181000': { vr: 'LO', Value: ['SN12345'] },
    '00200052': { vr: 'UI', Value: ['1.2.3.4.300'] },
    '00280301': { vr: 'CS', Value: [options.burnedIn ?? 'NO'] },
    '00090010': { vr: 'LO', Value: ['ACME'] },
    '00091001': { vr: 'LO', Value: ['PAT-777 Synthetic^Patient'] },
    '60000022': { vr: 'LO', Value: ['overlay says Synthetic^Patient'] },
  });
  return write(meta, dict);
}

function daysBetween(before: string, after: string): number {
  const utc = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
  return (utc(after) - utc(before)) / 86_400_000;
}

function expectNoPhi(original: Dataset, output: Dataset) {
  const secrets = PHI_TAGS.map((tag) => first(original, tag)).filter(
    (v): v is string => v !== undefined && v.trim() !== '',
  );
  expect(secrets.length).toBeGreaterThan(0);
  const strings = allStrings(output);
  for (const secret of secrets) {
    expect(strings.filter(({ text }) => text.includes(secret.trim()))).toEqual([]);
  }
}

/** dciodvfy errors of `output` that `input` did not have (each file checked in its own temporary folder). */
async function newDciodvfyErrors(input: Uint8Array, output: Uint8Array): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deid-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.dcm'), input);
    fs.writeFileSync(path.join(dir, 'out.dcm'), output);
    const before = new Set((await dciodvfy(path.join(dir, 'in.dcm'))).errors);
    return (await dciodvfy(path.join(dir, 'out.dcm'))).errors.filter((e) => !before.has(e));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('shiftDate', () => {
  it.each([
    ['20000101', -1, '19991231'],
    ['20000301', -1, '20000229'],
    ['20260101101500.5+0100', -365, '20250101101500.5+0100'],
    ['2026', -10, ''],
    ['', -10, ''],
  ])('%s %d days -> %s', (value, days, expected) => {
    expect(shiftDate(value, days)).toBe(expected);
  });
});

describe('Table E.1-1 as data (confidentiality-profile.ts)', () => {
  const rows = [...CONFIDENTIALITY_PROFILE.values()];
  const dictionary = new Map(
    Object.entries(
      (dcmjs.data.DicomMetaDictionary as unknown as { nameMap: Record<string, { tag: string; vr: string }> })
        .nameMap,
    ).map(([keyword, entry]) => [
      entry.tag.replace(/[(),]/g, '').toUpperCase(),
      { keyword: keyword.replace(/^RETIRED_/, ''), vr: entry.vr },
    ]),
  );

  it('has one row per tag, keyed GGGGEEEE, with the keyword of the data dictionary', () => {
    expect(rows.length).toBeGreaterThanOrEqual(650);
    const checked = rows.filter((row) => dictionary.has(row.tag));
    expect(checked.length).toBeGreaterThan(600);
    for (const row of rows) {
      expect(row.tag).toMatch(/^[0-9A-F]{8}$/);
      expect(CONFIDENTIALITY_PROFILE.get(row.tag)).toBe(row);
    }
    expect(checked.filter((row) => dictionary.get(row.tag)!.keyword !== row.keyword)).toEqual([]);
  });

  it('marks C (Modified Dates Option) only on dates, times and date-times', () => {
    const temporal = rows.filter((row) => row.modifiedDates === 'C');
    expect(temporal.length).toBeGreaterThan(150);
    expect(temporal.filter((row) => !['DA', 'DT', 'TM'].includes(dictionary.get(row.tag)?.vr ?? ''))).toEqual(
      [],
    );
  });

  it('never keeps a UID the table replaces', () => {
    const replaced = rows.filter((row) => row.basic === 'U');
    expect(replaced.length).toBeGreaterThan(50);
    expect(replaced.filter((row) => WELL_KNOWN_UID_TAGS.has(row.tag))).toEqual([]);
  });

  // Rows the earlier, remembered table had wrong or missed, as PS3.15 2026c states them.
  it.each<[string, string, BasicAction, ('C' | undefined)?]>([
    ['ConsultingPhysicianName', '0008009C', 'Z'],
    ['InstitutionName', '00080080', 'X/Z/D'],
    ['InstitutionCodeSequence', '00080082', 'X/Z/D'],
    ['StationName', '00081010', 'X/Z/D'],
    ['OperatorsName', '00081070', 'X/Z/D'],
    ['OperatorIdentificationSequence', '00081072', 'X/D'],
    ['DeviceSerialNumber', '00181000', 'X/Z/D'],
    ['ProtocolName', '00181030', 'X/D'],
    ['ReferencedStudySequence', '00081110', 'X/Z'],
    ['ReferencedPerformedProcedureStepSequence', '00081111', 'X/Z/D'],
    ['ReferencedImageSequence', '00081140', 'X/Z/U*'],
    ['SourceImageSequence', '00082112', 'X/Z/U*'],
    ['ContrastBolusAgent', '00180010', 'Z/D'],
    ['RequestedProcedureDescription', '00321060', 'X/Z'],
    ['AcquisitionContextSequence', '00400555', 'X/Z'],
    ['PatientSexNeutered', '00102203', 'X/Z'],
    ['VerifyingObserverSequence', '0040A073', 'D'],
    ['VerifyingOrganization', '0040A027', 'D'],
    ['ContentSequence', '0040A730', 'D'],
    ['ContentCreatorName', '00700084', 'Z/D'],
    ['GenderIdentitySequence', '00100041', 'X'],
    ['StudyDate', '00080020', 'Z', 'C'],
    ['SeriesDate', '00080021', 'X/D', 'C'],
    ['AcquisitionDateTime', '0008002A', 'X/Z/D', 'C'],
    ['VerificationDateTime', '0040A030', 'D', 'C'],
    ['PatientBirthDate', '00100030', 'Z', undefined],
    ['PatientID', '00100020', 'Z/D'],
    ['FrameOfReferenceUID', '00200052', 'U'],
    ['ReferencedFrameOfReferenceUID', '30060024', 'U'],
    ['TrackingUID', '00620021', 'U'],
    ['UID', '0040A124', 'U'],
  ])('%s (%s) is %s %s', (keyword, tag, basic, modifiedDates) => {
    const row = CONFIDENTIALITY_PROFILE.get(tag);
    expect(row?.keyword).toBe(keyword);
    expect(row?.basic).toBe(basic);
    expect(row?.modifiedDates).toBe(modifiedDates);
  });
});

describe('resolveAction: how nodus resolves each action code', () => {
  it.each<[BasicAction, string, 'C' | undefined, ProfileAction, string?]>([
    ['X', 'LO', undefined, 'remove'],
    ['X', 'DA', 'C', 'shiftDate'],
    ['X', 'SQ', undefined, 'remove'],
    ['Z', 'SH', undefined, 'empty'],
    ['Z', 'DA', undefined, 'empty'],
    ['Z', 'TM', 'C', 'shiftDate'],
    ['Z', 'SQ', undefined, 'empty'],
    ['D', 'LO', undefined, 'dummy'],
    ['D', 'PN', undefined, 'dummy'],
    ['D', 'DT', 'C', 'shiftDate'],
    ['D', 'UI', undefined, 'replaceUid'],
    ['D', 'SQ', undefined, 'cleanItems', '0040A730'],
    ['D', 'SQ', undefined, 'cleanItems', '0040A073'],
    ['D', 'SQ', undefined, 'empty', '00401101'],
    ['U', 'UI', undefined, 'replaceUid'],
    ['X/Z', 'LO', undefined, 'empty'],
    ['X/Z', 'SQ', undefined, 'empty'],
    ['X/D', 'LO', undefined, 'dummyIfValued'],
    ['X/D', 'SQ', undefined, 'remove'],
    ['X/D', 'DA', 'C', 'shiftDate'],
    ['Z/D', 'LO', undefined, 'dummyIfValued'],
    ['X/Z/D', 'SH', undefined, 'dummyIfValued'],
    ['X/Z/D', 'SQ', undefined, 'empty'],
    ['X/Z/D', 'TM', 'C', 'shiftDate'],
    ['X/Z/U*', 'SQ', undefined, 'cleanItems'],
  ])('%s on %s (option %s) -> %s', (basic, vr, modifiedDates, expected, tag = '00000000') => {
    const row = modifiedDates
      ? { tag, keyword: 'Any', basic, modifiedDates }
      : { tag, keyword: 'Any', basic };
    expect(resolveAction(row, vr)).toBe(expected);
  });
});

describe('deidentifyInstance on a synthetic instance', () => {
  it('keeps pixels, removes identifiers, private and overlay groups, and marks the profile', () => {
    const input = richSynthetic();
    const output = deidentifyInstance(input, project);
    expect(pixelBytes(output).equals(pixelBytes(input))).toBe(true);
    const original = read(input).dict;
    const { dict, meta } = read(output);
    expectNoPhi(original, dict);
    for (const secret of ['Who^Referrer', 'STATION7', 'Op^Erator', 'OTHER-PAT-777', 'SN12345', 'ACME']) {
      expect(allStrings(dict).filter(({ text }) => text.includes(secret))).toEqual([]);
    }
    expect(Object.keys(dict).filter((tag) => parseInt(tag.slice(0, 4), 16) % 2 === 1)).toEqual([]);
    expect(Object.keys(dict).filter((tag) => tag.startsWith('60'))).toEqual([]);
    expect(first(dict, '00100030') ?? '').toBe('');
    expect(first(dict, '00100040') ?? '').toBe('');
    expect(dict['00101010']).toBeUndefined();
    expect(first(dict, '00100020')).toMatch(/^NODUS-[0-9A-F]{12}$/);
    expect(first(dict, '00100010')).toBe(first(dict, '00100020'));
    expect(first(dict, '00120062')).toBe('YES');
    expect(first(dict, '00280303')).toBe('MODIFIED');
    const codes = itemsOf(dict, '00120064').map((item) => first(item, '00080100'));
    expect(codes).toEqual(['113100', '113107']);
    // UIDs: instances replaced (also nested and in the meta), classes kept.
    expect(first(dict, '00080016')).toBe('1.2.840.10008.5.1.4.1.1.2');
    for (const tag of ['00080018', '0020000D', '0020000E', '00200052']) {
      expect(first(dict, tag)).toMatch(/^2\.25\.\d{1,39}$/);
    }
    expect(first(meta, '00020003')).toBe(first(dict, '00080018'));
    expect(first(meta, '00020002')).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(first(meta, '00020010')).toBe('1.2.840.10008.1.2.1');
    const ref = itemsOf(dict, '00081140')[0]!;
    expect(first(ref, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(first(ref, '00081155')).toMatch(/^2\.25\./);
    // Dates shift together; times stay.
    const shift = daysBetween('20260101', first(dict, '00080020')!);
    expect(shift).toBeGreaterThanOrEqual(-3650);
    expect(shift).toBeLessThanOrEqual(-365);
    expect(daysBetween('20251231', first(dict, '00080021')!)).toBe(shift);
    expect(first(dict, '0008002A')!.trim().slice(8)).toBe('101500.5+0100');
    expect(first(dict, '00080030')).toBe('101500');
    expect(first(dict, '00080032')).toBe('101600');
  });

  it('applies every action code, at any depth of sequences', () => {
    const sop = '1.2.3.4.500';
    const { meta, dict } = read(richSynthetic({ sop }));
    const code = (value: string, meaning: string) => ({
      '00080100': { vr: 'SH', Value: [value] },
      '00080102': { vr: 'SH', Value: ['99TEST'] },
      '00080104': { vr: 'LO', Value: [meaning] },
    });
    const reference = (uid: string) => ({
      '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      '00081155': { vr: 'UI', Value: [uid] },
    });
    meta['00020016'] = { vr: 'AE', Value: ['HOSPITAL_PACS'] };
    Object.assign(dict, {
      '00080015': { vr: 'DT', Value: ['20260101120000'] }, // X with C: shifted
      '00080201': { vr: 'SH', Value: ['+0100'] }, // X
      '00081190': { vr: 'UR', Value: ['https://pacs.example/studies/1.2.3.4.100'] }, // not in the table: X
      '00080081': { vr: 'ST', Value: ['1 Hospital Road'] }, // X
      '00081010': { vr: 'SH', Value: [''] }, // X/Z/D, empty: stays empty
      '00181030': { vr: 'LO', Value: ['LUNG SCREEN PAT-777'] }, // X/D: dummy
      '00180010': { vr: 'LO', Value: ['OMNIPAQUE'] }, // Z/D: dummy
      '00700084': { vr: 'PN', Value: [] }, // Z/D, empty: stays empty
      '00321060': { vr: 'LO', Value: ['CT chest for Jane'] }, // X/Z: empty
      '00100021': { vr: 'LO', Value: ['HOSPITAL-MRN'] }, // X
      '00100024': { vr: 'SQ', Value: [{ '00400036': { vr: 'SQ', Value: [code('HOSP', 'Hospital')] } }] }, // also X
      '00100041': { vr: 'SQ', Value: [{ '00100044': { vr: 'SQ', Value: [code('F', 'Female')] } }] }, // X (2026c)
      '00101002': { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: ['OTHER-ID-1'] } }] }, // X
      '00081110': { vr: 'SQ', Value: [reference('1.2.3.4.700')] }, // X/Z: no items
      '00081111': { vr: 'SQ', Value: [reference('1.2.3.4.701')] }, // X/Z/D: no items
      '00081072': { vr: 'SQ', Value: [{ '00401101': { vr: 'SQ', Value: [code('EMP42', 'Emp')] } }] }, // X/D
      '00082112': { vr: 'SQ', Value: [reference('1.2.3.4.998')] }, // X/Z/U*: items kept, UIDs replaced
      '00200242': { vr: 'UI', Value: [sop] }, // not in the table: replaced like the SOP Instance UID
      '00081115': {
        // Referenced Series Sequence, not in the table: cleaned item by item.
        vr: 'SQ',
        Value: [
          {
            '0020000E': { vr: 'UI', Value: ['1.2.3.4.200'] },
            '00080080': { vr: 'LO', Value: ['Nested Hospital'] },
            '00081070': { vr: 'PN', Value: [{ Alphabetic: 'Nested^Operator' }] },
            '0008114A': { vr: 'SQ', Value: [reference(sop)] },
          },
        ],
      },
      '0040A073': {
        // D: a dummy observer.
        vr: 'SQ',
        Value: [
          {
            '0040A027': { vr: 'LO', Value: ['Screening Clinic Nord'] },
            '0040A030': { vr: 'DT', Value: ['20260102093000'] },
            '0040A075': { vr: 'PN', Value: [{ Alphabetic: 'Reader^Rita' }] },
            '0040A088': { vr: 'SQ', Value: [code('R123', 'Rita')] },
          },
        ],
      },
      '0040A730': {
        // D: the content tree stays, its names, dates and UIDs are de-identified.
        vr: 'SQ',
        Value: [
          {
            '0040A040': { vr: 'CS', Value: ['PNAME'] },
            '0040A123': { vr: 'PN', Value: [{ Alphabetic: 'Reader^Rita' }] },
          },
          { '0040A040': { vr: 'CS', Value: ['UIDREF'] }, '0040A124': { vr: 'UI', Value: ['1.2.3.4.300'] } },
          { '0040A040': { vr: 'CS', Value: ['DATE'] }, '0040A121': { vr: 'DA', Value: ['20260101'] } },
          { '0040A040': { vr: 'CS', Value: ['TEXT'] }, '0040A160': { vr: 'UT', Value: ['Nodule 1'] } },
        ],
      },
      '00080082': { vr: 'SQ', Value: [code('HOSP1', 'Hospital One')] }, // X/Z/D: no items
      '00400275': { vr: 'SQ', Value: [{ '00401001': { vr: 'SH', Value: ['RP-1'] } }] }, // X
      '00089215': { vr: 'SQ', Value: [code('113076', 'Segmentation')] }, // not in the table: kept
      '00080110': {
        vr: 'SQ',
        Value: [
          {
            '00080102': { vr: 'SH', Value: ['SCT'] },
            '0008010C': { vr: 'UI', Value: ['2.16.840.1.113883.6.96'] },
          },
        ],
      },
    });
    const input = write(meta, dict);
    const out = read(deidentifyInstance(input, project));
    const d = out.dict;
    const uidOf = (tag: string) => first(d, tag)!;

    expect(out.meta['00020016']).toBeUndefined();
    for (const tag of [
      '00080201',
      '00081190',
      '00080081',
      '00100021',
      '00100024',
      '00100041',
      '00101002',
      '00081072',
    ]) {
      expect(d[tag], tag).toBeUndefined();
    }
    for (const tag of ['00081110', '00081111', '00080082']) expect(itemsOf(d, tag), tag).toEqual([]);
    expect(d['00400275']).toBeUndefined();
    expect(first(d, '00181030')).toBe('REMOVED');
    expect(first(d, '00180010')).toBe('REMOVED');
    expect(first(d, '00080080')).toBe('REMOVED');
    expect(first(d, '00081010') ?? '').toBe('');
    expect(d['00081010']).toBeDefined();
    expect(d['00700084']?.Value ?? []).toEqual([]);
    expect(first(d, '00321060') ?? '').toBe('');
    const shift = daysBetween('20260101', first(d, '00080020')!);
    expect(daysBetween('20260101', first(d, '00080015')!)).toBe(shift);

    // Instance UIDs map the same wherever they stand; class and coding scheme UIDs stay.
    expect(first(d, '00200242')).toBe(uidOf('00080018'));
    const series = itemsOf(d, '00081115')[0]!;
    expect(first(series, '0020000E')).toBe(uidOf('0020000E'));
    expect(first(series, '00080080')).toBe('REMOVED');
    expect(first(series, '00081070')).toBe('REMOVED');
    expect(first(itemsOf(series, '0008114A')[0]!, '00081155')).toBe(uidOf('00080018'));
    expect(first(itemsOf(series, '0008114A')[0]!, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
    const source = itemsOf(d, '00082112')[0]!;
    expect(first(source, '00081155')).toMatch(/^2\.25\./);
    expect(first(source, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(first(itemsOf(d, '00080110')[0]!, '0008010C')).toBe('2.16.840.1.113883.6.96');
    expect(first(itemsOf(d, '00089215')[0]!, '00080100')).toBe('113076');

    const observer = itemsOf(d, '0040A073')[0]!;
    expect(first(observer, '0040A075')).toBe('REMOVED');
    expect(first(observer, '0040A027')).toBe('REMOVED');
    expect(itemsOf(observer, '0040A088')).toEqual([]);
    expect(daysBetween('20260102', first(observer, '0040A030')!)).toBe(shift);
    expect(first(observer, '0040A030')!.slice(8)).toBe('093000');

    const content = itemsOf(d, '0040A730');
    expect(content).toHaveLength(4);
    expect(first(content[0]!, '0040A123')).toBe('REMOVED');
    expect(first(content[1]!, '0040A124')).toBe(uidOf('00200052'));
    expect(daysBetween('20260101', first(content[2]!, '0040A121')!)).toBe(shift);
    expect(first(content[3]!, '0040A160')).toBe('Nodule 1');

    for (const secret of [
      'Reader^Rita',
      'Screening Clinic',
      'HOSPITAL',
      'Nested',
      'OTHER-ID',
      'EMP42',
      'Jane',
    ]) {
      expect(
        allStrings(d).filter(({ text }) => text.includes(secret)),
        secret,
      ).toEqual([]);
    }
    const originalUids = ['1.2.3.4.100', '1.2.3.4.200', '1.2.3.4.300', '1.2.3.4.500', '1.2.3.4.998'];
    expect(allStrings(d).filter(({ text }) => originalUids.some((uid) => text.includes(uid)))).toEqual([]);
  });

  it('adds no dciodvfy errors', async () => {
    const input = richSynthetic();
    expect(await newDciodvfyErrors(input, deidentifyInstance(input, project))).toEqual([]);
  });

  it('is deterministic: the same bytes and project give byte-identical output, whatever ran before', () => {
    const input = richSynthetic({ sop: '1.2.3.4.510' });
    const output = deidentifyInstance(input, project);
    deidentifyInstance(richSynthetic({ sop: '1.2.3.4.511', patientId: 'SOMEONE-ELSE' }), project);
    deidentifyInstance(input, { ...project, name: 'trial-b' });
    expect(same(deidentifyInstance(Uint8Array.from(input), project), output)).toBe(true);
    expect(same(deidentifyInstance(input, { ...project }), output)).toBe(true);
  });

  it('is stable within a project and differs between projects', () => {
    const sop = testUid();
    const input = richSynthetic({ sop });
    const a = read(deidentifyInstance(input, project)).dict;
    const b = read(deidentifyInstance(input, project)).dict;
    const otherName = read(deidentifyInstance(input, { ...project, name: 'trial-b' })).dict;
    const otherKey = read(deidentifyInstance(input, { ...project, key: 'x'.repeat(40) })).dict;
    for (const tag of ['00100020', '00080018', '0020000D', '0020000E', '00200052', '00080020']) {
      expect(first(b, tag)).toBe(first(a, tag));
      expect(first(otherName, tag)).not.toBe(first(a, tag));
      expect(first(otherKey, tag)).not.toBe(first(a, tag));
    }
    // Another series of the same patient keeps the study UID and the date shift.
    const second = read(deidentifyInstance(richSynthetic({ sop: testUid() }), project)).dict;
    expect(first(second, '0020000D')).toBe(first(a, '0020000D'));
    expect(first(second, '00080020')).toBe(first(a, '00080020'));
    expect(first(second, '00080018')).not.toBe(first(a, '00080018'));
  });

  it('refuses Burned In Annotation YES', () => {
    const input = richSynthetic({ burnedIn: 'YES' });
    expect(() => deidentifyInstance(input, project)).toThrow(DomainError);
    try {
      deidentifyInstance(input, project);
    } catch (error) {
      expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    }
  });

  it('rejects bytes that are not DICOM', () => {
    expect(() => deidentifyInstance(new Uint8Array(64), project)).toThrow(DomainError);
  });
});

/** A SEG and a verified SR (writeSignedOffReport) over a CT series, with two segmented nodules and one without. */
async function signedOffObjects(ct: readonly Uint8Array[]) {
  const { volume } = await reconstructSeries(ct.map((bytes, k) => ({ source: `ct-${k}`, bytes })));
  if (!volume) throw new Error('the CT series did not reconstruct');
  const ball = (id: string, centre: [number, number, number], radius: number): SignedOffNodule => {
    const lo = centre.map((c) => Math.max(0, Math.floor(c - radius)));
    const hi = centre.map((c, a) => Math.min(volume.dimensions[a]! - 1, Math.ceil(c + radius)));
    const [i0, j0, k0, i1, j1, k1] = [...lo, ...hi] as [number, number, number, number, number, number];
    const w = i1 - i0 + 1;
    const h = j1 - j0 + 1;
    const data = new Uint8Array(w * h * (k1 - k0 + 1));
    for (let k = k0; k <= k1; k += 1)
      for (let j = j0; j <= j1; j += 1)
        for (let i = i0; i <= i1; i += 1)
          if ((i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2 <= radius ** 2)
            data[i - i0 + w * (j - j0 + h * (k - k0))] = 1;
    return {
      id,
      centreLps: [0, 0, 0],
      longAxisMm: 2 * radius,
      shortAxisMm: 1.6 * radius,
      meanDiameterMm: 1.8 * radius,
      type: 'solid',
      volumeMm3: 4 * radius ** 3,
      meanHu: -20,
      score: 0.9,
      mask: { boxIjk: [i0, j0, k0, i1, j1, k1], data },
    };
  };
  const [nx, ny, nz] = volume.dimensions;
  const report = writeSignedOffReport(
    {
      source: sourceSeriesReferencesFromBytes(ct),
      volume,
      nodules: [
        ball('nodule-a', [nx / 2, ny / 2, nz / 2], 2),
        ball('nodule-b', [nx / 4, ny / 4, nz / 3], 1.5),
        {
          id: 'nodule-c',
          centreLps: [1, 2, 3],
          longAxisMm: 5,
          shortAxisMm: 4,
          meanDiameterMm: 4.5,
          type: 'ground-glass',
        },
      ],
      finalCategory: '4A',
      verification: {
        observerName: 'Reader^Rita',
        organization: 'Screening Clinic Nord',
        verifiedAt: new Date(Date.UTC(2026, 0, 2, 9, 30)),
      },
      reportKey: 'study-1:1',
    },
    { algorithmName: 'nodus-detector', algorithmVersion: '1.0.0' },
  );
  if (!report.seg) throw new Error('no SEG was written');
  return { seg: report.seg.bytes, sr: report.sr.bytes };
}

/** Checks that the de-identified SEG and SR point only at de-identified CT (and SEG) instances of one study. */
function expectReferencesResolve(ct: readonly Uint8Array[], seg: Uint8Array, sr: Uint8Array) {
  const cts = ct.map((bytes) => read(bytes).dict);
  const segDs = read(seg).dict;
  const srDs = read(sr).dict;
  const ctSops = new Set(cts.map((ds) => first(ds, '00080018')!));
  expect(ctSops.size).toBe(ct.length);
  const study = new Set(cts.map((ds) => first(ds, '0020000D')));
  const series = new Set(cts.map((ds) => first(ds, '0020000E')));
  const frame = new Set(cts.map((ds) => first(ds, '00200052')));
  expect([study.size, series.size, frame.size]).toEqual([1, 1, 1]);
  const [studyUid, seriesUid, frameUid] = [[...study][0]!, [...series][0]!, [...frame][0]!];
  const patient = first(cts[0]!, '00100020');
  const segSop = first(segDs, '00080018')!;

  for (const ds of [segDs, srDs]) {
    expect(first(ds, '0020000D')).toBe(studyUid);
    expect(first(ds, '00100020')).toBe(patient);
    expect(first(ds, '00080020')).toBe(first(cts[0]!, '00080020'));
  }
  expect(first(segDs, '00200052')).toBe(frameUid);

  // SEG: every frame's source image and the referenced series are the de-identified CT.
  const segRefs = valuesAnywhere(segDs, '00081155');
  expect(segRefs.length).toBeGreaterThan(0);
  expect(segRefs.filter((uid) => !ctSops.has(uid))).toEqual([]);
  expect(valuesAnywhere(segDs, '0020000E').filter((uid) => uid !== seriesUid)).toEqual([
    first(segDs, '0020000E'),
  ]);
  // SR: image library and evidence point at the CT, segment references at the SEG.
  const srRefs = valuesAnywhere(srDs, '00081155');
  expect(srRefs.filter((uid) => !ctSops.has(uid) && uid !== segSop)).toEqual([]);
  expect(new Set(srRefs.filter((uid) => ctSops.has(uid)))).toEqual(ctSops);
  expect(srRefs).toContain(segSop);
  const evidenceSeries = itemsOf(itemsOf(srDs, '0040A375')[0], '00081115').map((s) => first(s, '0020000E'));
  expect(evidenceSeries).toEqual([seriesUid, first(segDs, '0020000E')]);
  // SR UIDREFs: the frame of reference, the source series and the SEG's tracking UIDs.
  const uidRefs = valuesAnywhere(srDs, '0040A124');
  expect(uidRefs).toContain(frameUid);
  expect(uidRefs).toContain(seriesUid);
  const tracking = valuesAnywhere(segDs, '00620021');
  expect(tracking).toHaveLength(2);
  for (const uid of tracking) expect(uidRefs).toContain(uid);
  // Class UIDs stay as they were.
  expect(new Set(valuesAnywhere(segDs, '00081150'))).toEqual(new Set(['1.2.840.10008.5.1.4.1.1.2']));
  expect(new Set(valuesAnywhere(srDs, '00081150'))).toEqual(
    new Set(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.66.4']),
  );
}

/** Every instance UID of the inputs: UI values that are neither DICOM's own nor of a class-like attribute. */
function instanceUids(files: readonly Uint8Array[]): Set<string> {
  const uids = new Set<string>();
  for (const bytes of files) {
    const { meta, dict } = read(bytes);
    const walk = (ds: Dataset) => {
      for (const [tag, element] of Object.entries(ds)) {
        if (element.vr === 'SQ') (element.Value as Dataset[]).forEach(walk);
        if (element.vr !== 'UI' || WELL_KNOWN_UID_TAGS.has(tag)) continue;
        for (const value of element.Value ?? []) {
          const uid = String(value).replace(/\0/g, '').trim();
          if (uid && !uid.startsWith(DICOM_ROOT)) uids.add(uid);
        }
      }
    };
    walk(meta);
    walk(dict);
  }
  return uids;
}

function describeDerivedObjects(name: string, loadCt: () => Uint8Array[], skip = false) {
  describe.skipIf(skip)(`de-identified SEG and SR over de-identified CT (${name})`, () => {
    let ct: Uint8Array[];
    let seg: Uint8Array;
    let sr: Uint8Array;
    let out: { ct: Uint8Array[]; seg: Uint8Array; sr: Uint8Array };
    beforeAll(async () => {
      ct = loadCt();
      ({ seg, sr } = await signedOffObjects(ct));
      out = {
        ct: ct.map((bytes) => deidentifyInstance(bytes, project)),
        seg: deidentifyInstance(seg, project),
        sr: deidentifyInstance(sr, project),
      };
    }, 120_000);

    it('the written SEG and SR resolve against the written CT before de-identification', () => {
      expectReferencesResolve(ct, seg, sr);
    });

    it('still resolve every reference: SOP instances, series, study, frame of reference, tracking UIDs', () => {
      expectReferencesResolve(out.ct, out.seg, out.sr);
    });

    it('leave no original instance UID and no name of the reader or the clinic', () => {
      const originals = instanceUids([...ct, seg, sr]);
      for (const bytes of [...out.ct, out.seg, out.sr]) {
        const { meta, dict } = read(bytes);
        const leaked = [...allStrings(meta), ...allStrings(dict)].filter(({ text }) =>
          originals.has(text.replace(/\0/g, '').trim()),
        );
        expect(leaked).toEqual([]);
        expect(allStrings(dict).filter(({ text }) => /Rita|Screening Clinic/.test(text))).toEqual([]);
      }
      const observer = itemsOf(read(out.sr).dict, '0040A073')[0]!;
      expect(first(observer, '0040A075')).toBe('REMOVED');
      expect(first(observer, '0040A027')).toBe('REMOVED');
    });

    it('are byte-identical when de-identified again', () => {
      expect(same(deidentifyInstance(seg, project), out.seg)).toBe(true);
      expect(same(deidentifyInstance(sr, project), out.sr)).toBe(true);
      expect(ct.every((bytes, n) => same(deidentifyInstance(bytes, project), out.ct[n]!))).toBe(true);
    });

    it('add no dciodvfy errors to the SEG, the SR or any CT image', async () => {
      const errors = [
        ...(await newDciodvfyErrors(seg, out.seg)).map((e) => `SEG: ${e}`),
        ...(await newDciodvfyErrors(sr, out.sr)).map((e) => `SR: ${e}`),
      ];
      for (const [n, bytes] of ct.entries()) {
        errors.push(...(await newDciodvfyErrors(bytes, out.ct[n]!)).map((e) => `CT ${n}: ${e}`));
      }
      expect(errors).toEqual([]);
    }, 120_000);
  });
}

describeDerivedObjects('synthetic CT', () => {
  const [nx, ny, nz] = [13, 11, 9];
  return writeCtSeries({
    dimensions: [nx, ny, nz],
    pixelSpacingMm: 0.8,
    sliceSpacingMm: 1.25,
    originLps: [-5.2, -4.4, 100],
    hu: new Int16Array(nx * ny * nz).fill(-900),
    patientId: 'SEG-SR-1',
    patientName: 'Müller^Jürgen',
    seriesDescription: 'de-identification test',
  }).files;
});

describeDerivedObjects(
  'LIDC-IDRI-0001',
  () => lidcFiles.map((file) => new Uint8Array(fs.readFileSync(file))),
  lidcFiles.length === 0,
);

describe.skipIf(lidcFiles.length === 0)('deidentifyInstance on LIDC-IDRI-0001', () => {
  it('keeps pixels, leaves no identifier, shifts every date by one amount, and is stable', async () => {
    const shifts = new Set<number>();
    const patients = new Set<string>();
    const newErrors: string[] = [];
    for (const file of lidcFiles) {
      const input = new Uint8Array(fs.readFileSync(file));
      const output = deidentifyInstance(input, project);
      expect(pixelBytes(output).equals(pixelBytes(input))).toBe(true);
      const original = read(input).dict;
      const { dict } = read(output);
      expectNoPhi(original, dict);
      expect(first(dict, '00080018')).not.toBe(first(original, '00080018'));
      for (const tag of ['00080020', '00080021', '00080022', '00080023']) {
        const before = first(original, tag);
        if (before) shifts.add(daysBetween(before, first(dict, tag)!));
      }
      patients.add(first(dict, '00100020')!);
      newErrors.push(...(await newDciodvfyErrors(input, output)).map((e) => `${path.basename(file)}: ${e}`));
      expect(same(deidentifyInstance(input, project), output)).toBe(true);
    }
    expect(newErrors).toEqual([]);
    expect([...patients]).toHaveLength(1);
    expect([...shifts]).toHaveLength(1);
  }, 300_000);
});
