import type { Database } from '../../db/client.js';
import { saveInstanceMetadata } from '../../db/repositories/dicomweb-query.js';
import { dicomJsonFromPart10, type DicomJsonDataset } from '../../dicom/dicom-json.js';
import type { BlobStore } from '../../storage/blob-store.js';

/** Files read at once while filling metadata. */
const READ_CONCURRENCY = 8;

/**
 * Fills `metadata` of instance rows stored before nodus kept it (read once from the file, then stored),
 * in place. Rows that have it are untouched.
 */
export async function fillMissingMetadata(
  deps: { db: Database; blobs: BlobStore },
  rows: { instance_id: string; blob_key: string; metadata: DicomJsonDataset | null }[],
): Promise<void> {
  const missing = rows.filter((row) => row.metadata === null);
  for (let n = 0; n < missing.length; n += READ_CONCURRENCY) {
    await Promise.all(
      missing.slice(n, n + READ_CONCURRENCY).map(async (row) => {
        row.metadata = dicomJsonFromPart10(await deps.blobs.get(row.blob_key));
        await saveInstanceMetadata(deps.db, row.instance_id, row.metadata);
      }),
    );
  }
}
