/** How many failed authentications a client address may have, and in what time. */
export interface AuthFailureLimits {
  /** Failed authentications of one address in a window; beyond them the address is refused until it ends. */
  maxFailures: number;
  /** Length of a window, ms; an address's window starts at its first failure. */
  windowMs: number;
  /** Addresses tracked at once (memory bound); beyond it the oldest window ends early. Default 10 000. */
  maxAddresses?: number;
}

/** NODUS_AUTH_MAX_FAILURES / NODUS_AUTH_FAILURE_WINDOW_MS defaults: 10 failures a minute. */
export const DEFAULT_AUTH_FAILURE_LIMITS: Required<AuthFailureLimits> = {
  maxFailures: 10,
  windowMs: 60_000,
  maxAddresses: 10_000,
};

/** One address's window, when it had more to report than its first failure (which was audited by itself). */
export interface AuthFailureSummary {
  address: string;
  /** Failed authentications in the window, the first included. */
  failures: number;
  /** Requests refused (429) while the address was blocked: their tokens were not looked at. */
  refused: number;
  /** First and last failed or refused request, ms since the epoch. */
  firstAt: number;
  lastAt: number;
  windowMs: number;
  /** Paths the address tried (the first 10 distinct ones). */
  paths: string[];
}

interface Window {
  startedAt: number;
  failures: number;
  refused: number;
  lastAt: number;
  paths: Set<string>;
}

const MAX_PATHS = 10;

/**
 * Brute-force protection of bearer tokens, per client address (fixed windows). Up to `maxFailures` failed
 * authentications an address gets its answer (401); after that every request of the address that needs a
 * token is refused (429, Retry-After) until its window ends, without looking at the token, so a correct token
 * guessed while blocked is not recognised either and guessing runs at `maxFailures` per window at most. A
 * success does not reset the count (an attacker holding one token could otherwise reset it at will).
 *
 * Auditing is aggregated: the first failure of a window is audited by itself (the caller does that when
 * `failed` answers `first`), and `onSummary` receives one summary per window that had more. It is called when
 * the window ends (checked on every call and by an unref'd timer), when the address is evicted to stay within
 * `maxAddresses`, and on `flush`.
 */
export function authFailureLimiter(
  limits: AuthFailureLimits,
  options: { onSummary: (summary: AuthFailureSummary) => void; now?: () => number },
) {
  const maxAddresses = limits.maxAddresses ?? DEFAULT_AUTH_FAILURE_LIMITS.maxAddresses;
  const now = options.now ?? Date.now;
  // Insertion order is start order (every window lasts windowMs), so the oldest windows come first.
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;

  const end = (address: string, window: Window) => {
    windows.delete(address);
    if (window.failures > 1 || window.refused > 0) {
      options.onSummary({
        address,
        failures: window.failures,
        refused: window.refused,
        firstAt: window.startedAt,
        lastAt: window.lastAt,
        windowMs: limits.windowMs,
        paths: [...window.paths],
      });
    }
  };

  /** Ends every window past its end; stops the timer when none is left. */
  const sweep = () => {
    const t = now();
    for (const [address, window] of windows) {
      if (t < window.startedAt + limits.windowMs) break;
      end(address, window);
    }
    if (windows.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const current = (address: string): Window | undefined => {
    sweep();
    return windows.get(address);
  };

  return {
    /**
     * Before a token is looked at: undefined when the address may authenticate, else the whole seconds until
     * its window ends (the request counts as refused).
     */
    refusal(address: string, path: string): number | undefined {
      const window = current(address);
      if (!window || window.failures < limits.maxFailures) return undefined;
      window.refused += 1;
      window.lastAt = now();
      if (window.paths.size < MAX_PATHS) window.paths.add(path);
      return Math.max(1, Math.ceil((window.startedAt + limits.windowMs - window.lastAt) / 1000));
    },

    /** After a failed authentication: `first` of the address's window (audit it), or `repeated` (summarised). */
    failed(address: string, path: string): 'first' | 'repeated' {
      const t = now();
      const window = current(address);
      if (window) {
        window.failures += 1;
        window.lastAt = t;
        if (window.paths.size < MAX_PATHS) window.paths.add(path);
        return 'repeated';
      }
      if (windows.size >= maxAddresses) {
        const [oldest, oldestWindow] = windows.entries().next().value!;
        end(oldest, oldestWindow);
      }
      windows.set(address, { startedAt: t, failures: 1, refused: 0, lastAt: t, paths: new Set([path]) });
      if (!timer) {
        timer = setInterval(sweep, limits.windowMs);
        timer.unref();
      }
      return 'first';
    },

    /** Ends windows past their end (also done on every call). */
    sweep,

    /** Ends every window now, reporting what it holds (at shutdown). */
    flush(): void {
      for (const [address, window] of windows) end(address, window);
      sweep();
    },

    /** Addresses tracked now. */
    get size(): number {
      return windows.size;
    },
  };
}

export type AuthFailureLimiter = ReturnType<typeof authFailureLimiter>;
