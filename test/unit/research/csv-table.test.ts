import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../src/research/export/csv-table.js';

describe('toCsv', () => {
  it('writes RFC 4180 CSV: CRLF lines, quoted fields with doubled quotes, empty nulls', () => {
    const csv = toCsv(
      ['a', 'b', 'c'],
      [
        { a: 'plain', b: 1.5, c: null },
        { a: 'with, comma', b: 'say "hi"', c: 'two\nlines' },
        { a: true, b: Number.NaN, c: -0 },
      ],
    );
    expect(csv).toBe('a,b,c\r\nplain,1.5,\r\n"with, comma","say ""hi""","two\nlines"\r\ntrue,,0\r\n');
  });
});
