import { describe, expect, it } from 'vitest';
import { authFailureLimiter, type AuthFailureSummary } from '../../../src/access/auth-failure-limiter.js';

/** One step of a scenario: at time `at` (ms), `address` fails to authenticate or asks to (refusal check). */
type Step = { at: number; address: string; op: 'fail' | 'check' };
type Outcome = 'first' | 'repeated' | 'allowed' | number;

function play(steps: Step[], limits = { maxFailures: 3, windowMs: 60_000, maxAddresses: 100 }) {
  let clock = 0;
  const summaries: AuthFailureSummary[] = [];
  const limiter = authFailureLimiter(limits, { now: () => clock, onSummary: (s) => summaries.push(s) });
  const outcomes: Outcome[] = steps.map(({ at, address, op }) => {
    clock = at;
    if (op === 'fail') return limiter.failed(address, '/api/me');
    return limiter.refusal(address, '/api/me') ?? 'allowed';
  });
  return { outcomes, summaries, limiter, setClock: (t: number) => (clock = t) };
}

const fail = (at: number, address = 'A'): Step => ({ at, address, op: 'fail' });
const check = (at: number, address = 'A'): Step => ({ at, address, op: 'check' });

describe('authFailureLimiter', () => {
  it.each<[string, Step[], Outcome[]]>([
    [
      'allows an address below the limit',
      [fail(0), check(1), fail(2), check(3)],
      ['first', 'allowed', 'repeated', 'allowed'],
    ],
    [
      'refuses an address at the limit until its window ends, with the seconds left',
      [fail(0), fail(1_000), fail(2_000), check(2_500), check(59_001), check(60_000)],
      ['first', 'repeated', 'repeated', 58, 1, 'allowed'],
    ],
    [
      'keeps other addresses apart',
      [fail(0), fail(1), fail(2), check(3, 'B'), check(4)],
      ['first', 'repeated', 'repeated', 'allowed', 60],
    ],
    [
      'starts a new window (audited again) after the old one ended',
      [fail(0), fail(1), fail(2), fail(60_000), check(60_001)],
      ['first', 'repeated', 'repeated', 'first', 'allowed'],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(play(steps).outcomes).toEqual(expected);
  });

  it('summarises a window with repeated failures once, when it ends, and stays silent for a single failure', () => {
    const steps = [fail(0), fail(10), fail(20), check(30), check(40), fail(100, 'B')];
    const { summaries, limiter, setClock } = play(steps);
    expect(summaries).toEqual([]);
    setClock(60_000);
    limiter.sweep();
    expect(summaries).toEqual([
      { address: 'A', failures: 3, refused: 2, firstAt: 0, lastAt: 40, windowMs: 60_000, paths: ['/api/me'] },
    ]);
    setClock(60_100);
    limiter.sweep();
    expect(summaries).toHaveLength(1); // B failed once: audited by itself, nothing to summarise
    expect(limiter.size).toBe(0);
  });

  it('turns 1000 tries into one audited failure and one summary', () => {
    const steps = Array.from({ length: 1000 }, (_, n) => (n < 10 ? fail(n) : check(n)));
    const { outcomes, summaries, limiter } = play(steps, {
      maxFailures: 10,
      windowMs: 60_000,
      maxAddresses: 100,
    });
    expect(outcomes.filter((o) => o === 'first')).toHaveLength(1);
    expect(outcomes.filter((o) => typeof o === 'number')).toHaveLength(990);
    limiter.flush();
    expect(summaries).toMatchObject([{ failures: 10, refused: 990 }]);
  });

  it('tracks at most maxAddresses, summarising the evicted oldest', () => {
    const steps = [fail(0, 'A'), fail(1, 'A'), fail(2, 'B'), fail(3, 'C')];
    const { summaries, limiter } = play(steps, { maxFailures: 3, windowMs: 60_000, maxAddresses: 2 });
    expect(limiter.size).toBe(2);
    expect(summaries).toMatchObject([{ address: 'A', failures: 2 }]);
  });
});
