import { createHash } from 'node:crypto';
import type { Database } from '../db/client.js';
import { registerInstance } from '../db/repositories/instances.js';
import { decodeInstance } from '../dicom/pixel-data.js';
import { readInstanceHeader, type InstanceHeader } from '../dicom/read-instance.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';

/** nodus screens chest CT: every ingest route accepts instances of these modalities only. */
export const ACCEPTED_MODALITIES: ReadonlySet<string> = new Set(['CT']);

export interface IngestDeps {
  db: Database;
  blobs: BlobStore;
  /** Tells the series' workflow that an instance arrived (signal-with-start on `series:<uid>`). */
  notifySeries(seriesInstanceUid: string, sopInstanceUid: string): Promise<void>;
}

export type StoreInstanceResult =
  | { outcome: 'stored' | 'duplicate'; sopInstanceUid: string; seriesInstanceUid: string }
  | {
      outcome: 'conflict';
      sopInstanceUid: string;
      seriesInstanceUid: string;
      /** Where the differing file was kept aside (the stored instance keeps its own blob). */
      conflictBlobKey: string;
    };

/**
 * The one ingest path for every route (C-STORE, STOW-RS, folder import): validates the header and decodes
 * the pixel data (refusing unusable instances with the reason), stores the
 * file, registers it, and signals the series workflow. When it resolves the instance is durable.
 * Throws a DomainError INVALID_DICOM for input that is not a usable DICOM instance.
 */
export async function storeInstance(
  deps: IngestDeps,
  bytes: Uint8Array,
  source: string,
  /** The header, when the caller has already read it (STOW-RS checks the study first). */
  header: InstanceHeader = readInstanceHeader(bytes),
): Promise<StoreInstanceResult> {
  if (!ACCEPTED_MODALITIES.has(header.modality)) {
    throw new DomainError('INVALID_DICOM', `modality ${header.modality} is not CT`, {
      context: { sopInstanceUid: header.sopInstanceUid, modality: header.modality },
    });
  }
  // Decode the pixel data once: truncated files and corrupt compressed data are refused here, per
  // instance, with the reason, rather than discovered later by reconstruction.
  await decodeInstance(bytes);
  const sha256 = datasetSha256(bytes);
  const { studyInstanceUid: study, seriesInstanceUid: seriesUid, sopInstanceUid: sop } = header;
  // Content-addressed: two different objects claiming one SOPInstanceUID never overwrite each other, even
  // when they arrive at the same moment; the database decides which one is the instance.
  const blobKey = `instances/${study}/${seriesUid}/${sop}.${sha256.slice(0, 16)}.dcm`;

  if (!(await deps.blobs.has(blobKey))) await deps.blobs.put(blobKey, bytes);
  const registered = await registerInstance(deps.db, header, {
    blobKey,
    sha256,
    sizeBytes: bytes.byteLength,
    source,
  });

  if (registered.outcome === 'conflict') {
    return {
      outcome: 'conflict',
      sopInstanceUid: sop,
      seriesInstanceUid: seriesUid,
      conflictBlobKey: blobKey,
    };
  }
  await deps.notifySeries(seriesUid, sop);
  return { outcome: registered.outcome, sopInstanceUid: sop, seriesInstanceUid: seriesUid };
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
