import type { Database } from '../db/client.js';
import { quarantineUsage, recordQuarantined, type QuarantineEntry } from '../db/repositories/quarantine.js';
import type { BlobStore } from '../storage/blob-store.js';

/** Bounds of the quarantine: copies kept per SOPInstanceUID and bytes in all. */
export interface QuarantineLimits {
  copiesPerInstance: number;
  maxBytes: number;
}

export const DEFAULT_QUARANTINE_LIMITS: QuarantineLimits = { copiesPerInstance: 3, maxBytes: 2 * 1024 ** 3 };

/**
 * Keeps an instance aside under `quarantine/` for an administrator, unless the same content of it is kept
 * already or a bound is reached (then it is dropped: a sender re-sending the same conflicting instance in
 * ever new encodings cannot fill the disk). Returns whether a copy is kept.
 */
export async function quarantineInstance(
  deps: { db: Database; blobs: BlobStore; quarantineLimits?: QuarantineLimits | undefined },
  bytes: Uint8Array,
  entry: Omit<QuarantineEntry, 'blobKey' | 'sizeBytes'>,
): Promise<{ kept: boolean; reason?: 'already-kept' | 'instance-limit' | 'full' }> {
  const limits = deps.quarantineLimits ?? DEFAULT_QUARANTINE_LIMITS;
  const usage = await quarantineUsage(deps.db, entry.sopInstanceUid);
  if (usage.alreadyKept.has(entry.contentDigest)) return { kept: true, reason: 'already-kept' };
  if (usage.copiesOfInstance >= limits.copiesPerInstance) return { kept: false, reason: 'instance-limit' };
  if (usage.totalBytes + bytes.byteLength > limits.maxBytes) return { kept: false, reason: 'full' };
  const blobKey = `quarantine/${entry.sopInstanceUid}.${entry.contentDigest.replace(/^bytes:/, '').slice(0, 16)}.dcm`;
  if (!(await deps.blobs.has(blobKey))) await deps.blobs.put(blobKey, bytes);
  await recordQuarantined(deps.db, { ...entry, blobKey, sizeBytes: bytes.byteLength });
  return { kept: true };
}
