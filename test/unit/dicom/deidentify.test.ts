import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { deidentifyInstance, shiftDate } from '../../../src/dicom/deidentify.js';
import { DomainError } from '../../../src/shared/errors.js';
import { dciodvfy } from '../../fixtures/dciodvfy.js';
import { sampleDir } from '../../fixtures/sample-data.js';
import { syntheticCtInstance, testUid } from '../../fixtures/synthetic-instance.js';

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

const project = { name: 'trial-a', key: 'k'.repeat(40) };
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

const first = (ds: Dataset, tag: string): string | undefined => {
  const value = ds[tag]?.Value?.[0];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Alphabetic' in value) return String(value.Alphabetic);
  return undefined;
};

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
  const out = new dcmjs.data.DicomDict(meta);
  out.dict = Object.fromEntries(Object.entries(dict).sort(([a], [b]) => a.localeCompare(b)));
  return new Uint8Array(out.write());
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
    const codes = (dict['00120064']?.Value as Dataset[]).map((item) => first(item, '00080100'));
    expect(codes).toEqual(['113100', '113107']);
    // UIDs: instances replaced (also nested and in the meta), classes kept.
    expect(first(dict, '00080016')).toBe('1.2.840.10008.5.1.4.1.1.2');
    for (const tag of ['00080018', '0020000D', '0020000E', '00200052']) {
      expect(first(dict, tag)).toMatch(/^2\.25\.\d{1,39}$/);
    }
    expect(first(meta, '00020003')).toBe(first(dict, '00080018'));
    const ref = (dict['00081140']?.Value as Dataset[])[0]!;
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

  it('adds no dciodvfy errors', async () => {
    const input = richSynthetic();
    expect(await newDciodvfyErrors(input, deidentifyInstance(input, project))).toEqual([]);
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

describe.skipIf(lidcFiles.length === 0)('deidentifyInstance on LIDC-IDRI-0001', () => {
  it('keeps pixels, leaves no identifier, shifts every date by one amount, and is stable', async () => {
    const shifts = new Set<number>();
    const patients = new Set<string>();
    const newErrors: string[] = [];
    for (const [index, file] of lidcFiles.entries()) {
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
      if (index % 40 === 0) {
        newErrors.push(...(await newDciodvfyErrors(input, output)));
        expect(Buffer.from(deidentifyInstance(input, project)).equals(Buffer.from(output))).toBe(true);
      }
    }
    expect(newErrors).toEqual([]);
    expect([...patients]).toHaveLength(1);
    expect([...shifts]).toHaveLength(1);
  }, 120_000);
});
