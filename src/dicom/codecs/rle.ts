import { DomainError } from '../../shared/errors.js';

/**
 * Decodes one RLE Lossless frame (PS3.5 Annex G) of single-sample pixels.
 *
 * The frame starts with a 64-byte header: the number of segments and up to 15 segment offsets
 * (uint32 little endian, from the start of the frame). Each segment holds one byte plane, most
 * significant byte first, as PackBits runs: a header byte n in 0..127 copies the next n+1 bytes,
 * n in -127..-1 repeats the next byte 1-n times, -128 does nothing. A segment must fill exactly
 * `rows * columns` bytes; input past that (an even-length pad byte) is ignored.
 *
 * @param bytesPerSample BitsAllocated / 8: 1, 2 or 4, also the number of segments.
 * @returns The stored sample values, unsigned (bit patterns), row-major.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  rows: number,
  columns: number,
  bytesPerSample: 1 | 2 | 4,
): Uint8Array | Uint16Array | Uint32Array {
  if (frame.byteLength < 64)
    throw invalid(`the RLE frame is ${frame.byteLength} bytes, shorter than its header`);
  const header = new DataView(frame.buffer, frame.byteOffset, 64);
  const segments = header.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw invalid(`the RLE frame has ${segments} segments; ${bytesPerSample} expected for this pixel format`);
  }
  const pixels = rows * columns;
  const planes = new Uint8Array(pixels * segments);
  for (let s = 0; s < segments; s += 1) {
    const start = header.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? header.getUint32(8 + 4 * s, true) : frame.byteLength;
    if (start < 64 || end > frame.byteLength || end < start) {
      throw invalid(
        `RLE segment ${s + 1} has an invalid offset (${start}..${end} of ${frame.byteLength} bytes)`,
      );
    }
    decodeSegment(frame.subarray(start, end), planes.subarray(s * pixels, (s + 1) * pixels), s + 1);
  }
  if (bytesPerSample === 1) return planes;
  if (bytesPerSample === 2) {
    const out = new Uint16Array(pixels);
    const high = planes.subarray(0, pixels);
    const low = planes.subarray(pixels);
    for (let p = 0; p < pixels; p += 1) out[p] = (high[p]! << 8) | low[p]!;
    return out;
  }
  const out = new Uint32Array(pixels);
  for (let p = 0; p < pixels; p += 1) {
    out[p] =
      ((planes[p]! << 24) |
        (planes[pixels + p]! << 16) |
        (planes[2 * pixels + p]! << 8) |
        planes[3 * pixels + p]!) >>>
      0;
  }
  return out;
}

/** PackBits-decodes `input` into all of `output`; throws when the input runs out first. */
function decodeSegment(input: Uint8Array, output: Uint8Array, segment: number): void {
  let i = 0;
  let o = 0;
  while (o < output.length) {
    if (i >= input.length) {
      throw invalid(`RLE segment ${segment} ends after ${o} of ${output.length} bytes`);
    }
    const n = input[i]!;
    i += 1;
    if (n < 128) {
      const count = Math.min(n + 1, output.length - o);
      if (i + count > input.length) {
        throw invalid(`RLE segment ${segment} has a literal run past its end`);
      }
      output.set(input.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n > 128) {
      if (i >= input.length) throw invalid(`RLE segment ${segment} has a replicate run past its end`);
      const count = Math.min(257 - n, output.length - o);
      output.fill(input[i]!, o, o + count);
      i += 1;
      o += count;
    }
  }
}

function invalid(message: string): DomainError {
  return new DomainError('INVALID_DICOM', message);
}
