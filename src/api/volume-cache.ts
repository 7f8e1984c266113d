import type { VolumeRecord } from '../db/repositories/volumes.js';
import type { BlobStore } from '../storage/blob-store.js';
import { decodeNifti1Volume } from '../volume/nifti.js';
import type { CtVolume } from '../volume/volume.js';

/**
 * The last few volumes read for viewing, by blob key: a reader scrolling through a series asks for one slice
 * after another, and each would otherwise read the whole volume (about 66 MB for 133 slices) again.
 */
export class VolumeCache {
  private readonly entries = new Map<string, Promise<CtVolume>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly capacity = 2,
  ) {}

  get(record: VolumeRecord): Promise<CtVolume> {
    const cached = this.entries.get(record.blobKey);
    if (cached) {
      // Most recently used last.
      this.entries.delete(record.blobKey);
      this.entries.set(record.blobKey, cached);
      return cached;
    }
    const loading = this.blobs.get(record.blobKey).then((bytes) =>
      decodeNifti1Volume(bytes, {
        spacingMm: record.spacingMm as CtVolume['spacingMm'],
        originLps: record.originLps as CtVolume['originLps'],
        direction: record.direction as CtVolume['direction'],
      }),
    );
    loading.catch(() => this.entries.delete(record.blobKey));
    this.entries.set(record.blobKey, loading);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return loading;
  }
}
