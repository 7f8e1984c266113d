/**
 * A budget of bytes shared by everything that holds received instances in memory at once: `acquire` waits
 * (first come, first served) until the bytes are free, so the sum held never exceeds the budget. One caller
 * acquires once per instance, so no holder waits for more while holding some (no deadlock).
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacity: number) {}

  /** Resolves with a release function once `bytes` are free; throws when they never can be. */
  async acquire(bytes: number): Promise<() => void> {
    if (bytes > this.capacity) {
      throw new RangeError(`${bytes} bytes exceed the whole budget of ${this.capacity}`);
    }
    if (this.waiting.length > 0 || this.used + bytes > this.capacity) {
      await new Promise<void>((grant) => this.waiting.push({ bytes, grant }));
    } else {
      this.used += bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      this.grantWaiting();
    };
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.used;
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
