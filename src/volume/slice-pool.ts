import { allocateSimdMemory, huSimdKernel, type HuSimdKernel, type SharedWasmMemory } from './hu-simd.js';

/**
 * One shared buffer of equally sized HU slices that becomes the volume: every decoding thread reserves the
 * next free slots with an atomic counter and converts its slices straight into them, so the voxels exist
 * once (no per-slice arrays, no copy into a volume afterwards). Slots are handed out in the order slices
 * are decoded, not in anatomical order: reconstructVolume sorts them in place.
 *
 * Layout (bytes): `headroomBytes` of free room, `capacity` slots of `sliceVoxels` int16 HU each, then one
 * scratch slice per decoding thread (`lanes`), where the SIMD conversion stages stored values. Where the
 * runtime has WebAssembly SIMD the buffer is a shared WebAssembly memory (`memory`), so that it runs there.
 */
export interface SlicePoolShare {
  memory: SharedWasmMemory | undefined;
  /** The memory's buffer, or a SharedArrayBuffer where there is no SIMD. */
  buffer: SharedArrayBuffer;
  /** One Int32: the next free slot. */
  counter: SharedArrayBuffer;
  headroomBytes: number;
  sliceVoxels: number;
  capacity: number;
  lanes: number;
}

/** The pool as one thread (lane) sees it: structured-cloneable `share` plus views of it. */
export interface SlicePool {
  share: SlicePoolShare;
  /** Reserves `count` consecutive slots; undefined when they do not fit (the slices then get their own arrays). */
  reserve(count: number): number | undefined;
  /** The HU of slot `slot`, row-major. */
  slot(slot: number): Int16Array;
  /** This thread's SIMD conversion into the slots (see toHuSlice), where the runtime has SIMD. */
  simd: HuSimdKernel | undefined;
}

/**
 * Allocates a pool of `capacity` slices of `sliceVoxels` voxels for `lanes` decoding threads. `headroomBytes`
 * (even) are left free in front of slot 0, for a file header written in place before the voxels (see
 * encodeNifti1InHeadroom). Memory pages are only taken as slots are written.
 */
export function createSlicePool(
  sliceVoxels: number,
  capacity: number,
  { headroomBytes = 0, lanes = 1 }: { headroomBytes?: number; lanes?: number } = {},
): SlicePool {
  if (headroomBytes % 2 !== 0) throw new RangeError('headroomBytes must be even (int16 voxels follow)');
  const byteLength = scratchOffset(headroomBytes, sliceVoxels, capacity) + lanes * scratchBytes(sliceVoxels);
  const memory = allocateSimdMemory(byteLength);
  const buffer = memory?.buffer ?? new SharedArrayBuffer(byteLength);
  if (headroomBytes > 0) headrooms.set(buffer, headroomBytes);
  const share = {
    memory,
    buffer,
    counter: new SharedArrayBuffer(4),
    headroomBytes,
    sliceVoxels,
    capacity,
    lanes,
  };
  return openSlicePool(share, 0);
}

/** The pool behind a share received from another thread, as decoding thread `lane` (0 <= lane < lanes). */
export function openSlicePool(share: SlicePoolShare, lane: number): SlicePool {
  const next = new Int32Array(share.counter);
  // A received share holds the memory and a second handle on its buffer: views must be of memory.buffer.
  const buffer = share.memory?.buffer ?? share.buffer;
  const { headroomBytes, sliceVoxels, capacity } = share;
  const scratch = scratchOffset(headroomBytes, sliceVoxels, capacity) + lane * scratchBytes(sliceVoxels);
  return {
    share,
    reserve(count) {
      // Past capacity the counter keeps growing: later reservations fail too, so used slots stay contiguous.
      const first = Atomics.add(next, 0, count);
      return first + count <= capacity ? first : undefined;
    },
    slot(slot) {
      return new Int16Array(buffer, headroomBytes + slot * sliceVoxels * 2, sliceVoxels);
    },
    simd:
      share.memory && lane < share.lanes
        ? huSimdKernel(share.memory, scratch, scratchBytes(sliceVoxels))
        : undefined,
  };
}

const scratchOffset = (headroomBytes: number, sliceVoxels: number, capacity: number) =>
  align16(headroomBytes + capacity * sliceVoxels * 2);
const scratchBytes = (sliceVoxels: number) => align16(sliceVoxels * 2 + 8); // + 8: see huSimdKernel's staging
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Pool buffers with room in front, allocated in this thread: nothing else may be written there. */
const headrooms = new WeakMap<ArrayBufferLike, number>();

/**
 * The free bytes reserved in front of `voxels` when they start right after a pool's headroom (a volume built
 * in such a pool), else 0.
 */
export function headroomBefore(voxels: Int16Array): number {
  const headroom = headrooms.get(voxels.buffer) ?? 0;
  return voxels.byteOffset === headroom ? headroom : 0;
}
