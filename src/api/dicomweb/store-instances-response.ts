import type { FailureReason } from './failure-reasons.js';

/** What became of one part of a Store Transaction. */
export type PartOutcome =
  | {
      status: 'stored';
      /** `stored` for a new instance, `duplicate` for one already stored with the same bytes. */
      outcome: 'stored' | 'duplicate';
      sopClassUid: string;
      sopInstanceUid: string;
      /** Where the instance is (quarantined ones: where the sender placed it), for its RetrieveURL. */
      studyInstanceUid: string;
      seriesInstanceUid: string;
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

import type { DicomJsonDataset, DicomJsonElement } from '../../dicom/dicom-json.js';
import { dicomwebUrls } from './retrieve-urls.js';

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
 * Retrieve URL (0008,1190): the WADO-RS URL of each stored instance under `baseUrl`, and at the top level
 * that of the study when every stored instance belongs to one (empty otherwise, or without `baseUrl`).
 * A failed part that is not readable far enough to name its instance gets empty Referenced SOP Class/Instance UIDs.
 */
export function storeInstancesResponse(outcomes: readonly PartOutcome[], baseUrl?: string): DicomJsonDataset {
  const urls = baseUrl === undefined ? undefined : dicomwebUrls(baseUrl);
  const studies = new Set<string>();
  const referenced: DicomJsonDataset[] = [];
  const failed: DicomJsonDataset[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'stored') {
      referenced.push({
        [TAG.ReferencedSOPClassUID]: ui(outcome.sopClassUid),
        [TAG.ReferencedSOPInstanceUID]: ui(outcome.sopInstanceUid),
        [TAG.RetrieveURL]: url(
          urls?.instance(outcome.studyInstanceUid, outcome.seriesInstanceUid, outcome.sopInstanceUid),
        ),
      });
      studies.add(outcome.studyInstanceUid);
    } else {
      failed.push({
        [TAG.ReferencedSOPClassUID]: ui(outcome.sopClassUid),
        [TAG.ReferencedSOPInstanceUID]: ui(outcome.sopInstanceUid),
        [TAG.FailureReason]: { vr: 'US', Value: [outcome.failureReason] },
      });
    }
  }
  const [onlyStudy] = studies.size === 1 ? [...studies] : [];
  return {
    [TAG.RetrieveURL]: url(onlyStudy === undefined ? undefined : urls?.study(onlyStudy)),
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

function url(value: string | undefined): DicomJsonElement {
  return value === undefined ? { vr: 'UR' } : { vr: 'UR', Value: [value] };
}

function ui(value: string | undefined): DicomJsonElement {
  return value === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [value] };
}
