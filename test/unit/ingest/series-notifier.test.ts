import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttledSeriesNotifier } from '../../../src/ingest/series-notifier.js';

describe('throttledSeriesNotifier', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('signals the first instance at once and the rest of a window once at its end', async () => {
    const sent: string[] = [];
    const notifier = throttledSeriesNotifier(
      (series, sop) => Promise.resolve(void sent.push(`${series}/${sop}`)),
      1000,
      () => {},
    );
    await notifier.notify('1.1', 'a');
    await notifier.notify('1.1', 'b');
    await notifier.notify('1.1', 'c');
    await notifier.notify('1.2', 'x');
    expect(sent).toEqual(['1.1/a', '1.2/x']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual(['1.1/a', '1.2/x', '1.1/c']);
    await notifier.notify('1.1', 'd');
    expect(sent.at(-1)).toBe('1.1/d');
  });

  it('flushes pending signals on demand', async () => {
    const sent: string[] = [];
    const notifier = throttledSeriesNotifier(
      (_series, sop) => Promise.resolve(void sent.push(sop)),
      60_000,
      () => {},
    );
    await notifier.notify('1.1', 'a');
    await notifier.notify('1.1', 'b');
    await notifier.flush();
    expect(sent).toEqual(['a', 'b']);
  });

  it('lets the caller see a failed first signal, and reports failed trailing ones', async () => {
    const errors: string[] = [];
    let fail = true;
    const notifier = throttledSeriesNotifier(
      () => (fail ? Promise.reject(new Error('temporal down')) : Promise.resolve()),
      1000,
      (_error, series) => errors.push(series),
    );
    await expect(notifier.notify('1.1', 'a')).rejects.toThrow('temporal down');
    fail = false;
    await notifier.notify('1.1', 'b');
    fail = true;
    await notifier.notify('1.1', 'c');
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toEqual(['1.1']);
  });
});
