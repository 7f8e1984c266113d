import { describe, expect, it } from 'vitest';
import { readMediaStorageUids } from '../../../src/dicom/part10-meta.js';
import { syntheticCtInstance } from '../../fixtures/synthetic-instance.js';

describe('readMediaStorageUids', () => {
  const bytes = syntheticCtInstance({
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: '1.2.3.4',
    sopInstanceUid: '1.2.3.4.5',
  });

  it('reads the SOP Class and Instance UIDs of the File Meta Information', () => {
    expect(readMediaStorageUids(bytes)).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3.4.5',
    });
  });

  it('reads a file whose data set is cut off after the meta information', () => {
    expect(readMediaStorageUids(bytes.subarray(0, 200)).sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.2');
  });

  it.each([
    ['not DICOM', new TextEncoder().encode('hello world')],
    ['empty', new Uint8Array()],
    ['no DICM magic', new Uint8Array(400)],
    ['meta information cut off', bytes.subarray(0, 140)],
  ])('finds nothing in %s', (_name, input) => {
    expect(readMediaStorageUids(input)).toEqual({ sopClassUid: undefined, sopInstanceUid: undefined });
  });
});
