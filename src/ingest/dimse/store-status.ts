import { DomainError } from '../../shared/errors.js';
import type { StoreInstanceResult } from '../store-instance.js';

/**
 * C-STORE response statuses nodus sends (PS3.4 §B.2.3 Table B.2-1, the only ones storage SCUs such as
 * DCMTK's storescu and Orthanc know):
 * - 0x0000 Success: the instance is durable (blob fsynced, database row committed); also for a repeat of the
 *   same content in any encoding, and for an instance kept aside because it belongs to another institution
 *   (the sender learns nothing it could not learn by storing a new instance).
 * - 0xC111 Error, Cannot Understand (Cxxx; the subcode is nodus's, in its conformance statement): the
 *   SOPInstanceUID is already stored, in the sender's institution, with other content. The stored instance
 *   stays; the new one is kept aside for review (bounded) but not registered. Resending it will not help.
 * - 0x0122 SOP Class Not Supported (refused): the request names a non-CT SOP class.
 * - 0xA900 Data Set Does Not Match SOP Class (error): the data set is another SOP instance (or class) than
 *   the command's Affected SOP Instance (Class) UID.
 * - 0xC000 Cannot Understand (error): the data set is not a usable CT instance (unreadable, missing UIDs).
 * - 0xA700 Out of Resources (refused): nodus could not store it (database, disk; the sender may retry), or
 *   the data set is over the size limits (NODUS_MAX_INSTANCE_BYTES, NODUS_INGEST_MEMORY_BYTES).
 */
export const STORE_STATUS = {
  success: 0x0000,
  alreadyStoredWithOtherContent: 0xc111,
  sopClassNotSupported: 0x0122,
  dataSetDoesNotMatchSopClass: 0xa900,
  cannotUnderstand: 0xc000,
  outOfResources: 0xa700,
} as const;

export interface StoreStatus {
  status: number;
  /** For (0000,0902) Error Comment: LO, at most 64 characters. */
  errorComment?: string;
}

/** The response to a stored instance. */
export function statusOfResult(result: StoreInstanceResult): StoreStatus {
  switch (result.outcome) {
    case 'stored':
    case 'duplicate':
    case 'quarantined':
      return { status: STORE_STATUS.success };
    case 'conflict':
      return {
        status: STORE_STATUS.alreadyStoredWithOtherContent,
        errorComment: errorComment('SOP Instance UID already stored with other content'),
      };
  }
}

/** The response to a failed store; `fault` says whether it is nodus' fault (to log as an error). */
export function statusOfError(error: unknown): StoreStatus & { fault: boolean } {
  if (error instanceof DomainError && error.code === 'INVALID_DICOM') {
    return { status: STORE_STATUS.cannotUnderstand, errorComment: errorComment(error.message), fault: false };
  }
  if (error instanceof DomainError && error.code === 'PAYLOAD_TOO_LARGE') {
    return { status: STORE_STATUS.outOfResources, errorComment: errorComment(error.message), fault: false };
  }
  if (error instanceof DomainError && error.code === 'FORBIDDEN') {
    return { status: STORE_STATUS.cannotUnderstand, errorComment: errorComment(error.message), fault: false };
  }
  return {
    status: STORE_STATUS.outOfResources,
    errorComment: 'nodus could not store the instance',
    fault: true,
  };
}

/** A valid LO value: printable ASCII without backslash, at most 64 characters. */
export function errorComment(message: string): string {
  return message
    .replace(/[^\x20-\x5b\x5d-\x7e]+/g, ' ')
    .trim()
    .slice(0, 64);
}
