import { Worker } from 'node:worker_threads';

/**
 * A zeroed SharedArrayBuffer whose memory pages a helper thread touches ahead of use, from the END
 * backwards, while the caller fills it from the start.
 *
 * Why: the first write to each 4 KiB page of a fresh buffer is a page fault, and on virtual machines
 * (measured here on Firecracker: ~11 µs per page, ~190 ms for a 66 MB CT volume) faulting costs more than
 * converting the voxels. The helper takes those faults on the other core; reconstruction then mostly writes
 * to memory that is already mapped.
 *
 * The helper never changes a value: it adds 0 atomically to one 32-bit word per page (a write, so the page
 * is really allocated, not mapped to the shared zero page), which cannot lose the caller's concurrent
 * writes. It stops where the caller's reported progress is, or at the start of the buffer.
 */
export interface PrefaultedBuffer {
  buffer: SharedArrayBuffer;
  /** Tells the helper that bytes [0, byteOffset) are written already: it stops before them. */
  reportProgress(byteOffset: number): void;
  /** Settles when the helper has stopped (at once when there is none). */
  helperStopped: Promise<void>;
  /** Ends the helper thread (idempotent); call when filling is done or failed. */
  close(): Promise<void>;
}

const PAGE_BYTES = 4096;

// Plain JavaScript run with `eval`: the helper must start in milliseconds, without the TypeScript loader.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const words = new Int32Array(workerData.buffer);
const progress = new Int32Array(workerData.progress);
const wordsPerPage = ${PAGE_BYTES / 4};
for (let w = words.length - (words.length % wordsPerPage || wordsPerPage); w >= 0; w -= wordsPerPage) {
  if (w * 4 < Atomics.load(progress, 0)) break;
  Atomics.add(words, w, 0);
}
`;

/** Below this size the helper's start (~70 ms) costs more than the faults it saves. */
export const PREFAULT_MIN_BYTES = 16 * 2 ** 20;

export function allocatePrefaulted(byteLength: number): PrefaultedBuffer {
  // Rounded to whole 32-bit words for the helper's view; callers use the first byteLength bytes.
  const buffer = new SharedArrayBuffer(Math.ceil(byteLength / 4) * 4);
  const progressBuffer = new SharedArrayBuffer(4);
  const progress = new Int32Array(progressBuffer);
  let worker: Worker | undefined;
  let helperStopped = Promise.resolve();
  if (byteLength >= PREFAULT_MIN_BYTES && byteLength < 2 ** 31) {
    worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { buffer, progress: progressBuffer } });
    worker.unref();
    // The helper is an optimisation only: a failure to start it must not fail reconstruction.
    worker.on('error', () => undefined);
    const running = worker;
    helperStopped = new Promise((resolve) => running.once('exit', () => resolve()));
  }
  return {
    buffer,
    helperStopped,
    reportProgress(byteOffset) {
      Atomics.store(progress, 0, Math.min(byteOffset, 2 ** 31 - 1));
    },
    async close() {
      Atomics.store(progress, 0, 2 ** 31 - 1);
      const running = worker;
      worker = undefined;
      if (running) await running.terminate();
    },
  };
}
