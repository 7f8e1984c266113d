import { readInstanceHeader, type InstanceHeader } from '../../dicom/read-instance.js';
import { ACCEPTED_MODALITIES, storeInstance, type IngestDeps } from '../../ingest/store-instance.js';
import type { Logger } from '../../logging/logger.js';
import { DomainError } from '../../shared/errors.js';
import { FAILURE_REASON, type FailureReason } from './failure-reasons.js';
import type { IngestSender } from '../../ingest/ingest-sender.js';
import { parseMediaType, type BodyPart } from './multipart-related.js';
import type { StowPart } from './stow-body.js';
import { readMediaStorageUids } from '../../dicom/part10-meta.js';
import type { PartOutcome } from './store-instances-response.js';

export interface StorePartsOptions {
  /** The study of the request URL (`/studies/{uid}`): instances of other studies are rejected. */
  studyInstanceUid?: string;
  /** Who sends, into which institutions; the transfer is this request. */
  sender: IngestSender;
  logger: Logger;
}

/** What became of a Store Transaction: each part's outcome, and the fault that cut the body short, if any. */
export interface StoredParts {
  outcomes: PartOutcome[];
  /** A body that broke off, was malformed or over a limit after `outcomes.length` parts. */
  fault?: unknown;
}

/**
 * Stores every part of a Store Transaction as it arrives, through the one ingest path (`storeInstance`),
 * and says what became of each, in part order. A part that fails never affects the others: every error,
 * expected or not, becomes that part's failure outcome. Parts are stored one after the other: storing
 * several at once measured no faster (each part fsyncs its blob and updates the same series row), and one
 * at a time never races two parts with the same SOPInstanceUID. A fault of the body itself stops reading
 * and is returned with the outcomes of the parts before it (those are stored).
 */
export async function storeParts(
  deps: IngestDeps,
  parts: AsyncIterable<StowPart>,
  options: StorePartsOptions,
): Promise<StoredParts> {
  const outcomes: PartOutcome[] = [];
  try {
    for await (const part of parts) {
      const outcome = await storeReceivedPart(deps, part, options);
      if (outcome.status === 'failed') {
        options.logger.warn(
          {
            part: outcomes.length + 1,
            failureReason: outcome.failureReason,
            sopInstanceUid: outcome.sopInstanceUid,
          },
          `STOW-RS part not stored: ${outcome.message}`,
        );
      }
      outcomes.push(outcome);
    }
  } catch (fault) {
    return { outcomes, fault };
  }
  return { outcomes };
}

async function storeReceivedPart(deps: IngestDeps, part: StowPart, options: StorePartsOptions) {
  let loaded: { bytes: Buffer; release: () => void };
  try {
    loaded = await part.instance.load();
  } catch (error) {
    const tooLarge = error instanceof DomainError && error.code === 'PAYLOAD_TOO_LARGE';
    return failed(
      tooLarge ? FAILURE_REASON.outOfResources : FAILURE_REASON.processingFailure,
      { sopClassUid: undefined, sopInstanceUid: undefined },
      messageOf(error),
    );
  }
  try {
    return await storePart(deps, { headers: part.headers, body: loaded.bytes }, options);
  } finally {
    loaded.release();
  }
}

async function storePart(deps: IngestDeps, part: BodyPart, options: StorePartsOptions): Promise<PartOutcome> {
  // A part without Content-Type has the root type of the request, application/dicom.
  const declared = part.headers['content-type'];
  const mediaType = declared === undefined ? 'application/dicom' : parseMediaType(declared)?.essence;
  if (mediaType !== 'application/dicom') {
    return failed(
      FAILURE_REASON.cannotUnderstand,
      readMediaStorageUids(part.body),
      `the part's Content-Type is ${declared ?? 'absent'}, not application/dicom (a DICOM Part 10 file)`,
    );
  }

  let header: InstanceHeader;
  try {
    header = readInstanceHeader(part.body);
  } catch (error) {
    return failedToRead(error, part.body);
  }
  const ids = { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid };
  if (options.studyInstanceUid !== undefined && header.studyInstanceUid !== options.studyInstanceUid) {
    return failed(
      FAILURE_REASON.studyInstanceUidMismatch,
      ids,
      `StudyInstanceUID ${header.studyInstanceUid} is not the study of the request, ${options.studyInstanceUid}`,
    );
  }
  if (!ACCEPTED_MODALITIES.has(header.modality)) {
    return failed(
      FAILURE_REASON.sopClassNotSupported,
      ids,
      `modality ${header.modality} is not accepted (only ${[...ACCEPTED_MODALITIES].join(', ')})`,
    );
  }

  const where = { studyInstanceUid: header.studyInstanceUid, seriesInstanceUid: header.seriesInstanceUid };
  try {
    const result = await storeInstance(deps, part.body, options.sender, header);
    switch (result.outcome) {
      case 'conflict':
        return failed(
          FAILURE_REASON.alreadyStoredWithOtherContent,
          ids,
          'SOPInstanceUID already stored with other content',
        );
      case 'quarantined':
        // Answered as a stored instance: the sender may not learn what another institution holds.
        return { status: 'stored', outcome: 'stored', ...ids, ...where };
      case 'stored':
      case 'duplicate':
        return { status: 'stored', outcome: result.outcome, ...ids, ...where };
    }
  } catch (error) {
    if (error instanceof DomainError && error.code === 'INVALID_DICOM') return failedToRead(error, part.body);
    if (error instanceof DomainError && error.code === 'FORBIDDEN') {
      return failed(FAILURE_REASON.notAuthorized, ids, error.message);
    }
    options.logger.error({ err: error, sopInstanceUid: ids.sopInstanceUid }, 'STOW-RS part failed to store');
    const reason =
      (error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC'
        ? FAILURE_REASON.outOfResources
        : FAILURE_REASON.processingFailure;
    return failed(reason, ids, `storing failed: ${messageOf(error)}`);
  }
}

/** A part the header reader rejected: a missing or invalid required attribute, or not DICOM at all. */
function failedToRead(error: unknown, bytes: Uint8Array): PartOutcome {
  if (!(error instanceof DomainError) || error.code !== 'INVALID_DICOM') {
    return failed(
      FAILURE_REASON.processingFailure,
      readMediaStorageUids(bytes),
      `reading the header failed: ${messageOf(error)}`,
    );
  }
  const reason =
    error.context.attribute === undefined
      ? FAILURE_REASON.cannotUnderstand
      : FAILURE_REASON.dataSetDoesNotMatchSopClass;
  return failed(reason, readMediaStorageUids(bytes), error.message);
}

function failed(
  failureReason: FailureReason,
  ids: { sopClassUid: string | undefined; sopInstanceUid: string | undefined },
  message: string,
): PartOutcome {
  return {
    status: 'failed',
    failureReason,
    message,
    sopClassUid: ids.sopClassUid,
    sopInstanceUid: ids.sopInstanceUid,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
