import { describe, expect, it } from 'vitest';
import {
  matchToPrior,
  volumeDoublingTimeDays,
  type MatchedNodule,
  type NoduleComparison,
  type PriorMatchResult,
  type StudyNodule,
  type StudyNodules,
} from '../../../src/findings/prior-matching.js';
import { DomainError } from '../../../src/shared/errors.js';
import type { Vec3 } from '../../../src/volume/volume.js';

const nodule = (id: string, centreLps: Vec3, overrides: Partial<StudyNodule> = {}): StudyNodule => ({
  id,
  centreLps,
  meanDiameterMm: 6,
  volumeMm3: 113,
  type: 'solid',
  ...overrides,
});

const study = (
  studyDate: string,
  nodules: StudyNodule[],
  lungBoxLps?: StudyNodules['lungBoxLps'],
): StudyNodules => ({
  studyDate,
  nodules,
  lungBoxLps,
});

const shift = (p: Vec3, t: Vec3): Vec3 => [p[0] + t[0], p[1] + t[1], p[2] + t[2]];
const box = (min: Vec3, max: Vec3) => ({ min, max });

function matched(result: PriorMatchResult, currentId: string): MatchedNodule {
  const found: NoduleComparison | undefined = result.nodules.find((n) => n.currentId === currentId);
  if (found?.status !== 'growing' && found?.status !== 'stable')
    throw new Error(`${currentId} is not matched`);
  return found;
}

/** Four well-separated nodules in the prior frame, mm. */
const PRIOR_CENTRES: Vec3[] = [
  [-80, 20, -100],
  [70, 40, -140],
  [-60, -10, -200],
  [90, 10, -60],
];

describe('matchToPrior: alignment', () => {
  it.each([
    {
      name: 'lung boxes only (2 nodules, too few pairs)',
      t: [4, -7, 25] as Vec3,
      centres: PRIOR_CENTRES.slice(0, 2),
      boxes: true,
      method: 'lung-boxes',
    },
    {
      name: 'nodule pairs only (no boxes)',
      t: [-12, 5, 18] as Vec3,
      centres: PRIOR_CENTRES,
      boxes: false,
      method: 'nodule-pairs',
    },
    {
      name: 'lung boxes refined by nodule pairs',
      t: [3, 2, -20] as Vec3,
      centres: PRIOR_CENTRES,
      boxes: true,
      method: 'lung-boxes+nodule-pairs',
    },
    {
      name: 'identity (no boxes, too few pairs)',
      t: [0, 0, 0] as Vec3,
      centres: PRIOR_CENTRES.slice(0, 2),
      boxes: false,
      method: 'identity',
    },
  ])('$name', ({ t, centres, boxes, method }) => {
    const priorBox = box([-150, -100, -300], [150, 120, 0]);
    const prior = study(
      '2023-01-10',
      centres.map((c, k) => nodule(`p${k}`, c)),
      boxes ? priorBox : undefined,
    );
    const current = study(
      '2024-01-05',
      centres.map((c, k) => nodule(`c${k}`, shift(c, t))),
      boxes ? box(shift(priorBox.min, t), shift(priorBox.max, t)) : undefined,
    );

    const result = matchToPrior(current, prior);

    expect(result.alignment.method).toBe(method);
    result.alignment.translationMm.forEach((v, axis) => expect(v).toBeCloseTo(t[axis]!, 9));
    centres.forEach((_, k) => {
      const m = matched(result, `c${k}`);
      expect(m.priorId).toBe(`p${k}`);
      expect(m.distanceMm).toBeCloseTo(0, 9);
    });
  });

  it('the median of nodule pairs refines a lung box biased by inspiration', () => {
    const t: Vec3 = [2, -3, 15];
    // Deeper inspiration in the current scan: the box grows caudally by 20 mm, moving its centre by 10 mm.
    const prior = study(
      '2023-01-10',
      PRIOR_CENTRES.map((c, k) => nodule(`p${k}`, c)),
      box([-150, -100, -300], [150, 120, 0]),
    );
    const current = study(
      '2024-01-05',
      PRIOR_CENTRES.map((c, k) => nodule(`c${k}`, shift(c, t))),
      box(shift([-150, -100, -320], t), shift([150, 120, 0], t)),
    );

    const { alignment } = matchToPrior(current, prior);

    expect(alignment.method).toBe('lung-boxes+nodule-pairs');
    expect(alignment.nodulePairCount).toBe(4);
    alignment.translationMm.forEach((v, axis) => expect(v).toBeCloseTo(t[axis]!, 9));
  });

  it('a shift larger than the match distance is undone before matching', () => {
    const t: Vec3 = [0, 0, 30];
    const prior = study(
      '2023-01-10',
      PRIOR_CENTRES.map((c, k) => nodule(`p${k}`, c)),
    );
    const current = study(
      '2024-01-05',
      PRIOR_CENTRES.map((c, k) => nodule(`c${k}`, shift(c, t))),
    );

    const result = matchToPrior(current, prior);

    expect(result.nodules.map((n) => n.status)).toEqual(['stable', 'stable', 'stable', 'stable']);
    expect(result.resolved).toEqual([]);
  });
});

describe('matchToPrior: matching', () => {
  it('reports a new nodule and a resolved one', () => {
    const prior = study('2023-01-10', [nodule('p0', [0, 0, 0]), nodule('gone', [60, 0, 0])]);
    const current = study('2023-07-10', [nodule('c0', [1, 0, 0]), nodule('fresh', [-60, 40, -30])]);

    const result = matchToPrior(current, prior);

    expect(matched(result, 'c0').priorId).toBe('p0');
    expect(result.nodules.find((n) => n.currentId === 'fresh')).toEqual({
      currentId: 'fresh',
      status: 'new',
    });
    expect(result.resolved).toEqual([{ priorId: 'gone', alignedCentreLps: [60, 0, 0] }]);
  });

  it('assigns one prior to at most one current nodule', () => {
    const prior = study('2023-01-10', [nodule('p0', [0, 0, 0])]);
    const current = study('2023-07-10', [nodule('near', [2, 0, 0]), nodule('nearer', [0, 1, 0])]);

    const result = matchToPrior(current, prior);

    expect(matched(result, 'nearer').priorId).toBe('p0');
    expect(result.nodules.find((n) => n.currentId === 'near')?.status).toBe('new');
  });

  it('prefers two pairs over the single closest pair', () => {
    // Greedy by distance would pair a-x (1 mm) and leave b and y unmatched (b-y: 16 mm, beyond 10 mm).
    const prior = study('2023-01-10', [nodule('x', [0, 0, 0]), nodule('y', [8, 0, 0])]);
    const current = study('2023-07-10', [nodule('a', [1, 0, 0]), nodule('b', [-8, 0, 0])]);

    const result = matchToPrior(current, prior);

    expect(matched(result, 'a').priorId).toBe('y');
    expect(matched(result, 'b').priorId).toBe('x');
  });

  it.each([
    { name: 'within the 10 mm floor', d: 9.9, diameter: 6, matches: true },
    { name: 'beyond the 10 mm floor', d: 10.1, diameter: 6, matches: false },
    { name: 'within half of a 30 mm diameter', d: 14.9, diameter: 30, matches: true },
    { name: 'beyond half of a 30 mm diameter', d: 15.1, diameter: 30, matches: false },
  ])('acceptance distance: $name', ({ d, diameter, matches }) => {
    const prior = study('2023-01-10', [nodule('p0', [0, 0, 0], { meanDiameterMm: diameter })]);
    const current = study('2023-07-10', [nodule('c0', [d, 0, 0], { meanDiameterMm: diameter })]);

    expect(matchToPrior(current, prior).nodules[0]!.status).toBe(matches ? 'stable' : 'new');
  });

  it('takes the acceptance floor as an option', () => {
    const prior = study('2023-01-10', [nodule('p0', [0, 0, 0])]);
    const current = study('2023-07-10', [nodule('c0', [12, 0, 0])]);

    expect(matchToPrior(current, prior, { matchDistanceFloorMm: 15 }).nodules[0]!.status).toBe('stable');
  });
});

describe('matchToPrior: growth', () => {
  it.each([
    { name: 'no change', before: 6, after: 6, status: 'stable', decreased: false },
    { name: 'exactly +1.5 mm', before: 5, after: 6.5, status: 'stable', decreased: false },
    {
      name: '+1.5 mm in floating point (7.3 -> 8.8)',
      before: 7.3,
      after: 8.8,
      status: 'stable',
      decreased: false,
    },
    { name: '+1.6 mm', before: 5, after: 6.6, status: 'growing', decreased: false },
    { name: 'exactly -1.5 mm', before: 6.5, after: 5, status: 'stable', decreased: false },
    { name: '-1.6 mm', before: 6.6, after: 5, status: 'stable', decreased: true },
  ])('solid, $name -> $status', ({ before, after, status, decreased }) => {
    const prior = study('2023-01-10', [nodule('p0', [0, 0, 0], { meanDiameterMm: before })]);
    const current = study('2023-07-10', [nodule('c0', [0, 0, 0], { meanDiameterMm: after })]);

    const m = matched(matchToPrior(current, prior), 'c0');

    expect(m.status).toBe(status);
    expect(m.decreased).toBe(decreased);
    expect(m.diameterChangeMm).toBeCloseTo(after - before, 9);
  });

  it.each([
    {
      name: 'solid component +1.6 mm, total +0.5 mm',
      solid: [3, 4.6],
      total: [10, 10.5],
      basis: ['solid-component'],
    },
    { name: 'solid component +1.5 mm', solid: [3, 4.5], total: [10, 10.5], basis: [] },
    { name: 'both grow', solid: [3, 5], total: [10, 12], basis: ['mean-diameter', 'solid-component'] },
  ])('part-solid, $name', ({ solid, total, basis }) => {
    const prior = study('2023-01-10', [
      nodule('p0', [0, 0, 0], { type: 'part-solid', solidComponentMm: solid[0], meanDiameterMm: total[0] }),
    ]);
    const current = study('2023-07-10', [
      nodule('c0', [0, 0, 0], { type: 'part-solid', solidComponentMm: solid[1], meanDiameterMm: total[1] }),
    ]);

    const m = matched(matchToPrior(current, prior), 'c0');

    expect(m.growthBasis).toEqual(basis);
    expect(m.status).toBe(basis.length > 0 ? 'growing' : 'stable');
    expect(m.solidComponentChangeMm).toBeCloseTo(solid[1]! - solid[0]!, 9);
    expect(m.newSolidComponent).toBe(false);
  });

  it('flags a new solid component in a formerly ground-glass nodule', () => {
    const prior = study('2023-01-10', [
      nodule('p0', [0, 0, 0], { type: 'ground-glass', meanDiameterMm: 12 }),
    ]);
    const current = study('2023-07-10', [
      nodule('c0', [0, 0, 0], { type: 'part-solid', solidComponentMm: 3, meanDiameterMm: 12 }),
    ]);

    const m = matched(matchToPrior(current, prior), 'c0');

    expect(m.newSolidComponent).toBe(true);
    expect(m.solidComponentChangeMm).toBeNull();
    expect(m.status).toBe('stable');
  });

  it('reports volume change, interval and doubling time', () => {
    const prior = study('2024-01-01', [nodule('p0', [0, 0, 0], { volumeMm3: 200 })]);
    const current = study('2024-04-10', [nodule('c0', [0, 0, 0], { volumeMm3: 400 })]);

    const result = matchToPrior(current, prior);
    const m = matched(result, 'c0');

    expect(result.intervalDays).toBe(100);
    expect(m.intervalDays).toBe(100);
    expect(m.volumeChangeMm3).toBe(200);
    expect(m.volumeChangePercent).toBeCloseTo(100, 9);
    expect(m.volumeDoublingTimeDays).toBeCloseTo(100, 9);
  });

  it('serialises without Infinity or NaN when a volume is 0 or did not grow', () => {
    const prior = study('2024-01-01', [
      nodule('p0', [0, 0, 0], { volumeMm3: 0 }),
      nodule('p1', [60, 0, 0], { volumeMm3: 300 }),
    ]);
    const current = study('2024-04-10', [
      nodule('c0', [0, 0, 0], { volumeMm3: 50 }),
      nodule('c1', [60, 0, 0], { volumeMm3: 300 }),
    ]);

    const result = matchToPrior(current, prior);

    expect(matched(result, 'c0').volumeDoublingTimeDays).toBeNull();
    expect(matched(result, 'c0').volumeChangePercent).toBeNull();
    expect(matched(result, 'c1').volumeDoublingTimeDays).toBeNull();
    expect(JSON.stringify(result)).not.toMatch(/Infinity|NaN/);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it.each([
    { prior: '2023-03-15', current: '2024-03-15', beyond: false },
    { prior: '2023-03-15', current: '2024-03-16', beyond: true },
    { prior: '2024-02-29', current: '2025-02-28', beyond: false },
    { prior: '2024-02-29', current: '2025-03-01', beyond: true },
  ])('$prior -> $current beyond 12 months: $beyond (growth still reported)', ({ prior, current, beyond }) => {
    const result = matchToPrior(
      study(current, [nodule('c0', [0, 0, 0], { meanDiameterMm: 8 })]),
      study(prior, [nodule('p0', [0, 0, 0], { meanDiameterMm: 6 })]),
    );

    expect(result.beyondTwelveMonths).toBe(beyond);
    expect(result.nodules[0]!.status).toBe('growing');
  });
});

describe('volumeDoublingTimeDays', () => {
  it.each([
    { v1: 100, v2: 200, days: 100, vdt: 100 },
    { v1: 100, v2: 400, days: 100, vdt: 50 },
    { v1: 100, v2: 150, days: 365, vdt: (365 * Math.LN2) / Math.log(1.5) },
    { v1: 100, v2: 100, days: 100, vdt: null },
    { v1: 200, v2: 100, days: 100, vdt: null },
    { v1: 0, v2: 100, days: 100, vdt: null },
    { v1: 100, v2: 0, days: 100, vdt: null },
  ])('$v1 -> $v2 mm³ in $days days: $vdt', ({ v1, v2, days, vdt }) => {
    const result = volumeDoublingTimeDays(v1, v2, days);
    if (vdt === null) expect(result).toBeNull();
    else expect(result).toBeCloseTo(vdt, 9);
  });

  it.each([
    [-1, 100, 100],
    [100, Number.NaN, 100],
    [100, 200, 0],
    [100, 200, -5],
  ])('rejects (%s, %s, %s)', (v1, v2, days) => {
    expect(() => volumeDoublingTimeDays(v1, v2, days)).toThrow(DomainError);
  });
});

describe('matchToPrior: bad input', () => {
  const ok = nodule('n', [0, 0, 0]);
  it.each([
    {
      name: 'unparseable current date',
      current: study('10/01/2024', [ok]),
      prior: study('2023-01-01', [ok]),
    },
    { name: 'impossible prior date', current: study('2024-01-10', [ok]), prior: study('2023-02-30', [ok]) },
    { name: 'prior on the same day', current: study('2024-01-10', [ok]), prior: study('2024-01-10', [ok]) },
    { name: 'prior after current', current: study('2024-01-10', [ok]), prior: study('2024-06-01', [ok]) },
    {
      name: 'negative diameter',
      current: study('2024-01-10', [nodule('n', [0, 0, 0], { meanDiameterMm: -1 })]),
      prior: study('2023-01-01', [ok]),
    },
    {
      name: 'negative volume',
      current: study('2024-01-10', [ok]),
      prior: study('2023-01-01', [nodule('n', [0, 0, 0], { volumeMm3: -5 })]),
    },
    {
      name: 'negative solid component',
      current: study('2024-01-10', [nodule('n', [0, 0, 0], { type: 'part-solid', solidComponentMm: -2 })]),
      prior: study('2023-01-01', [ok]),
    },
    {
      name: 'non-finite centre',
      current: study('2024-01-10', [nodule('n', [0, Number.NaN, 0])]),
      prior: study('2023-01-01', [ok]),
    },
    {
      name: 'duplicate ids',
      current: study('2024-01-10', [ok, nodule('n', [50, 0, 0])]),
      prior: study('2023-01-01', [ok]),
    },
    {
      name: 'inverted lung box',
      current: study('2024-01-10', [ok], box([0, 0, 0], [-1, 10, 10])),
      prior: study('2023-01-01', [ok], box([0, 0, 0], [10, 10, 10])),
    },
  ])('$name -> VALIDATION_FAILED', ({ current, prior }) => {
    expect(() => matchToPrior(current, prior)).toThrow(
      expect.objectContaining({ name: 'DomainError', code: 'VALIDATION_FAILED' }),
    );
  });

  it('handles empty studies', () => {
    const result = matchToPrior(study('2024-01-10', []), study('2023-01-01', [ok]));
    expect(result.nodules).toEqual([]);
    expect(result.resolved).toEqual([{ priorId: 'n', alignedCentreLps: [0, 0, 0] }]);
    expect(matchToPrior(study('2024-01-10', [ok]), study('2023-01-01', [])).nodules).toEqual([
      { currentId: 'n', status: 'new' },
    ]);
  });
});
