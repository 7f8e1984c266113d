import { describe, expect, it } from 'vitest';
import {
  frocCurve,
  LUNA16_FP_RATES,
  matchScan,
  scoreFroc,
  sensitivityAtFpRate,
  type ScanToScore,
} from '../../../src/evaluation/froc.js';
import type { Vec3 } from '../../../src/volume/volume.js';

const at = (x: number, y = 0, z = 0): Vec3 => [x, y, z];

/**
 * Two scans, worked by hand:
 * scan a: nodules A1 (0,0,0) 10 mm and A2 (50,0,0) 6 mm, an irrelevant point mark at (100,0,0).
 *   0.90 at 1 mm from A1: hit; 0.50 at 2 mm from A1: duplicate (ignored); 0.95 at 0.5 mm from the
 *   irrelevant mark: ignored; 0.80 far away: FP; 0.30 at 2.9 mm from A2 (radius 3): hit.
 * scan b: nodule B1 (0,0,0) 8 mm.
 *   0.99 at exactly 4 mm (= radius; hits need < radius): FP; 0.60: FP; 0.40 at 1 mm: hit.
 * Pooled, high to low: 0.99 FP, 0.90 H, 0.80 FP, 0.60 FP, 0.40 H, 0.30 H (3 nodules, 2 scans):
 *   (0, 0) (0.5, 0) (0.5, 1/3) (1, 1/3) (1.5, 1/3) (1.5, 2/3) (1.5, 1)
 * Sensitivity at 1/8, 1/4: 0 (between (0,0) and (0.5,0)); 1/2: 1/3; 1: 1/3; 2, 4, 8: 1.
 * CPM = (0 + 0 + 1/3 + 1/3 + 1 + 1 + 1) / 7 = 11/21.
 */
const twoScans: ScanToScore[] = [
  {
    scanId: 'a',
    nodules: [
      { centreLps: at(0), diameterMm: 10, id: 'A1' },
      { centreLps: at(50), diameterMm: 6, id: 'A2' },
    ],
    irrelevant: [{ centreLps: at(100), diameterMm: 0 }],
    detections: [
      { centreLps: at(1), score: 0.9 },
      { centreLps: at(0, 2), score: 0.5 },
      { centreLps: at(100, 0, 0.5), score: 0.95 },
      { centreLps: at(200), score: 0.8 },
      { centreLps: at(52.9), score: 0.3 },
    ],
  },
  {
    scanId: 'b',
    nodules: [{ centreLps: at(0), diameterMm: 8, id: 'B1' }],
    irrelevant: [],
    detections: [
      { centreLps: at(4), score: 0.99 },
      { centreLps: at(30), score: 0.6 },
      { centreLps: at(0, 0, 1), score: 0.4 },
    ],
  },
];

describe('matchScan', () => {
  it('sorts detections into hits, duplicates, ignored and false positives', () => {
    const a = matchScan(twoScans[0]!);
    expect(a.hitScores.sort()).toEqual([0.3, 0.9]);
    expect(a.falsePositiveScores).toEqual([0.8]);
    expect(a.ignoredIrrelevant).toBe(1);
    expect(a.duplicateHits).toBe(1);
    expect(a.perNodule.map((n) => [n.id, n.hit, n.bestScore, n.hits])).toEqual([
      ['A1', true, 0.9, 2],
      ['A2', true, 0.3, 1],
    ]);
    expect(a.perNodule[0]!.distanceMm).toBeCloseTo(1, 12);
    expect(a.perNodule[1]!.distanceMm).toBeCloseTo(2.9, 12);

    const b = matchScan(twoScans[1]!);
    expect(b.hitScores).toEqual([0.4]);
    expect(b.falsePositiveScores.sort()).toEqual([0.6, 0.99]); // 4 mm from a 8 mm nodule is not inside
  });

  it('ignores detections within max(radius, 1.5 mm) of an irrelevant finding, and only those', () => {
    const scan = (irrelevantDiameter: number, offset: number): ScanToScore => ({
      scanId: 's',
      nodules: [],
      irrelevant: [{ centreLps: at(0), diameterMm: irrelevantDiameter }],
      detections: [{ centreLps: at(offset), score: 1 }],
    });
    expect(matchScan(scan(0, 1.4)).ignoredIrrelevant).toBe(1);
    expect(matchScan(scan(0, 1.6)).falsePositiveScores).toEqual([1]);
    expect(matchScan(scan(6, 2.9)).ignoredIrrelevant).toBe(1);
    expect(matchScan(scan(6, 3.1)).falsePositiveScores).toEqual([1]);
    expect(matchScan(scan(0, 4), { minIrrelevantRadiusMm: 5 }).ignoredIrrelevant).toBe(1);
  });

  it('counts a detection on a nodule as a hit even when it also lies in an irrelevant finding', () => {
    const match = matchScan({
      scanId: 's',
      nodules: [{ centreLps: at(0), diameterMm: 10 }],
      irrelevant: [{ centreLps: at(1), diameterMm: 4 }],
      detections: [{ centreLps: at(1), score: 0.7 }],
    });
    expect(match.hitScores).toEqual([0.7]);
    expect(match.ignoredIrrelevant).toBe(0);
  });

  it('keeps only the highest-scoring detections of a scan (LUNA16: 100)', () => {
    const detections = Array.from({ length: 100 }, (_, n) => ({
      centreLps: at(1000 + 10 * n),
      score: 0.5 + n / 1000,
    }));
    const scan: ScanToScore = {
      scanId: 's',
      nodules: [{ centreLps: at(0), diameterMm: 10 }],
      irrelevant: [],
      detections: [...detections, { centreLps: at(0), score: 0.1 }],
    };
    expect(matchScan(scan).hitScores).toEqual([]);
    expect(matchScan(scan).droppedBeyondMax).toBe(1);
    expect(matchScan(scan, { maxDetectionsPerScan: Infinity }).hitScores).toEqual([0.1]);
  });

  it('rejects a non-finite score', () => {
    expect(() =>
      matchScan({ scanId: 's', nodules: [], irrelevant: [], detections: [{ centreLps: at(0), score: NaN }] }),
    ).toThrow(/non-finite/);
  });
});

describe('FROC curve and CPM', () => {
  it('reproduces the hand-computed curve, sensitivities and CPM', () => {
    const result = scoreFroc(twoScans, { bootstrapRounds: 0 });
    expect(result.curve.map((p) => [p.fpPerScan, p.sensitivity])).toEqual([
      [0, 0],
      [0.5, 0],
      [0.5, 1 / 3],
      [1, 1 / 3],
      [1.5, 1 / 3],
      [1.5, 2 / 3],
      [1.5, 1],
    ]);
    expect(result.sensitivities.map((s) => s.fpPerScan)).toEqual([...LUNA16_FP_RATES]);
    const expected = [0, 0, 1 / 3, 1 / 3, 1, 1, 1];
    result.sensitivities.forEach((s, n) => expect(s.sensitivity).toBeCloseTo(expected[n]!, 12));
    expect(result.cpm).toBeCloseTo(11 / 21, 12);
    expect(result).toMatchObject({
      scans: 2,
      nodules: 3,
      hits: 3,
      falsePositives: 3,
      ignoredIrrelevant: 1,
      duplicateHits: 1,
    });
    expect(result.cpmInterval).toBeUndefined();
  });

  it('rejects FP rates that are not positive', () => {
    expect(() => scoreFroc(twoScans, { fpRates: [] })).toThrow(/FP rates/);
    expect(() => scoreFroc(twoScans, { fpRates: [0, 1] })).toThrow(/FP rates/);
  });

  it('interpolates linearly between operating points, as numpy.interp does', () => {
    // One scan, two nodules: FP 0.9, then a hit and an FP tied at 0.7: (0,0) (1,0) (2,0.5).
    const curve = frocCurve([
      matchScan({
        scanId: 's',
        nodules: [
          { centreLps: at(0), diameterMm: 10 },
          { centreLps: at(100), diameterMm: 10 },
        ],
        irrelevant: [],
        detections: [
          { centreLps: at(50), score: 0.9 },
          { centreLps: at(0), score: 0.7 },
          { centreLps: at(60), score: 0.7 },
        ],
      }),
    ]);
    expect(curve.map((p) => [p.threshold, p.fpPerScan, p.sensitivity])).toEqual([
      [Infinity, 0, 0],
      [0.9, 1, 0],
      [0.7, 2, 0.5],
    ]);
    expect(sensitivityAtFpRate(curve, 1.5)).toBeCloseTo(0.25, 12);
    expect(sensitivityAtFpRate(curve, 1.9)).toBeCloseTo(0.45, 12);
    expect(sensitivityAtFpRate(curve, 8)).toBe(0.5);
  });

  it('gives a detector without false positives its final sensitivity at every rate', () => {
    const result = scoreFroc(
      [
        {
          scanId: 's',
          nodules: [
            { centreLps: at(0), diameterMm: 10 },
            { centreLps: at(100), diameterMm: 10 },
          ],
          irrelevant: [],
          detections: [{ centreLps: at(0), score: 0.2 }],
        },
      ],
      { bootstrapRounds: 0 },
    );
    expect(result.cpm).toBe(0.5);
  });

  it('scores 1 for a perfect detector and 0 for one that finds nothing', () => {
    const scans = (hit: boolean): ScanToScore[] =>
      [0, 1, 2].map((n) => ({
        scanId: `s${n}`,
        nodules: [{ centreLps: at(n), diameterMm: 8 }],
        irrelevant: [],
        detections: [...(hit ? [{ centreLps: at(n), score: 0.9 }] : []), { centreLps: at(500), score: 0.1 }],
      }));
    expect(scoreFroc(scans(true), { bootstrapRounds: 0 }).cpm).toBe(1);
    expect(scoreFroc(scans(false), { bootstrapRounds: 0 }).cpm).toBe(0);
    expect(scoreFroc(scans(false), { bootstrapRounds: 0 }).perNodule.every((n) => !n.hit)).toBe(true);
  });
});

describe('bootstrap interval of the CPM', () => {
  /** Twelve scans of varied difficulty: scan n has its nodule found with score n/12 and FPs of varied scores. */
  const varied: ScanToScore[] = Array.from({ length: 12 }, (_, n) => ({
    scanId: `s${n}`,
    nodules: [{ centreLps: at(0), diameterMm: 10 }],
    irrelevant: [],
    detections: [
      ...(n % 4 === 3 ? [] : [{ centreLps: at(1), score: (n + 1) / 13 }]),
      ...Array.from({ length: n % 5 }, (_, k) => ({
        centreLps: at(100 + 10 * k),
        score: ((7 * n + 3 * k) % 13) / 13,
      })),
    ],
  }));

  it('contains the point estimate and is reproducible for a seed', () => {
    const first = scoreFroc(varied, { seed: 7 });
    const again = scoreFroc(varied, { seed: 7 });
    const other = scoreFroc(varied, { seed: 8 });
    expect(first.cpmInterval).toBeDefined();
    const { lower, upper, rounds, confidence } = first.cpmInterval!;
    expect(rounds).toBe(1000);
    expect(confidence).toBe(0.95);
    expect(lower).toBeLessThanOrEqual(first.cpm);
    expect(upper).toBeGreaterThanOrEqual(first.cpm);
    expect(upper - lower).toBeGreaterThan(0);
    expect(again.cpmInterval).toEqual(first.cpmInterval);
    expect(other.cpm).toBe(first.cpm);
    expect(other.cpmInterval).not.toEqual(first.cpmInterval);
  });

  it('collapses to the point estimate when every scan is alike', () => {
    const alike = Array.from({ length: 8 }, (_, n) => ({ ...twoScans[0]!, scanId: `s${n}` }));
    const result = scoreFroc(alike, { bootstrapRounds: 200 });
    expect(result.cpmInterval!.lower).toBeCloseTo(result.cpm, 12);
    expect(result.cpmInterval!.upper).toBeCloseTo(result.cpm, 12);
  });

  it('leaves out rounds that drew no nodule', () => {
    const scans: ScanToScore[] = [
      {
        scanId: 'nodule',
        nodules: [{ centreLps: at(0), diameterMm: 10 }],
        irrelevant: [],
        detections: [{ centreLps: at(0), score: 1 }],
      },
      { scanId: 'empty', nodules: [], irrelevant: [], detections: [] },
    ];
    const result = scoreFroc(scans, { bootstrapRounds: 400 });
    // Each round draws only the empty scan with probability 1/4.
    expect(result.cpmInterval!.rounds).toBeLessThan(400);
    expect(result.cpmInterval!.rounds).toBeGreaterThan(250);
    expect(result.cpmInterval!.lower).toBe(1);
  });
});
