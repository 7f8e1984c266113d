import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ExportFile } from './export-files.js';
import { encodeManifest, MANIFEST_PATH, type ExportManifest } from './export-manifest.js';
import { alignedWithManifest, madeAndVerified } from './verified-files.js';

/**
 * A snapshot's export as an uncompressed tar stream (POSIX ustar; PAX headers for long paths): manifest.json
 * first, then every file in manifest order, each checked against the frozen manifest before it is sent.
 * Headers are fixed (mode 0644, owner 0:0, mtime = the freeze time), so the archive of a snapshot is the same
 * bytes every time. Files are made as the reader consumes the stream (backpressure), so memory stays bounded.
 * A file that no longer matches the manifest ends the stream with an error (the client sees a truncated tar).
 */
export function tarArchive(files: Iterable<ExportFile>, manifest: ExportManifest): Readable {
  const pack = tar.pack();
  const mtime = new Date(manifest.frozenAt);
  const add = (name: string, bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name,
          size: bytes.byteLength,
          mode: 0o644,
          mtime,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          type: 'file',
        },
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        (error) => (error ? reject(error) : resolve()),
      );
    });
  void (async () => {
    await add(MANIFEST_PATH, encodeManifest(manifest));
    for await (const { file, bytes } of madeAndVerified(alignedWithManifest(files, manifest), manifest)) {
      await add(file.path, bytes);
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  return Readable.from(pack);
}
