import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExportFile } from './export-files.js';
import { encodeManifest, MANIFEST_PATH, type ExportManifest, type ManifestEntry } from './export-manifest.js';
import { alignedWithManifest, madeAndVerified } from './verified-files.js';

export interface FolderExportProgress {
  filesDone: number;
  filesTotal: number;
  /** Files already in the folder with the frozen size and hash (an earlier, interrupted export). */
  filesKept: number;
  bytesWritten: number;
}

/**
 * Writes a snapshot's export into `outDir`, checked file by file against the frozen manifest. Resumable:
 * a file already there with the manifest's size and SHA-256 is kept without being made again; each new file
 * is written under a temporary name and renamed, so a crash leaves no half-written file under a real name.
 * manifest.json is written last: its presence means the export is complete.
 */
export async function writeExportFolder(
  files: Iterable<ExportFile>,
  manifest: ExportManifest,
  outDir: string,
  onProgress?: (progress: FolderExportProgress) => void | Promise<void>,
): Promise<FolderExportProgress> {
  const progress: FolderExportProgress = {
    filesDone: 0,
    filesTotal: manifest.files.length,
    filesKept: 0,
    bytesWritten: 0,
  };
  await fs.mkdir(outDir, { recursive: true });
  const missing: (ExportFile & { entry: ManifestEntry })[] = [];
  for (const file of alignedWithManifest(files, manifest)) {
    if (await alreadyWritten(path.join(outDir, file.path), file.entry)) {
      progress.filesKept += 1;
      progress.filesDone += 1;
    } else {
      missing.push(file);
    }
  }
  for await (const { file, bytes } of madeAndVerified(missing, manifest)) {
    await writeAtomically(path.join(outDir, file.path), bytes);
    progress.filesDone += 1;
    progress.bytesWritten += bytes.byteLength;
    await onProgress?.({ ...progress });
  }
  // Every file is on disk before the manifest that says the export is complete.
  await syncFolder(outDir);
  await writeAtomically(path.join(outDir, MANIFEST_PATH), encodeManifest(manifest));
  return progress;
}

async function alreadyWritten(file: string, entry: ManifestEntry): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size !== entry.bytes) return false;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex') === entry.sha256;
}

/** Writes and fsyncs a temporary file, then renames it: a crash leaves the old name absent or complete. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial`);
  const handle = await fs.open(partial, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(partial, file);
}

/** fsyncs every folder under `root` (and `root`), so the renames into them are durable. */
async function syncFolder(root: string): Promise<void> {
  const entries = await fs.readdir(root, { withFileTypes: true });
  for (const entry of entries) if (entry.isDirectory()) await syncFolder(path.join(root, entry.name));
  const handle = await fs.open(root, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
