import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPart10FilesReusingBuffer } from '../../../src/volume/series-files.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-series-files-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A file with the Part 10 preamble and "DICM" prefix, then `size` bytes of a pattern. */
function part10File(name: string, size: number, seed: number): { file: string; bytes: Buffer } {
  const bytes = Buffer.alloc(132 + size);
  bytes.write('DICM', 128, 'latin1');
  for (let i = 132; i < bytes.length; i += 1) bytes[i] = (i * 31 + seed) & 0xff;
  const file = path.join(work, name);
  fs.writeFileSync(file, bytes);
  return { file, bytes };
}

describe('readPart10FilesReusingBuffer', () => {
  it('yields each Part 10 file whole, in order, growing its buffer, and skips other files', () => {
    const small = part10File('a.dcm', 1000, 1);
    const large = part10File('b.dcm', 300_000, 2);
    const notDicom = path.join(work, 'notes.xml');
    fs.writeFileSync(notDicom, '<xml/>');
    const smallAgain = part10File('c.dcm', 10, 3);

    const seen: { source: string; copy: Buffer; buffer: ArrayBufferLike }[] = [];
    for (const { source, bytes } of readPart10FilesReusingBuffer([
      small.file,
      large.file,
      notDicom,
      smallAgain.file,
    ])) {
      seen.push({ source, copy: Buffer.from(bytes), buffer: bytes.buffer });
    }
    expect(seen.map((s) => s.source)).toEqual([small.file, large.file, smallAgain.file]);
    expect(seen[0]!.copy.equals(small.bytes)).toBe(true);
    expect(seen[1]!.copy.equals(large.bytes)).toBe(true);
    expect(seen[2]!.copy.equals(smallAgain.bytes)).toBe(true);
    // The last, smaller file is read into the buffer grown for the large one.
    expect(seen[2]!.buffer).toBe(seen[1]!.buffer);
  });

  it('fails with the path of a file it cannot read', () => {
    const missing = path.join(work, 'missing.dcm');
    expect(() => [...readPart10FilesReusingBuffer([missing])]).toThrow(/missing\.dcm/);
  });
});
