import { createRequire } from 'node:module';
import { isPart10 } from '../dicom/part10-files.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DomainError } from '../shared/errors.js';
import type { DecodedSlice } from './decode-slices.js';
import type * as DecodeSlicesModule from './decode-slices.js';
import type { DecodeFailure, DecodeReply, DecodeRequest, DecodeWorkerData } from './decode-worker.js';
import type * as SeriesFilesModule from './series-files.js';
import type { SlicePool } from './slice-pool.js';

/** One instance to decode: a file the decoder reads itself, or the instance's bytes. */
export type DecodeInput = { path: string } | { bytes: Uint8Array };

/** A decoded instance's slices, or a file that is not DICOM Part 10 (no "DICM" prefix: skipped). */
export type DecodeOutcome = { slices: DecodedSlice[] } | { notPart10: true };

/**
 * Decodes instances into a shared slice pool, on worker threads ({@link startDecodePool}) or in the calling
 * thread ({@link inThreadDecoder}); both run the same decodeSlices.
 */
export interface SliceDecoder {
  /** Whether a decode now would start without waiting: some thread has fewer than `perThread` pending. */
  hasRoom(perThread: number): boolean;
  /**
   * Decodes one instance. Rejects with the instance's DomainError (code INVALID_DICOM for unusable DICOM),
   * or with an Error for anything else (a bug, an unreadable file, a thread that died).
   *
   * `bytes` options: `scratchInput`, they may be changed in place; `transfer`, they are given up and moved to
   * the decoding thread without a copy (their buffer is detached here). Otherwise they are copied.
   */
  decode(
    input: DecodeInput,
    options?: { scratchInput?: boolean; transfer?: boolean },
  ): Promise<DecodeOutcome>;
  /** Later decodes convert into `pool`, where slices fit. */
  usePool(pool: SlicePool): void;
  /** Stops the threads (idempotent); pending decodes reject. */
  close(): Promise<void>;
}

interface Pending {
  resolve(outcome: DecodeOutcome): void;
  reject(error: Error): void;
}

interface Lane {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Starts `threads` decoding worker threads (decode-worker.ts), which use lanes `firstLane` onwards of the
 * slice pool. Each decode goes to the thread with the fewest pending decodes; callers bound how many they
 * keep pending (see hasRoom: a few per thread is enough).
 */
export function startDecodePool(threads: number, firstLane = 0): SliceDecoder {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be >= 1, got ${threads}`);
  let nextId = 0;
  let failed: Error | undefined;
  const lanes: Lane[] = Array.from({ length: threads }, (_, index) => {
    const workerData: DecodeWorkerData = { lane: firstLane + index };
    const worker = startWorker(workerData);
    const lane: Lane = { worker, pending: new Map() };
    lane.worker.on('message', (reply: DecodeReply) => settle(lane, reply));
    lane.worker.on('error', (error) => fail(error));
    lane.worker.on('exit', (code) => fail(new Error(`a decoding thread exited (code ${code})`)));
    return lane;
  });

  function settle(lane: Lane, reply: DecodeReply): void {
    const pending = lane.pending.get(reply.id);
    if (!pending) return;
    lane.pending.delete(reply.id);
    if (!reply.ok) pending.reject(errorFrom(reply.failure));
    else pending.resolve('notPart10' in reply ? { notPart10: true } : { slices: reply.slices });
  }

  function fail(error: Error): void {
    failed ??= error;
    for (const lane of lanes) {
      for (const pending of lane.pending.values()) pending.reject(failed);
      lane.pending.clear();
    }
  }

  return {
    hasRoom: (perThread) => lanes.some((lane) => lane.pending.size < perThread),
    decode(input, options = {}) {
      if (failed) return Promise.reject(failed);
      const lane = lanes.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      let message: DecodeRequest;
      const transfer: ArrayBuffer[] = [];
      if ('path' in input) {
        message = { kind: 'decode', id, input };
      } else {
        const { bytes } = input;
        const whole =
          bytes.buffer instanceof ArrayBuffer &&
          bytes.byteOffset === 0 &&
          bytes.byteLength === bytes.buffer.byteLength;
        // A copy of exactly the view otherwise: posting a view clones its whole (maybe larger, reused) buffer.
        const moved = options.transfer === true && whole ? bytes : new Uint8Array(bytes);
        transfer.push(moved.buffer as ArrayBuffer);
        message = { kind: 'decode', id, input: { bytes: moved } };
      }
      return new Promise<DecodeOutcome>((resolve, reject) => {
        lane.pending.set(id, { resolve, reject });
        lane.worker.postMessage(message, transfer);
      });
    },
    usePool(pool) {
      for (const lane of lanes)
        lane.worker.postMessage({ kind: 'pool', share: pool.share } satisfies DecodeRequest);
    },
    async close() {
      fail(new Error('the decode pool is closed'));
      await Promise.all(
        lanes.map(async ({ worker }) => {
          worker.removeAllListeners('exit');
          await worker.terminate();
        }),
      );
    },
  };
}

/**
 * Decodes in the calling thread, as lane 0 of the slice pool. Each decode runs to its end before the next
 * starts (so scratch input is read before it is reused): await one before starting another.
 */
export function inThreadDecoder(): SliceDecoder {
  let pool: SlicePool | undefined;
  // Loaded on first use: where threads decode, the calling thread may never need the decoders.
  let modules: Promise<[typeof DecodeSlicesModule, typeof SeriesFilesModule]> | undefined;
  let readFile: ((file: string) => Uint8Array) | undefined;
  let busy = false;
  return {
    hasRoom: () => !busy,
    async decode(input, options = {}) {
      busy = true;
      try {
        return await decodeHere(input, options);
      } finally {
        busy = false;
      }
    },
    usePool(next) {
      pool = next;
    },
    async close() {},
  };

  async function decodeHere(input: DecodeInput, options: { scratchInput?: boolean }): Promise<DecodeOutcome> {
    modules ??= Promise.all([import('./decode-slices.js'), import('./series-files.js')]);
    const [{ decodeSlices }, { createReusedFileReader }] = await modules;
    if ('path' in input) {
      readFile ??= createReusedFileReader();
      const bytes = readFile(input.path);
      if (!isPart10(bytes)) return { notPart10: true };
      return { slices: await decodeSlices(bytes, pool, true) };
    }
    return { slices: await decodeSlices(input.bytes, pool, options.scratchInput === true) };
  }
}

/** The error a decoding thread reported, as the caller would have seen it thrown in its own thread. */
function errorFrom(failure: DecodeFailure): Error {
  if (failure.domain) return new DomainError(failure.code, failure.message, { context: failure.context });
  const error = new Error(failure.message);
  if (failure.stack) error.stack = failure.stack;
  return error;
}

// Built, the thread runs decode-worker.js. From TypeScript sources (tsx, vitest) it registers tsx first,
// then imports decode-worker.ts: a worker does not get the TypeScript loader of the thread that starts it.
const FROM_SOURCES = import.meta.url.endsWith('.ts');

function startWorker(workerData: DecodeWorkerData): Worker {
  const workerUrl = new URL(FROM_SOURCES ? './decode-worker.ts' : './decode-worker.js', import.meta.url);
  if (!FROM_SOURCES) return new Worker(workerUrl, { workerData });
  const require = createRequire(import.meta.url);
  const manifest = require('tsx/package.json') as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = path.join(
    path.dirname(require.resolve('tsx/package.json')),
    manifest.exports['./esm/api']!.import.default,
  );
  const bootstrap =
    `import(${JSON.stringify(pathToFileURL(api).href)})` +
    `.then(({ register }) => { register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
