// A decoding thread of DecodePool (decode-pool.ts): decodes DICOM instances and converts their frames to
// HU straight into the shared slice pool. Loaded by URL, not imported: keep it an entry point of any build.
import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../shared/errors.js';
import { decodeSlices, type DecodedSlice } from './decode-slices.js';
import { isPart10 } from '../dicom/part10-files.js';
import { createReusedFileReader } from './series-files.js';
import { openSlicePool, type SlicePool, type SlicePoolShare } from './slice-pool.js';

/** What a decoding thread is started with. */
export interface DecodeWorkerData {
  /** Its index among the pool's threads: which scratch slice of the slice pool is its own. */
  lane: number;
}

/** What a decoding thread is asked: use this pool from now on, or decode one instance. */
export type DecodeRequest =
  | { kind: 'pool'; share: SlicePoolShare }
  | {
      kind: 'decode';
      id: number;
      /** A file the thread reads itself, or the instance's bytes, moved or copied here: its own to change. */
      input: { path: string } | { bytes: Uint8Array };
    };

/** A thrown error as it crosses threads: a DomainError keeps its code, message and context. */
export type DecodeFailure =
  | { domain: true; code: DomainError['code']; message: string; context: Record<string, unknown> }
  | { domain: false; message: string; stack: string | undefined };

export type DecodeReply =
  | { id: number; ok: true; slices: DecodedSlice[] }
  /** A file without the "DICM" prefix: not an instance, skipped. */
  | { id: number; ok: true; notPart10: true }
  | { id: number; ok: false; failure: DecodeFailure };

const port = parentPort;
if (!port) throw new Error('decode-worker.ts runs as a worker thread (see decode-pool.ts)');

const { lane } = workerData as DecodeWorkerData;
const readFile = createReusedFileReader();
let pool: SlicePool | undefined;

port.on('message', (request: DecodeRequest) => {
  if (request.kind === 'pool') {
    pool = openSlicePool(request.share, lane);
    return;
  }
  void decode(request).then(({ reply, transfer }) => {
    try {
      port.postMessage(reply, transfer);
    } catch (error) {
      // A reply that cannot be cloned (an odd value in an error's context) still has to settle the request.
      port.postMessage({ id: request.id, ok: false, failure: describeFailure(error) } satisfies DecodeReply);
    }
  });
});

async function decode(
  request: Extract<DecodeRequest, { kind: 'decode' }>,
): Promise<{ reply: DecodeReply; transfer: ArrayBuffer[] }> {
  const { id, input } = request;
  try {
    const bytes = 'path' in input ? readFile(input.path) : input.bytes;
    if ('path' in input && !isPart10(bytes))
      return { reply: { id, ok: true, notPart10: true }, transfer: [] };
    const slices = await decodeSlices(bytes, pool, true);
    // Slices that got no slot carry arrays of their own: moved to the caller, not copied.
    const transfer = slices.flatMap((slice) => (slice.hu ? [slice.hu.buffer as ArrayBuffer] : []));
    return { reply: { id, ok: true, slices }, transfer };
  } catch (error) {
    return { reply: { id, ok: false, failure: describeFailure(error) }, transfer: [] };
  }
}

function describeFailure(error: unknown): DecodeFailure {
  if (error instanceof DomainError) {
    return { domain: true, code: error.code, message: error.message, context: error.context };
  }
  return {
    domain: false,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  };
}
