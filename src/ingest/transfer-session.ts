import type { Database } from '../db/client.js';
import { closeSeriesTransfers, openSeriesTransfer } from '../db/repositories/series.js';

/** How a transfer ended: `complete` (A-RELEASE, a whole STOW-RS body, an import) or `interrupted`. */
export type TransferEnd = 'complete' | 'interrupted';

/**
 * One transfer of instances: a DICOM association, a STOW-RS request or an import. Every series it stores
 * into counts it as open until it ends; a series whose last transfer ended `interrupted` is incomplete until
 * a later transfer of it completes (src/temporal/activities/series.ts reads both).
 */
export class TransferSession {
  private readonly series = new Map<string, Promise<void>>();
  private ended = false;

  constructor(private readonly db: Database) {}

  /** Counts this transfer as open on the series (once per series); resolves once that is recorded. */
  joined(seriesId: string): Promise<void> {
    let opened = this.series.get(seriesId);
    if (!opened) {
      opened = this.ended ? Promise.resolve() : openSeriesTransfer(this.db, seriesId);
      this.series.set(seriesId, opened);
    }
    return opened;
  }

  /** Ends the transfer on every series it stored into; idempotent. */
  async end(how: TransferEnd): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const ids = [...this.series.keys()];
    await Promise.allSettled(this.series.values());
    if (ids.length > 0) await closeSeriesTransfers(this.db, ids, how === 'interrupted');
  }

  /** How many series this transfer stored into. */
  get seriesCount(): number {
    return this.series.size;
  }
}
