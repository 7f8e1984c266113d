import { Zip, ZipPassThrough } from 'fflate';
import type { BlobStore } from '../storage/blob-store.js';

/** One DICOM file of a film's download: where it goes in the archive and which stored blob it is. */
export interface ArchiveEntry {
  path: string;
  blobKey: string;
}

/**
 * A ZIP archive of the film's DICOM files, streamed: each file is read from the blob store when the archive
 * reaches it and stored as is (DICOM pixel data gains little from deflate), so memory holds one file at a time.
 */
export function filmArchive(blobs: BlobStore, entries: readonly ArchiveEntry[]): ReadableStream<Uint8Array> {
  let next = 0;
  let zip: Zip;
  let pending: Uint8Array[] = [];
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start() {
      zip = new Zip((error, chunk, final) => {
        if (error) throw error;
        pending.push(chunk);
        if (final) finished = true;
      });
      if (entries.length === 0) zip.end();
    },
    async pull(controller) {
      while (pending.length === 0 && !finished) {
        const entry = entries[next++];
        if (!entry) {
          zip.end();
          break;
        }
        const file = new ZipPassThrough(entry.path);
        zip.add(file);
        file.push(await blobs.get(entry.blobKey), true);
        if (next === entries.length) zip.end();
      }
      for (const chunk of pending) controller.enqueue(chunk);
      pending = [];
      if (finished) controller.close();
    },
  });
}
