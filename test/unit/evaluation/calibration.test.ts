import { describe, expect, it } from 'vitest';
import { calibrated, fitPlatt, reliability } from '../../../src/evaluation/calibration.js';
import { mulberry32 } from '../../../src/phantom/insert-nodule.js';

describe('Platt calibration', () => {
  it('recovers the logistic map that generated the labels', () => {
    const random = mulberry32(5);
    const truth = { slope: 0.6, intercept: -1.2 };
    const logits: number[] = [];
    const labels: (0 | 1)[] = [];
    for (let n = 0; n < 20_000; n += 1) {
      const logit = (random() - 0.5) * 16;
      logits.push(logit);
      labels.push(random() < calibrated(truth, logit) ? 1 : 0);
    }
    const fit = fitPlatt(logits, labels);
    expect(fit.slope).toBeCloseTo(0.6, 1);
    expect(fit.intercept).toBeCloseTo(-1.2, 1);
    const table = reliability(
      logits.map((l) => calibrated(fit, l)),
      labels,
    );
    expect(table.expectedCalibrationError).toBeLessThan(0.02);
    for (const bin of table.bins.filter((b) => b.count > 500))
      expect(Math.abs(bin.observed - bin.meanPredicted)).toBeLessThan(0.05);
  });

  it('shows an overconfident score as such', () => {
    const random = mulberry32(9);
    const logits: number[] = [];
    const labels: (0 | 1)[] = [];
    for (let n = 0; n < 5000; n += 1) {
      const logit = (random() - 0.5) * 10;
      logits.push(logit);
      labels.push(random() < calibrated({ slope: 0.3, intercept: 0 }, logit) ? 1 : 0);
    }
    const raw = reliability(
      logits.map((l) => calibrated({ slope: 1, intercept: 0 }, l)),
      labels,
    );
    expect(raw.expectedCalibrationError).toBeGreaterThan(0.1);
    expect(fitPlatt(logits, labels).slope).toBeCloseTo(0.3, 1);
  });

  it('stays finite on separable data and refuses a single class', () => {
    const fit = fitPlatt([-3, -2, -1, 1, 2, 3], [0, 0, 0, 1, 1, 1]);
    expect(Number.isFinite(fit.slope) && fit.slope > 0).toBe(true);
    expect(() => fitPlatt([1, 2], [1, 1])).toThrow(/both classes/);
  });
});
