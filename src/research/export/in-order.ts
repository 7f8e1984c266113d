import type { ExportFile } from './export-files.js';

/** Files made at once: compression runs on libuv's thread pool, so two keep both cores busy. */
const DEFAULT_AHEAD = 2;

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
