import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '../shared/errors.js';
import type { MemoryBudget } from './memory-budget.js';
import type { ReceivingLimits } from './receiving-limits.js';

/** An instance received whole, in memory or in a spool file, ready to be loaded for storing. */
export interface ReceivedInstance {
  byteLength: number;
  /**
   * The bytes in one buffer, with the memory budget held for a spooled instance until `release`; throws a
   * DomainError PAYLOAD_TOO_LARGE when the instance is larger than the whole budget.
   */
  load(): Promise<{ bytes: Buffer; release: () => void }>;
  /** Deletes the spool file, if any; idempotent. */
  dispose(): Promise<void>;
}

/**
 * Receives one instance chunk by chunk: the first `spoolAboveBytes` in memory, the rest (and what came
 * before) in a file under `spoolDir`, so a large or slow instance holds no memory while it arrives. Past
 * `maxInstanceBytes` it stops keeping bytes (`tooLarge`) and the caller refuses the instance. `write`
 * returns false when the caller should wait for `drained()` before writing more (the disk is behind).
 */
export class InstanceSpool {
  private chunks: Buffer[] = [];
  private file: fs.WriteStream | undefined;
  private filePath: string | undefined;
  private failure: Error | undefined;
  byteLength = 0;
  tooLarge = false;

  constructor(
    private readonly limits: ReceivingLimits,
    private readonly budget: MemoryBudget,
    /** Bytes written before the first chunk (a Part 10 preamble and file meta for a C-STORE data set). */
    prefix?: Buffer,
  ) {
    if (prefix) this.append(prefix);
  }

  write(chunk: Buffer): boolean {
    return this.append(chunk);
  }

  private append(chunk: Buffer): boolean {
    this.byteLength += chunk.length;
    if (this.tooLarge) return true;
    if (this.byteLength > this.limits.maxInstanceBytes) {
      this.tooLarge = true;
      this.chunks = [];
      this.file?.destroy();
      return true;
    }
    if (!this.file && this.byteLength <= this.limits.spoolAboveBytes) {
      this.chunks.push(chunk);
      return true;
    }
    if (!this.file) this.openFile();
    return this.file!.write(chunk);
  }

  private openFile(): void {
    fs.mkdirSync(this.limits.spoolDir, { recursive: true });
    this.filePath = path.join(this.limits.spoolDir, `${randomUUID()}.spool`);
    this.file = fs.createWriteStream(this.filePath, { flags: 'wx', highWaterMark: 1024 * 1024 });
    this.file.on('error', (error) => (this.failure ??= error));
    for (const chunk of this.chunks) this.file.write(chunk);
    this.chunks = [];
  }

  /** Resolves once the spool file has taken what was written (at once for an instance in memory). */
  drained(): Promise<void> {
    const file = this.file;
    if (!file || !file.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      file.once('drain', resolve);
      file.once('close', resolve);
    });
  }

  /** Ends the instance: everything written is in memory or flushed to the spool file. */
  async finish(): Promise<ReceivedInstance> {
    const file = this.file;
    const filePath = this.filePath;
    const byteLength = this.byteLength;
    const dispose = async () => {
      if (filePath) await fsp.rm(filePath, { force: true });
    };
    if (file && !this.tooLarge) {
      await new Promise<void>((resolve, reject) => {
        file.end((error?: Error | null) => (error ? reject(error) : resolve()));
      });
    }
    if (this.failure) {
      await dispose();
      throw this.failure;
    }
    if (!file) {
      const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, byteLength);
      this.chunks = [];
      return { byteLength, load: () => Promise.resolve({ bytes, release: () => {} }), dispose };
    }
    return {
      byteLength,
      load: async () => {
        let release: () => void;
        try {
          release = await this.budget.acquire(byteLength);
        } catch {
          throw new DomainError(
            'PAYLOAD_TOO_LARGE',
            `the instance of ${byteLength} bytes exceeds NODUS_INGEST_MEMORY_BYTES (${this.budget.capacity} bytes)`,
          );
        }
        try {
          return { bytes: await fsp.readFile(filePath!), release };
        } catch (error) {
          release();
          throw error;
        }
      },
      dispose,
    };
  }

  /** Gives up the instance (a cut transfer): nothing is kept. */
  async abandon(): Promise<void> {
    this.chunks = [];
    if (this.file) {
      this.file.destroy();
      await fsp.rm(this.filePath!, { force: true });
    }
  }
}
