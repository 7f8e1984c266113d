import { createHash } from 'node:crypto';
import type { CohortDefinition } from '../cohort-definition.js';
import type { ExportFile } from './export-files.js';
import { inOrder } from './in-order.js';

export const EXPORT_MANIFEST_FORMAT = 'nodus-export/1';
/** The manifest's own path in every export; it lists every other file. */
export const MANIFEST_PATH = 'manifest.json';

export interface ManifestEntry {
  path: string;
  bytes: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
}

/** The manifest.json of a snapshot's export: what was frozen and the content hash of every file. */
export interface ExportManifest {
  format: typeof EXPORT_MANIFEST_FORMAT;
  snapshotId: string;
  project: string;
  cohort: string;
  definition: CohortDefinition;
  frozenAt: string;
  studies: number;
  nodules: number;
  /** The de-identification applied to DICOM files and tables. */
  deidentification: string;
  /**
   * How the .gz files were compressed (node's zlib, default level 6): their hashes hold for this zlib; a later
   * zlib that compresses differently makes the export fail its check rather than differ silently.
   */
  compression: { format: 'gzip'; level: number; zlib: string };
  /** Every member study (pseudonyms), the detector of its AI findings and its labels' values. */
  members: ManifestMember[];
  files: ManifestEntry[];
}

export interface ManifestMember {
  subject: string;
  study: string;
  series: string;
  detector: string | null;
  nodules: number;
  labels: { vocabulary: string; nodule: number | null; value: string | number; source: string }[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Makes every file once (two at a time) and records its size and hash, in order. */
export async function hashExportFiles(
  files: Iterable<ExportFile>,
  onProgress?: (filesDone: number) => void | Promise<void>,
): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for await (const { file, bytes } of inOrder(files)) {
    entries.push({ path: file.path, bytes: bytes.byteLength, sha256: sha256Hex(bytes) });
    await onProgress?.(entries.length);
  }
  return entries;
}

/** Canonical bytes of a manifest (2-space JSON, keys in declaration order, final newline). */
export function encodeManifest(manifest: ExportManifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
}
