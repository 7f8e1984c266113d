import { describe, expect, it } from 'vitest';
import { FAILURE_REASON } from '../../../../src/api/dicomweb/failure-reasons.js';
import {
  storeInstancesResponse,
  storeTransactionStatus,
  type PartOutcome,
} from '../../../../src/api/dicomweb/store-instances-response.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const stored = (sop: string, study = '1.9'): PartOutcome => ({
  status: 'stored',
  outcome: 'stored',
  sopClassUid: CT,
  sopInstanceUid: sop,
  studyInstanceUid: study,
  seriesInstanceUid: `${study}.1`,
});
const failed = (sop: string | undefined): PartOutcome => ({
  status: 'failed',
  sopClassUid: sop === undefined ? undefined : CT,
  sopInstanceUid: sop,
  failureReason: FAILURE_REASON.cannotUnderstand,
  message: 'test',
});

describe('storeTransactionStatus', () => {
  it.each([
    ['all stored', [stored('1.1'), { ...stored('1.2'), outcome: 'duplicate' } as PartOutcome], 200],
    ['some stored, some failed', [stored('1.1'), failed(undefined)], 202],
    ['none stored', [failed('1.1'), failed(undefined)], 409],
  ] as const)('%s -> %i', (_name, outcomes, status) => {
    expect(storeTransactionStatus(outcomes)).toBe(status);
  });
});

describe('storeInstancesResponse', () => {
  it('lists stored and failed instances in DICOM JSON, in part order', () => {
    expect(storeInstancesResponse([stored('1.1'), failed('1.2'), failed(undefined), stored('1.3')])).toEqual({
      '00081190': { vr: 'UR' },
      '00081198': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: [CT] },
            '00081155': { vr: 'UI', Value: ['1.2'] },
            '00081197': { vr: 'US', Value: [0xc000] },
          },
          { '00081150': { vr: 'UI' }, '00081155': { vr: 'UI' }, '00081197': { vr: 'US', Value: [49152] } },
        ],
      },
      '00081199': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: [CT] },
            '00081155': { vr: 'UI', Value: ['1.1'] },
            '00081190': { vr: 'UR' },
          },
          {
            '00081150': { vr: 'UI', Value: [CT] },
            '00081155': { vr: 'UI', Value: ['1.3'] },
            '00081190': { vr: 'UR' },
          },
        ],
      },
    });
  });

  it('carries the WADO-RS RetrieveURLs: per instance, and the study when all are of one', () => {
    const base = 'https://pacs.example.org/nodus';
    const one = storeInstancesResponse([stored('1.1'), failed('1.2')], base);
    expect(one['00081190']).toEqual({ vr: 'UR', Value: [`${base}/dicomweb/studies/1.9`] });
    const item = (one['00081199']!.Value as Record<string, { Value?: unknown[] }>[])[0]!;
    expect(item['00081190']!.Value).toEqual([`${base}/dicomweb/studies/1.9/series/1.9.1/instances/1.1`]);
    const two = storeInstancesResponse([stored('1.1'), stored('2.1', '2.9')], base);
    expect(two['00081190']).toEqual({ vr: 'UR' });
  });

  it('leaves out a sequence that would be empty', () => {
    expect(Object.keys(storeInstancesResponse([stored('1.1')]))).toEqual(['00081190', '00081199']);
    expect(Object.keys(storeInstancesResponse([failed('1.1')]))).toEqual(['00081190', '00081198']);
  });
});
