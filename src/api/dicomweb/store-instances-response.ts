import type { FailureReason } from './failure-reasons.js';

/** What became of one part of a Store Transaction. */
export type PartOutcome =
  | {
      status: 'stored';
      /** `stored` for a new instance, `duplicate` for one already stored with the same bytes. */
      outcome: 'stored' | 'duplicate';
      sopClassUid: string;
      sopInstanceUid: string;
    }
  | {
      status: 'failed';
      /** Undefined where the part is not readable far enough to name its instance. */
      sopClassUid: string | undefined;
      sopInstanceUid: string | undefined;
      failureReason: FailureReason;
      /** Why, for logs; not part of the DICOM response. */
      message: string;
    };

/** One attribute of the DICOM JSON Model (PS3.18 §F.2.2); `Value` absent for an empty attribute. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
}

/** A data set in the DICOM JSON Model: attributes keyed by 8-hex-digit tag, in ascending tag order. */
export type DicomJsonDataset = Record<string, DicomJsonAttribute>;

const TAG = {
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  RetrieveURL: '00081190',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
} as const;

/**
 * The Store Instances Response Module (PS3.18 Annex I, Table I.1-1) as DICOM JSON, items in part order.
 * Retrieve URL (0008,1190) is Type 2 and nodus has no Retrieve Transaction yet, so it is sent empty,
 * at the top level and in each Referenced SOP Sequence item. A failed part that is not readable far
 * enough to name its instance gets empty Referenced SOP Class/Instance UIDs.
 */
export function storeInstancesResponse(outcomes: readonly PartOutcome[]): DicomJsonDataset {
  const referenced: DicomJsonDataset[] = [];
  const failed: DicomJsonDataset[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'stored') {
      referenced.push({
        [TAG.ReferencedSOPClassUID]: ui(outcome.sopClassUid),
        [TAG.ReferencedSOPInstanceUID]: ui(outcome.sopInstanceUid),
        [TAG.RetrieveURL]: { vr: 'UR' },
      });
    } else {
      failed.push({
        [TAG.ReferencedSOPClassUID]: ui(outcome.sopClassUid),
        [TAG.ReferencedSOPInstanceUID]: ui(outcome.sopInstanceUid),
        [TAG.FailureReason]: { vr: 'US', Value: [outcome.failureReason] },
      });
    }
  }
  return {
    [TAG.RetrieveURL]: { vr: 'UR' },
    ...(failed.length > 0 && { [TAG.FailedSOPSequence]: { vr: 'SQ', Value: failed } }),
    ...(referenced.length > 0 && { [TAG.ReferencedSOPSequence]: { vr: 'SQ', Value: referenced } }),
  };
}

/**
 * HTTP status of a Store Transaction whose request was well formed (PS3.18 §10.5.3.1, Table 10.5.3-1):
 * 200 when every instance was stored, 202 when some were and others failed, 409 when none was.
 */
export function storeTransactionStatus(outcomes: readonly PartOutcome[]): 200 | 202 | 409 {
  const stored = outcomes.filter((outcome) => outcome.status === 'stored').length;
  if (stored === 0) return 409;
  return stored === outcomes.length ? 200 : 202;
}

function ui(value: string | undefined): DicomJsonAttribute {
  return value === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [value] };
}
