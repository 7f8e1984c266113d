import type { SeriesReception } from '../db/repositories/series.js';
import type { QualityIssue } from '../volume/quality-issue.js';

/**
 * A transfer counted as open whose last instance is older than this has a dead sender or a dead receiver
 * (a receiver aborts an association after 60 s without a PDU): the series is no longer being received.
 */
export const STALE_TRANSFER_MS = 120_000;

/** Whether instances of the series are still on their way: a transfer is open and not stale. */
export function stillReceiving(reception: SeriesReception, now: Date = new Date()): boolean {
  if (reception.openTransfers <= 0) return false;
  const last = reception.lastReceivedAt?.getTime() ?? 0;
  return now.getTime() - last < STALE_TRANSFER_MS;
}

/**
 * Why a received series is not a complete exam yet, from how it was received (the slice stack's gaps are
 * found by reconstruction): fewer instances than the modality announced, or a transfer that was cut off
 * (an association that ended without A-RELEASE, a STOW-RS body that broke off, a sender gone silent).
 * Each is an `incomplete` issue: Lung-RADS 0 with the reason while nodus waits for the rest.
 */
export function receptionIssues(reception: SeriesReception, now: Date = new Date()): QualityIssue[] {
  const issues: QualityIssue[] = [];
  const { instanceCount, announcedInstances } = reception;
  if (announcedInstances !== null && instanceCount < announcedInstances) {
    issues.push({
      code: 'fewer-than-announced',
      severity: 'incomplete',
      message: `${instanceCount} of the ${announcedInstances} images the modality announced (ImagesInAcquisition) have arrived; waiting for the rest`,
    });
  }
  const staleOpen = reception.openTransfers > 0 && !stillReceiving(reception, now);
  if (reception.transferInterrupted || staleOpen) {
    issues.push({
      code: 'transfer-interrupted',
      severity: 'incomplete',
      message: `the transfer of this series was cut off after ${instanceCount} instance(s) (the sender did not end it); waiting for the rest`,
    });
  }
  return issues;
}
