import { describe, expect, it } from 'vitest';
import { allocatePrefaulted, PREFAULT_MIN_BYTES } from '../../../src/volume/prefaulted-buffer.js';

describe('allocatePrefaulted', () => {
  it('starts zeroed and loses none of the values written while its helper runs', async () => {
    const byteLength = PREFAULT_MIN_BYTES * 2;
    const memory = allocatePrefaulted(byteLength);
    const values = new Int16Array(memory.buffer, 0, byteLength / 2);
    expect(values.every((v) => v === 0)).toBe(true);
    // Written slice by slice, as reconstruction does, while the helper touches pages from the end.
    const slice = 512 * 512;
    for (let start = 0; start < values.length; start += slice) {
      const end = Math.min(start + slice, values.length);
      for (let i = start; i < end; i += 1) values[i] = ((i * 7919) % 65536) - 32768;
      memory.reportProgress(end * 2);
    }
    await memory.close();
    await memory.close(); // idempotent
    let wrong = 0;
    for (let i = 0; i < values.length; i += 1) if (values[i] !== ((i * 7919) % 65536) - 32768) wrong += 1;
    expect(wrong).toBe(0);
  });

  it('keeps values written ahead of the helper on the pages it touches', async () => {
    const memory = allocatePrefaulted(PREFAULT_MIN_BYTES);
    const words = new Int32Array(memory.buffer);
    // Written before the helper runs and never reported: it passes over every one of these pages.
    for (let i = 0; i < words.length; i += 1) words[i] = i | 1;
    await memory.helperStopped;
    let wrong = 0;
    for (let i = 0; i < words.length; i += 1) if (words[i] !== (i | 1)) wrong += 1;
    expect(wrong).toBe(0);
    await memory.close();
  });

  it('gives small buffers without a helper, with the requested length available', async () => {
    const memory = allocatePrefaulted(10);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(10);
    await memory.close();
  });
});
