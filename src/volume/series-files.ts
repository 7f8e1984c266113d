import fs from 'node:fs';
import { isPart10 } from '../ingest/import-files.js';

/**
 * Reads DICOM Part 10 files one after the other into ONE reused buffer (grown as needed) and yields each
 * with its path; files without the "DICM" prefix are skipped. Each yielded `bytes` is valid only until the
 * next one is requested: for consumers that decode a file at once, such as reconstructSeries with
 * `scratchInput`. Reusing the buffer avoids allocating (and page-faulting) a fresh one per file.
 *
 * Synchronous reads: for many files of ~0.5 MB they are several times faster than the thread pool.
 */
export function* readPart10FilesReusingBuffer(
  files: readonly string[],
): Generator<{ source: string; bytes: Uint8Array }> {
  let buffer = Buffer.allocUnsafe(0);
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    let length: number;
    try {
      const size = fs.fstatSync(fd).size;
      if (size > buffer.length) buffer = Buffer.allocUnsafe(Math.max(size, buffer.length * 2));
      length = 0;
      while (length < size) {
        const read = fs.readSync(fd, buffer, length, size - length, null);
        if (read === 0) break;
        length += read;
      }
    } finally {
      fs.closeSync(fd);
    }
    const bytes = buffer.subarray(0, length);
    if (isPart10(bytes)) yield { source: file, bytes };
  }
}
