import { createHash } from 'node:crypto';
import type { Database } from '../db/client.js';
import { registerInstance } from '../db/repositories/instances.js';
import { markSeriesReceiving } from '../db/repositories/series.js';
import type { QuarantineReason } from '../db/schema/index.js';
import { instanceContentDigest } from '../dicom/content-digest.js';
import { dicomJsonFromPart10 } from '../dicom/dicom-json.js';
import { decodeInstance } from '../dicom/pixel-data.js';
import { readInstanceHeader, type InstanceHeader } from '../dicom/read-instance.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { senderOf, type IngestSender } from './ingest-sender.js';
import { quarantineInstance, type QuarantineLimits } from './quarantine.js';
import type { Receiving } from './receiving.js';

/** nodus screens chest CT: every ingest route accepts instances of these modalities only. */
export const ACCEPTED_MODALITIES: ReadonlySet<string> = new Set(['CT']);

export interface IngestDeps {
  db: Database;
  blobs: BlobStore;
  /** Tells the series' workflow that an instance arrived (signal-with-start on `series:<uid>`). */
  notifySeries(seriesInstanceUid: string, sopInstanceUid: string): Promise<void>;
  /** Bounds of the kept-aside copies; {@link DEFAULT_QUARANTINE_LIMITS} unless given. */
  quarantineLimits?: QuarantineLimits | undefined;
  /** Receiving instances: the size limit per instance, the spool for large ones, the memory budget. */
  receiving?: Receiving | undefined;
  /** Called for every instance kept aside (for logs and audit). */
  onQuarantined?: ((event: QuarantineEvent) => void) | undefined;
}

/** An instance that was not registered but kept aside (or dropped at the quarantine's bounds). */
export interface QuarantineEvent {
  reason: QuarantineReason;
  source: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  kept: boolean;
}

export type StoreInstanceResult =
  | { outcome: 'stored' | 'duplicate'; sopInstanceUid: string; seriesInstanceUid: string }
  /** The SOPInstanceUID is already stored (in the sender's institutions) with other content; not stored. */
  | { outcome: 'conflict'; sopInstanceUid: string; seriesInstanceUid: string; keptAside: boolean }
  /**
   * Kept aside for an administrator, not registered: it belongs to another institution, or the sender is
   * unknown. The sender is answered exactly as for a stored instance, so it learns nothing.
   */
  | { outcome: 'quarantined'; sopInstanceUid: string; seriesInstanceUid: string };

/**
 * The one ingest path for every route (C-STORE, STOW-RS, folder import): validates the header and decodes
 * the pixel data (refusing unusable instances with the reason), registers the instance in the institution
 * its sender may store into and stores the file, and signals the series workflow. When it resolves the
 * instance is durable. Throws a DomainError INVALID_DICOM for input that is not a usable DICOM instance and
 * FORBIDDEN for an InstitutionName the sender may not store into.
 */
export async function storeInstance(
  deps: IngestDeps,
  bytes: Uint8Array,
  sender: IngestSender | string,
  /** The header, when the caller has already read it (STOW-RS checks the study first). */
  header: InstanceHeader = readInstanceHeader(bytes),
): Promise<StoreInstanceResult> {
  const from = senderOf(sender);
  if (!ACCEPTED_MODALITIES.has(header.modality)) {
    throw new DomainError('INVALID_DICOM', `modality ${header.modality} is not CT`, {
      context: { sopInstanceUid: header.sopInstanceUid, modality: header.modality },
    });
  }
  // Decode the pixel data once: truncated files and corrupt compressed data are refused here, per
  // instance, with the reason, rather than discovered later by reconstruction.
  const decoded = await decodeInstance(bytes);
  const contentDigest = instanceContentDigest(bytes, decoded.pixels);
  const sha256 = datasetSha256(bytes);
  const { studyInstanceUid: study, seriesInstanceUid: seriesUid, sopInstanceUid: sop } = header;
  const ids = { sopInstanceUid: sop, seriesInstanceUid: seriesUid };
  const keepAside = async (reason: QuarantineReason, senderInstitutionId: string | null) => {
    const { kept } = await quarantineInstance(deps, bytes, {
      reason,
      sopInstanceUid: sop,
      seriesInstanceUid: seriesUid,
      studyInstanceUid: study,
      senderInstitutionId,
      source: from.source,
      contentDigest,
    });
    deps.onQuarantined?.({ reason, source: from.source, kept, ...ids });
    return kept;
  };

  if (from.quarantineAll) {
    await keepAside(from.quarantineAll, null);
    return { outcome: 'quarantined', ...ids };
  }
  // Content-addressed: two different objects claiming one SOPInstanceUID never overwrite each other.
  const blobKey = instanceBlobKey(header, sha256);
  const registered = await registerInstance(
    deps.db,
    header,
    {
      blobKey,
      sha256,
      contentDigest,
      sizeBytes: bytes.byteLength,
      source: from.source,
      metadata: dicomJsonFromPart10(bytes),
    },
    from.binding ?? { kind: 'any' },
    () => deps.blobs.put(blobKey, bytes),
  );
  switch (registered.outcome) {
    case 'not-authorized':
      throw new DomainError(
        'FORBIDDEN',
        registered.institutionName === undefined
          ? 'the instance has no InstitutionName and the sender stores into more than one institution'
          : `InstitutionName ${JSON.stringify(registered.institutionName)} is not an institution this sender may store into`,
        { context: { reason: 'institution', sopInstanceUid: sop } },
      );
    case 'foreign':
      await keepAside('foreign-institution', registered.institutionId);
      return { outcome: 'quarantined', ...ids };
    case 'conflict':
      return {
        outcome: 'conflict',
        ...ids,
        keptAside: await keepAside('conflict', registered.institutionId),
      };
    case 'stored':
    case 'duplicate':
      await from.transfer?.joined(registered.seriesId);
      if (registered.outcome === 'stored') {
        await markSeriesReceiving(deps.db, registered.seriesId, header.imagesInAcquisition);
        await deps.notifySeries(seriesUid, sop);
      }
      return { outcome: registered.outcome, ...ids };
  }
}

/**
 * Where a stored instance's file lies in the blob store: by its UIDs and, so that two different objects
 * claiming one SOPInstanceUID never overwrite each other, the first 16 hex digits of its data set's SHA-256.
 */
export function instanceBlobKey(
  ids: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string },
  sha256: string,
): string {
  return `instances/${ids.studyInstanceUid}/${ids.seriesInstanceUid}/${ids.sopInstanceUid}.${sha256.slice(0, 16)}.dcm`;
}

/**
 * SHA-256 of the data set, without the preamble and File Meta Information (group 0002): the same instance
 * received over C-STORE, STOW-RS or from a file differs only in its file meta, and must count as the same.
 */
export function datasetSha256(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  // (0002,0000) FileMetaInformationGroupLength, explicit VR "UL", right after "DICM".
  if (
    bytes.length >= 144 &&
    view.getUint32(132, true) === 0x00000002 &&
    bytes[136] === 0x55 &&
    bytes[137] === 0x4c
  ) {
    start = Math.min(bytes.length, 144 + view.getUint32(140, true));
  }
  return createHash('sha256').update(bytes.subarray(start)).digest('hex');
}
