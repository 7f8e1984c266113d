import os from 'node:os';
import type { ExportFile } from './export-files.js';

/**
 * Files made at once: compression runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says
 * otherwise). One more than the cores, because a large CT is followed by its small label map, which would
 * otherwise hold a slot while it waits its turn behind the CT (measured: 2 in flight kept 1.1 of 2 cores
 * busy, 3 kept 1.6).
 */
const DEFAULT_AHEAD = Math.min(8, os.availableParallelism() + 1);

/**
 * Makes the files with up to `ahead` in flight and yields them in their original order, so a consumer that
 * must write in order (a tar stream, a manifest) still overlaps the making of the next file with its own work.
 * Memory holds at most `ahead` + 1 files.
 */
export async function* inOrder<F extends ExportFile>(
  files: Iterable<F>,
  ahead = DEFAULT_AHEAD,
): AsyncGenerator<{ file: F; bytes: Uint8Array }> {
  const iterator = files[Symbol.iterator]();
  const pending: { file: F; bytes: Promise<Uint8Array> }[] = [];
  const fill = () => {
    while (pending.length < ahead) {
      const next = iterator.next();
      if (next.done) return;
      const bytes = next.value.produce();
      bytes.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
      pending.push({ file: next.value, bytes });
    }
  };
  fill();
  while (pending.length > 0) {
    const head = pending.shift()!;
    const bytes = await head.bytes;
    fill();
    yield { file: head.file, bytes };
  }
}
