/**
 * Platt scaling: the logistic map p = 1 / (1 + exp(-(slope * logit + intercept))) that best fits labelled
 * scores (maximum likelihood, Newton's method), and the reliability table that shows how well it fits.
 */

export interface Calibration {
  slope: number;
  intercept: number;
}

export const calibrated = (c: Calibration, logit: number) =>
  1 / (1 + Math.exp(-(c.slope * logit + c.intercept)));

/**
 * Fits slope and intercept by Newton's method on the log-likelihood, with Platt's smoothed targets
 * ((n+ + 1) / (n+ + 2) and 1 / (n- + 2)) so separable data does not send the slope to infinity.
 */
export function fitPlatt(logits: readonly number[], labels: readonly (0 | 1)[]): Calibration {
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('Platt scaling needs both classes');
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  const targets = labels.map((l) => (l === 1 ? high : low));
  // Negative log-likelihood, computed stably from the linear predictor.
  const loss = (c: Calibration) =>
    logits.reduce((sum, x, n) => {
      const f = c.slope * x + c.intercept;
      const t = targets[n]!;
      const logOnePlusExp = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
      return sum + t * logOnePlusExp(-f) + (1 - t) * logOnePlusExp(f);
    }, 0);
  let slope = 0;
  let intercept = Math.log((positives + 1) / (negatives + 1));
  let current = loss({ slope, intercept });
  for (let iteration = 0; iteration < 100; iteration += 1) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (const [n, x] of logits.entries()) {
      const p = calibrated({ slope, intercept }, x);
      const d = p - targets[n]!;
      const w = p * (1 - p);
      ga += d * x;
      gb += d;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // Newton's step, halved until the likelihood improves (a plain Newton step can overshoot).
    let step = 1;
    let next = { slope: slope - da, intercept: intercept - db };
    let nextLoss = loss(next);
    while (nextLoss > current && step > 1e-6) {
      step /= 2;
      next = { slope: slope - step * da, intercept: intercept - step * db };
      nextLoss = loss(next);
    }
    const converged = current - nextLoss < 1e-10 * Math.max(1, current);
    if (nextLoss <= current) ({ slope, intercept } = next);
    current = Math.min(current, nextLoss);
    if (converged) break;
  }
  return { slope, intercept };
}

export interface ReliabilityBin {
  /** Predicted probability range [low, high). */
  range: [number, number];
  count: number;
  meanPredicted: number;
  observed: number;
}

/** Predicted vs observed frequency in equal-width probability bins (the reliability curve), and the ECE. */
export function reliability(
  probabilities: readonly number[],
  labels: readonly (0 | 1)[],
  bins = 10,
): { bins: ReliabilityBin[]; expectedCalibrationError: number; brier: number } {
  const out: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b += 1) {
    const low = b / bins;
    const high = (b + 1) / bins;
    const members = probabilities
      .map((p, n) => ({ p, label: labels[n]! }))
      .filter(({ p }) => p >= low && (p < high || (b === bins - 1 && p <= 1)));
    const count = members.length;
    const meanPredicted = count ? members.reduce((s, m) => s + m.p, 0) / count : NaN;
    const observed = count ? members.reduce((s, m) => s + m.label, 0) / count : NaN;
    if (count) ece += (count / probabilities.length) * Math.abs(meanPredicted - observed);
    out.push({ range: [low, high], count, meanPredicted, observed });
  }
  const brier = probabilities.reduce((s, p, n) => s + (p - labels[n]!) ** 2, 0) / probabilities.length;
  return { bins: out, expectedCalibrationError: ece, brier };
}
