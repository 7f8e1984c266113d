import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { encodeNifti1, isLittleEndianHost, NIFTI1_HEADER_BYTES, nifti1Header } from './nifti.js';
import type { CtVolume } from './volume.js';

/** Bytes handed to the compressor at a time. */
const GZIP_CHUNK_BYTES = 4 * 2 ** 20;

/**
 * Writes `volume` as the single-file NIfTI-1 of encodeNifti1 to `file`, gzip-compressed (level 1) when the
 * name ends in `.gz`. The header and then the volume's own voxel memory go to the file (or the compressor)
 * directly: no second copy of the voxels in memory.
 */
export async function writeNifti1File(volume: CtVolume, file: string): Promise<void> {
  const header = nifti1Header(volume);
  const { hu } = volume;
  const voxels = isLittleEndianHost()
    ? new Uint8Array(hu.buffer, hu.byteOffset, hu.byteLength)
    : encodeNifti1(volume).subarray(NIFTI1_HEADER_BYTES);
  if (file.endsWith('.gz')) {
    await pipeline(
      Readable.from(chunks(header, voxels)),
      createGzip({ level: 1 }),
      fs.createWriteStream(file),
    );
    return;
  }
  const fd = fs.openSync(file, 'w');
  try {
    writeAll(fd, header);
    writeAll(fd, voxels);
  } finally {
    fs.closeSync(fd);
  }
}

function* chunks(header: Uint8Array, voxels: Uint8Array): Generator<Uint8Array> {
  yield header;
  for (let at = 0; at < voxels.byteLength; at += GZIP_CHUNK_BYTES) {
    yield voxels.subarray(at, at + GZIP_CHUNK_BYTES);
  }
}

/** write(2) may write less than asked (and at most about 2 GiB at a time). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength;) {
    at += fs.writeSync(fd, bytes, at, Math.min(bytes.byteLength - at, 2 ** 30));
  }
}
