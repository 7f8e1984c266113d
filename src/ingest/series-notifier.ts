/**
 * Coalesces "an instance of series X arrived" notifications. The workflow only needs to know that
 * something arrived, to restart its quiet period, so one signal per series per window is enough:
 * the first instance of a window is signalled at once (and awaited, so a new series' workflow exists
 * before ingest answers), later ones in the same window by one trailing signal at its end.
 */
export interface SeriesNotifier {
  notify: (seriesInstanceUid: string, sopInstanceUid: string) => Promise<void>;
  /** Sends every pending trailing signal now (call before shutting down). */
  flush: () => Promise<void>;
}

export function throttledSeriesNotifier(
  send: (seriesInstanceUid: string, sopInstanceUid: string) => Promise<void>,
  windowMs: number,
  onError: (error: unknown, seriesInstanceUid: string) => void,
): SeriesNotifier {
  const windows = new Map<string, { timer: NodeJS.Timeout; pending: string | undefined }>();

  const closeWindow = async (series: string) => {
    const window = windows.get(series);
    if (!window) return;
    clearTimeout(window.timer);
    windows.delete(series);
    if (window.pending !== undefined) {
      await send(series, window.pending).catch((error: unknown) => onError(error, series));
    }
  };

  return {
    async notify(series, sop) {
      const open = windows.get(series);
      if (open) {
        open.pending = sop;
        return;
      }
      const timer = setTimeout(() => void closeWindow(series), windowMs);
      timer.unref();
      windows.set(series, { timer, pending: undefined });
      try {
        await send(series, sop);
      } catch (error) {
        clearTimeout(timer);
        windows.delete(series);
        throw error;
      }
    },
    async flush() {
      await Promise.all([...windows.keys()].map(closeWindow));
    },
  };
}
