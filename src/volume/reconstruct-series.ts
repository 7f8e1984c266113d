import { DomainError } from '../shared/errors.js';
import { inThreadDecoder, startDecodePool, type DecodeInput, type SliceDecoder } from './decode-pool.js';
import type { DecodedSlice } from './decode-slices.js';
import type { QualityIssue } from './quality-issue.js';
import { assessScreeningQuality } from './quality.js';
import { reconstructVolume, type HuSlice, type SliceGeometry } from './reconstruct.js';
import { createSlicePool, type SlicePool } from './slice-pool.js';
import type { CtVolume } from './volume.js';

export interface SeriesReconstruction {
  /** Undefined when the slices do not form one volume (mixed sizes, tilt, ...). */
  volume: CtVolume | undefined;
  /** False when any issue has severity `reject`: the series is not fit for lung screening. */
  accepted: boolean;
  geometry: SliceGeometry | undefined;
  /** Every quality gate and reconstruction finding, rejects first. */
  issues: QualityIssue[];
  /** Instances that could not be decoded, with the reason; the series is reconstructed from the rest. */
  undecodable: { source: string; reason: string }[];
}

/**
 * One instance of a series: Part 10 bytes, or a file that the decoding threads read themselves (files without
 * the "DICM" prefix are skipped). `source` (file path or blob key) labels it in error reports.
 */
export type SeriesInstance = { source: string; bytes: Uint8Array } | { source: string; path: string };

export interface ReconstructSeriesOptions {
  /** How many slices to expect (the instance count of a classic CT series): enables the in-place build. */
  expectedSlices?: number;
  /**
   * Each yielded buffer is scratch: it may be changed, and is not read after the next one is requested
   * (as from readPart10FilesReusingBuffer). Native pixel data is then converted without a copy.
   */
  scratchInput?: boolean;
  /**
   * Each yielded buffer is given to reconstruction (as a blob read for it): it is moved to a decoding thread
   * without a copy, and its ArrayBuffer is detached in the caller's thread. Otherwise bytes are copied there.
   */
  transferInput?: boolean;
  /**
   * Threads that decode, the calling thread included (1: only the calling thread; n: it and n - 1 worker
   * threads, see decode-pool.ts). Default {@link DEFAULT_DECODE_THREADS}.
   */
  decodeThreads?: number;
  /**
   * Free bytes (even) left in front of the voxels in the volume's buffer, for a file header written in place
   * (NIFTI1_HEADER_BYTES, see encodeNifti1InHeadroom). Only where the slices are built in place.
   */
  headroomBytes?: number;
}

/**
 * One: measured on the 2-core VM (bench:reconstruct), with HU conversion in SIMD what is left per slice is
 * parsing, page faults of the volume's memory and copies, and a second decoding thread made 261-, 500- and
 * 1000-slice series no faster (often slower: it takes ~50 ms and ~15 MB to start, and the two threads
 * slow each other down). Where more cores pay, callers pass decodeThreads.
 */
export const DEFAULT_DECODE_THREADS = 1;
/** Decodes kept pending per worker thread: one being decoded, one queued behind it. */
const PENDING_PER_THREAD = 2;

/**
 * Decodes the instances of one series, reconstructs its HU volume and runs the screening quality gate.
 *
 * Instances are decoded in the calling thread and, with `decodeThreads` > 1, on worker threads too (see
 * decode-pool.ts; the calling thread decodes whenever they are busy, so also while they start). Each
 * converts its slices to HU straight into one shared buffer sized for the expected slices; reconstructVolume
 * then sorts that buffer in place, so it becomes the volume: peak memory about the volume's size, plus a
 * file per thread.
 */
export async function reconstructSeries(
  instances: AsyncIterable<SeriesInstance> | Iterable<SeriesInstance>,
  options: ReconstructSeriesOptions = {},
): Promise<SeriesReconstruction> {
  const expected = options.expectedSlices ?? (Array.isArray(instances) ? instances.length : 0);
  const threads = Math.max(1, options.decodeThreads ?? DEFAULT_DECODE_THREADS);
  // Lane 0 of the slice pool is the calling thread's, lanes 1.. the workers'.
  const here = inThreadDecoder();
  const workers = threads > 1 ? startDecodePool(threads - 1, 1) : undefined;
  // By instance, in input order, so that reports do not depend on which thread finished first.
  const decoded: DecodedSlice[][] = [];
  const failures: { index: number; source: string; reason: string }[] = [];
  let pool: SlicePool | undefined;

  /** Puts slices that came back with arrays of their own into free slots of the pool (allocated with the first). */
  const place = (slices: DecodedSlice[]): DecodedSlice[] => {
    const first = slices[0];
    if (!pool && first && expected > 1) {
      pool = createSlicePool(first.rows * first.columns, expected, {
        headroomBytes: options.headroomBytes,
        lanes: threads,
      });
      here.usePool(pool);
      workers?.usePool(pool);
    }
    return slices.map((slice) => {
      if (!slice.hu || slice.hu.length !== pool?.share.sliceVoxels) return slice;
      const slot = pool.reserve(1);
      if (slot === undefined) return slice;
      pool.slot(slot).set(slice.hu);
      const { hu: _copied, ...header } = slice;
      return { ...header, slot };
    });
  };

  const pending = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  const decodeOptions = {
    scratchInput: options.scratchInput === true,
    transfer: options.transferInput === true,
  };
  const decode = (decoder: SliceDecoder, at: number, instance: SeriesInstance): Promise<void> => {
    const input: DecodeInput = 'path' in instance ? { path: instance.path } : { bytes: instance.bytes };
    return decoder.decode(input, decodeOptions).then(
      (outcome) => {
        if ('slices' in outcome) decoded[at] = place(outcome.slices);
      },
      (error: unknown) => {
        if (!(error instanceof DomainError)) throw error;
        failures.push({ index: at, source: instance.source, reason: error.message });
      },
    );
  };
  try {
    let index = 0;
    for await (const instance of instances) {
      const at = index++;
      if (workers?.hasRoom(PENDING_PER_THREAD)) {
        const decoding = decode(workers, at, instance)
          .catch((error: unknown) => {
            fatal ??= { error };
          })
          .finally(() => pending.delete(decoding));
        pending.add(decoding);
      } else {
        await decode(here, at, instance);
        // Let the workers' replies in, so that they get more to do before the next instance here.
        if (workers) await new Promise((resolve) => setImmediate(resolve));
      }
      if (fatal) throw fatal.error;
    }
    while (pending.size > 0) await Promise.race(pending);
    if (fatal) throw fatal.error;
  } finally {
    await workers?.close();
  }

  const slices: HuSlice[] = decoded.flat().map((slice) => {
    if (slice.hu) return slice;
    const { slot, ...header } = slice;
    return { ...header, hu: pool!.slot(slot) };
  });
  const undecodable = failures
    .sort((a, b) => a.index - b.index)
    .map(({ source, reason }) => ({ source, reason }));
  const reconstruction = reconstructVolume(slices);
  const geometry = reconstruction.ok ? reconstruction.geometry : undefined;
  const issues = [...assessScreeningQuality(slices, geometry), ...reconstruction.issues];
  if (undecodable.length > 0) {
    issues.push({
      code: 'missing-slices',
      severity: 'caveat',
      message:
        `${undecodable.length} instance(s) could not be decoded and are left out: ` +
        undecodable
          .slice(0, 3)
          .map((u) => `${u.source} (${u.reason})`)
          .join('; ') +
        (undecodable.length > 3 ? '; ...' : ''),
    });
  }
  issues.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'reject' ? -1 : 1));
  return {
    volume: reconstruction.ok ? reconstruction.volume : undefined,
    accepted: !issues.some((issue) => issue.severity === 'reject'),
    geometry,
    issues,
    undecodable,
  };
}
