import { DomainError } from '../../shared/errors.js';
import type { ExportFile } from './export-files.js';
import { inOrder } from './in-order.js';
import { sha256Hex, type ExportManifest, type ManifestEntry } from './export-manifest.js';

/**
 * Pairs the files made now with the frozen manifest's entries and checks each file's size and SHA-256
 * against it: an export is either byte-identical to what was frozen or fails (non-retryable) at the first
 * file that differs, naming it.
 */
export function* alignedWithManifest(
  files: Iterable<ExportFile>,
  manifest: ExportManifest,
): Generator<ExportFile & { entry: ManifestEntry }> {
  let index = 0;
  for (const file of files) {
    const entry = manifest.files[index];
    if (!entry || entry.path !== file.path) {
      throw mismatch(
        manifest,
        `file ${index + 1} is ${file.path}, the manifest lists ${entry?.path ?? 'no more files'}`,
      );
    }
    index += 1;
    yield { ...file, entry };
  }
  if (index !== manifest.files.length) {
    throw mismatch(manifest, `${manifest.files.length - index} files of the manifest are no longer made`);
  }
}

/**
 * Makes the aligned files (see inOrder) and yields each after checking its bytes against its manifest entry:
 * no file leaves unchecked.
 */
export async function* madeAndVerified<F extends ExportFile & { entry: ManifestEntry }>(
  files: Iterable<F>,
  manifest: ExportManifest,
): AsyncGenerator<{ file: F; bytes: Uint8Array }> {
  for await (const made of inOrder(files)) {
    verifyAgainstEntry(manifest, made.file.entry, made.bytes);
    yield made;
  }
}

/** Throws unless the bytes are the manifest entry's. */
function verifyAgainstEntry(manifest: ExportManifest, entry: ManifestEntry, bytes: Uint8Array): void {
  const sha256 = sha256Hex(bytes);
  if (bytes.byteLength !== entry.bytes || sha256 !== entry.sha256) {
    throw mismatch(
      manifest,
      `${entry.path} differs from the frozen file (${bytes.byteLength} bytes, sha256 ${sha256.slice(0, 12)}; frozen: ${entry.bytes} bytes, ${entry.sha256.slice(0, 12)})`,
    );
  }
}

function mismatch(manifest: ExportManifest, detail: string): DomainError {
  return new DomainError(
    'CONFLICT',
    `snapshot ${manifest.snapshotId} can no longer be exported byte-identically: ${detail} (a stored file changed, or this nodus version writes it differently)`,
    { retryable: false },
  );
}
