/**
 * Content storage for DICOM files, volumes and masks. Keys are relative, slash-separated paths
 * (e.g. `instances/<study>/<series>/<sop>.dcm`); the filesystem store is the default and an
 * S3-compatible store can implement the same interface.
 */
export interface BlobStore {
  /** Writes the whole value durably (it survives a crash once the promise resolves). */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Reads a value; rejects with a DomainError NOT_FOUND when the key is absent. */
  get(key: string): Promise<Uint8Array>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Rejects keys that could escape the store (absolute paths, `..`, empty segments). */
export function assertValidBlobKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  }
}
