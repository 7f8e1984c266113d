import { describe, expect, it } from 'vitest';
import { isDicomUid } from '../../../src/shared/dicom-uid.js';
import { seriesWorkflowId } from '../../../src/shared/workflow-ids.js';

describe('isDicomUid', () => {
  it.each([
    ['1.2.840.10008.1.2.1', true],
    ['1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192', true],
    ['2.25.0', true],
    ['1', false],
    ['1.02.3', false],
    ['1..2', false],
    ['1.2.', false],
    ['1.2.a', false],
    ['../../etc/passwd', false],
    [`1.${'2'.repeat(63)}`, false],
  ])('%s -> %s', (uid, valid) => {
    expect(isDicomUid(uid)).toBe(valid);
  });
});

describe('seriesWorkflowId', () => {
  it('is the business key of the series', () => {
    expect(seriesWorkflowId('1.2.3')).toBe('series:1.2.3');
  });
});
