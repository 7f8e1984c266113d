import { DomainError } from '../../shared/errors.js';
import type { StoreInstanceResult } from '../store-instance.js';

/**
 * C-STORE response statuses nodus sends (PS3.4 §B.2.3, PS3.7 §C):
 * - 0x0000 Success: the instance is durable (blob fsynced, database row committed); also for an exact repeat.
 * - 0x0111 Duplicate SOP Instance (failure): the SOPInstanceUID is already stored with other content; the
 *   new file is kept aside for review but not registered. Resending the same file will not help.
 * - 0x0122 SOP Class Not Supported (refused): the request names a non-CT SOP class.
 * - 0xC000 Cannot Understand (error): the data set is not a usable CT instance (unreadable, missing UIDs).
 * - 0xA700 Out of Resources (refused): nodus could not store it (database, disk): the sender may retry.
 */
export const STORE_STATUS = {
  success: 0x0000,
  duplicateSopInstance: 0x0111,
  sopClassNotSupported: 0x0122,
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
      return { status: STORE_STATUS.success };
    case 'conflict':
      return {
        status: STORE_STATUS.duplicateSopInstance,
        errorComment: errorComment('SOPInstanceUID already stored with other content'),
      };
  }
}

/** The response to a failed store; `fault` says whether it is nodus' fault (to log as an error). */
export function statusOfError(error: unknown): StoreStatus & { fault: boolean } {
  if (error instanceof DomainError && error.code === 'INVALID_DICOM') {
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
