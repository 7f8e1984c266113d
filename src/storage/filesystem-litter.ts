import fs from 'node:fs/promises';
import path from 'node:path';

export interface LitterSweep {
  /** Unfinished writes (`*.partial`) removed. */
  partial: number;
  /** Blobs no row refers to, removed. */
  unreferenced: number;
  /** Spool files of receives that never finished, removed. */
  spool: number;
}

export interface LitterSweepOptions {
  /** Root folder of the filesystem blob store. */
  blobRoot: string;
  /** Folder of the ingest spool (src/ingest/instance-spool.ts), if any. */
  spoolDir?: string | undefined;
  /**
   * Blob keys under `instances/<study>/<series>/` and `quarantine/` that rows refer to, per folder: the
   * folder's key prefix in, the referenced keys out.
   */
  referencedKeys(prefix: string): Promise<Set<string>>;
  /** Only files older than this are litter: a live writer in another process is never raced, ms. */
  olderThanMs: number;
  now?: Date;
}

/**
 * Removes what a killed process leaves in the filesystem blob store: `*.partial` files of writes that never
 * reached their rename, instance and quarantine blobs whose registration never committed, and spool files.
 * Files younger than `olderThanMs` are left alone (another nodus process may be writing them).
 */
export async function sweepFilesystemLitter(options: LitterSweepOptions): Promise<LitterSweep> {
  const cutoff = (options.now ?? new Date()).getTime() - options.olderThanMs;
  const swept: LitterSweep = { partial: 0, unreferenced: 0, spool: 0 };
  const old = async (file: string) => (await fs.stat(file).catch(() => undefined))?.mtimeMs ?? Infinity;
  const remove = async (file: string) => fs.rm(file, { force: true });

  const visit = async (folder: string, relative: string): Promise<void> => {
    const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
    const blobs = entries.filter((e) => e.isFile() && !e.name.endsWith('.partial'));
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await visit(full, relative === '' ? entry.name : `${relative}/${entry.name}`);
      else if (entry.name.endsWith('.partial') && (await old(full)) < cutoff) {
        await remove(full);
        swept.partial += 1;
      }
    }
    const depth = relative.split('/').length;
    const checked =
      (relative.startsWith('instances/') && depth === 3) || (relative === 'quarantine' && blobs.length > 0);
    if (!checked || blobs.length === 0) return;
    const referenced = await options.referencedKeys(relative);
    for (const entry of blobs) {
      const key = `${relative}/${entry.name}`;
      const full = path.join(folder, entry.name);
      if (!referenced.has(key) && (await old(full)) < cutoff) {
        await remove(full);
        swept.unreferenced += 1;
      }
    }
  };
  await visit(options.blobRoot, '');

  if (options.spoolDir) {
    for (const name of await fs.readdir(options.spoolDir).catch(() => [])) {
      const full = path.join(options.spoolDir, name);
      if ((await old(full)) < cutoff) {
        await remove(full);
        swept.spool += 1;
      }
    }
  }
  return swept;
}
