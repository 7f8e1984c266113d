import { describe, expect, it } from 'vitest';
import { institutionCode } from '../../../src/db/repositories/instances.js';
import { isPart10 } from '../../../src/dicom/part10-files.js';
import { syntheticCtInstance } from '../../fixtures/synthetic-instance.js';

describe('isPart10', () => {
  it('recognises the DICM prefix after the 128-byte preamble', () => {
    expect(
      isPart10(
        syntheticCtInstance({
          studyInstanceUid: '2.25.1',
          seriesInstanceUid: '2.25.2',
          sopInstanceUid: '2.25.3',
        }),
      ),
    ).toBe(true);
    expect(isPart10(new TextEncoder().encode('<?xml version="1.0"?>'))).toBe(false);
    expect(isPart10(new Uint8Array(131))).toBe(false);
  });
});

describe('institutionCode', () => {
  it.each([
    ['Synthetic Hospital', 'SYNTHETIC-HOSPITAL'],
    ["  St. Mary's  ", 'ST-MARY-S'],
    [undefined, 'UNKNOWN'],
    ['***', 'UNKNOWN'],
  ])('%s -> %s', (name, code) => {
    expect(institutionCode(name)).toBe(code);
  });
});
