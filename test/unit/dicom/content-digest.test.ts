import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceContentDigest } from '../../../src/dicom/content-digest.js';
import { decodeInstance } from '../../../src/dicom/pixel-data.js';
import { datasetSha256 } from '../../../src/ingest/store-instance.js';
import { dcmtk } from '../../fixtures/dcmtk.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const robustness = sampleDir && path.join(sampleDir, 'robustness');

async function digestOf(bytes: Uint8Array): Promise<string> {
  return instanceContentDigest(bytes, (await decodeInstance(bytes)).pixels);
}

/** Rewrites a Part 10 file with dcmjs, changing one attribute (tag as 8 hex digits). */
function withAttribute(bytes: Uint8Array, tag: string, vr: string, value: unknown): Uint8Array {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(buffer);
  parsed.dict[tag] = { vr, Value: [value] };
  const written = new dcmjs.data.DicomDict(parsed.meta);
  written.dict = parsed.dict;
  return new Uint8Array(written.write());
}

describe.runIf(robustness)('instanceContentDigest', () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-digest-'));
  });
  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  it('is the same for one CT slice in 7 transfer syntaxes, whose bytes all differ', async () => {
    const folder = path.join(robustness!, 'derived');
    const files = (await fs.readdir(folder)).sort();
    expect(files).toHaveLength(7);
    const digests = new Set<string>();
    const byteHashes = new Set<string>();
    for (const file of files) {
      const bytes = await fs.readFile(path.join(folder, file));
      digests.add(await digestOf(bytes));
      byteHashes.add(datasetSha256(bytes));
    }
    expect(byteHashes.size).toBe(7);
    expect(digests.size).toBe(1);
    expect([...digests][0]).toMatch(/^[0-9a-f]{64}$/);
  });

  // DCMTK (storescu, dcmconv) and Orthanc re-encode sequences: explicit or undefined lengths, another VR
  // encoding, with or without group lengths. The Enhanced CT sample has 26 sequences, nested.
  it.each([
    ['explicit lengths', ['+e']],
    ['undefined lengths', ['-e']],
    ['implicit VR', ['+ti', '-e']],
    ['explicit VR big endian', ['+tb', '+e']],
    ['deflated', ['+td']],
    ['group length elements added', ['+g', '+e']],
  ])('is the same for an Enhanced CT re-encoded by dcmconv with %s', async (_name, options) => {
    const source = path.join(robustness!, 'pydicomdata_enhanced_ct_2frames.dcm');
    const target = path.join(work, `enhanced-${options.join('')}.dcm`);
    const converted = await dcmtk('dcmconv', [...options, source, target]);
    expect(converted.code, converted.output).toBe(0);
    const original = await fs.readFile(source);
    expect(await digestOf(await fs.readFile(target))).toBe(await digestOf(original));
  });

  it('sees explicit- and undefined-length encodings of one data set as different bytes', async () => {
    const source = path.join(robustness!, 'pydicomdata_enhanced_ct_2frames.dcm');
    const hashes = new Set<string>();
    for (const option of ['+e', '-e']) {
      const target = path.join(work, `lengths${option}.dcm`);
      expect((await dcmtk('dcmconv', [option, source, target])).code).toBe(0);
      hashes.add(datasetSha256(await fs.readFile(target)));
    }
    expect(hashes.size).toBe(2);
  });

  it('differs when one attribute or one pixel differs', async () => {
    const bytes = await fs.readFile(
      path.join(robustness!, 'derived', 'lungdx_A0001_1-13_explicit_little_endian.dcm'),
    );
    const original = await digestOf(bytes);
    expect(await digestOf(withAttribute(bytes, '00100010', 'PN', { Alphabetic: 'Other^Patient' }))).not.toBe(
      original,
    );
    const pixelChanged = Buffer.from(bytes);
    pixelChanged[pixelChanged.length - 2]! ^= 0x01;
    expect(await digestOf(pixelChanged)).not.toBe(original);
  });
});
