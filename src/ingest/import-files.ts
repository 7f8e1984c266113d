import fs from 'node:fs/promises';
import { isPart10, listFiles } from '../dicom/part10-files.js';
import { DomainError } from '../shared/errors.js';
import { storeInstance, type IngestDeps } from './store-instance.js';

export interface ImportSummary {
  files: number;
  stored: number;
  duplicates: number;
  /** Instances whose SOPInstanceUID is already stored with other content (kept aside, within bounds). */
  conflicts: { file: string; sopInstanceUid: string; keptAside: boolean }[];
  /** Instances kept aside for an administrator instead of registered (another institution's). */
  quarantined: number;
  /** DICOM files that cannot be used, with the reason. */
  rejected: { file: string; reason: string }[];
  /** Files that are not DICOM Part 10 at all (no "DICM" prefix), e.g. reader XML next to the slices. */
  skipped: string[];
  seriesInstanceUids: string[];
}

/** Imports files and folders through the ingest service; a bad file is reported and skipped, never fatal. */
export async function importFiles(
  deps: IngestDeps,
  paths: readonly string[],
  onProgress?: (done: number, total: number) => void,
): Promise<ImportSummary> {
  const files = await listFiles(paths);
  const summary: ImportSummary = {
    files: files.length,
    stored: 0,
    duplicates: 0,
    conflicts: [],
    rejected: [],
    skipped: [],
    quarantined: 0,
    seriesInstanceUids: [],
  };
  const seriesSeen = new Set<string>();
  for (const [index, file] of files.entries()) {
    const bytes = await fs.readFile(file);
    if (!isPart10(bytes)) {
      summary.skipped.push(file);
      onProgress?.(index + 1, files.length);
      continue;
    }
    try {
      const result = await storeInstance(deps, bytes, `import:${file}`);
      seriesSeen.add(result.seriesInstanceUid);
      if (result.outcome === 'conflict') {
        summary.conflicts.push({ file, sopInstanceUid: result.sopInstanceUid, keptAside: result.keptAside });
      } else if (result.outcome === 'quarantined') summary.quarantined += 1;
      else if (result.outcome === 'stored') summary.stored += 1;
      else summary.duplicates += 1;
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'INVALID_DICOM') throw error;
      summary.rejected.push({ file, reason: error.message });
    }
    onProgress?.(index + 1, files.length);
  }
  summary.seriesInstanceUids = [...seriesSeen];
  return summary;
}
