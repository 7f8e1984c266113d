import fs from 'node:fs/promises';
import path from 'node:path';
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

/** Lists regular files under the given files and folders (recursively), sorted for a stable order. */
export async function listFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const visit = async (entry: string): Promise<void> => {
    const stat = await fs.stat(entry);
    if (stat.isDirectory()) {
      const children = await fs.readdir(entry);
      for (const child of children.sort()) await visit(path.join(entry, child));
    } else if (stat.isFile()) {
      found.push(entry);
    }
  };
  for (const p of paths) await visit(path.resolve(p));
  return found;
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

/** A DICOM Part 10 file has a 128-byte preamble followed by "DICM" (PS3.10 §7.1). */
export function isPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}
