import { randomBytes } from 'node:crypto';

/** One body part of a multipart/related answer. */
export interface ResponsePart {
  contentType: string;
  /** Content-Location of the part (PS3.18 §8.6.1.2.1), when useful to the client. */
  location?: string;
  bytes: Uint8Array;
}

/** A fresh boundary that cannot occur in a part by chance (128 random bits). */
export function newBoundary(): string {
  return `nodus-${randomBytes(16).toString('hex')}`;
}

const encoder = new TextEncoder();

/**
 * A multipart/related body (RFC 2387) streamed part by part: `parts` yields them in order (reading the
 * next file only when the client has taken the previous one, so memory stays at one part or so).
 */
export function multipartStream(
  parts: AsyncIterable<ResponsePart>,
  boundary: string,
): ReadableStream<Uint8Array> {
  const iterator = parts[Symbol.asyncIterator]();
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return;
      const next = await iterator.next();
      if (next.done) {
        done = true;
        controller.enqueue(encoder.encode(`--${boundary}--\r\n`));
        controller.close();
        return;
      }
      const part = next.value;
      const head =
        `--${boundary}\r\nContent-Type: ${part.contentType}\r\n` +
        (part.location ? `Content-Location: ${part.location}\r\n` : '') +
        `Content-Length: ${part.bytes.byteLength}\r\n\r\n`;
      controller.enqueue(encoder.encode(head));
      controller.enqueue(part.bytes);
      controller.enqueue(encoder.encode('\r\n'));
    },
    async cancel() {
      done = true;
      await iterator.return?.();
    },
  });
}
