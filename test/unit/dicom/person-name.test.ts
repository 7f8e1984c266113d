import { describe, expect, it } from 'vitest';
import { toPersonName } from '../../../src/dicom/person-name.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('toPersonName', () => {
  it.each([
    // Already a PN: kept, cleaned, trailing empty components dropped, at most five components.
    ['Doe^Jane', 'Doe^Jane'],
    ['Müller^Jürgen', 'Müller^Jürgen'],
    ['Doe^Jane^^Dr^', 'Doe^Jane^^Dr'],
    ['^Jane', '^Jane'],
    ['a^b^c^d^e^f', 'a^b^c^d^e'],
    ['Doe^Jane=ドウ^ジェーン', 'Doe^Jane'],
    [' Doe ^ Jane ', 'Doe^Jane'],
    ['x@y^z', 'x y^z'],
    // Display names.
    ['Jane Doe', 'Doe^Jane'],
    ['Jane Mary  Doe', 'Doe^Jane Mary'],
    ['Doe, Jane', 'Doe^Jane'],
    ['Doe,Jane Mary', 'Doe^Jane Mary'],
    ['Administrator', 'Administrator^'],
    ['Jane\tDoe', 'Doe^Jane'],
    ['Doe\\Jane', 'Jane^Doe'],
    // E-mail addresses: the local part, without its +tag.
    ['jane.doe@example.org', 'doe^jane'],
    ['jane_mary.doe+screening@example.org', 'doe^jane mary'],
    ['r@example.org', 'r^'],
    // Nothing left.
    ['', ''],
    ['  ', ''],
    ['^^', ''],
  ])('%j -> %j', (name, expected) => {
    expect(toPersonName(name)).toBe(expected);
  });

  it.each([
    ['A'.repeat(70), `${'A'.repeat(63)}^`],
    ['Ü'.repeat(40), `${'Ü'.repeat(31)}^`],
    [`Doe^${'J'.repeat(70)}`, `Doe^${'J'.repeat(60)}`],
    [`${'J'.repeat(70)} Doe`, `Doe^${'J'.repeat(60)}`],
  ])('cuts %j to 64 bytes of UTF-8, keeping a delimiter', (name, expected) => {
    const value = toPersonName(name);
    expect(value).toBe(expected);
    expect(bytes(value)).toBeLessThanOrEqual(64);
  });

  it('gives a value of components, never with @, \\ or =, within 64 bytes', () => {
    const names = [
      'a@b.c',
      'Dr. Jane Doe, PhD',
      'x\\y=z',
      'O\u0000Brien^Pat',
      'Zoë  van der Berg',
      '日本 太郎',
    ];
    for (const name of names) {
      const value = toPersonName(name);
      expect(value.split('^').length, name).toBeGreaterThanOrEqual(2);
      expect(value.split('^').length, name).toBeLessThanOrEqual(5);
      expect(value, name).not.toMatch(/[@\\=\p{Cc}]/u);
      expect(bytes(value), name).toBeLessThanOrEqual(64);
    }
  });
});
