import { DomainError } from '../shared/errors.js';

/**
 * Inter-reader agreement for a research cohort in which several readers reviewed the same studies or
 * nodules: Cohen's kappa (two readers, categorical), Fleiss' kappa (m readers per subject, categorical) and
 * the Shrout & Fleiss intraclass correlations (k readers, continuous measurements such as diameters in mm).
 *
 * Every statistic is a plain dimensionless number; the 95% intervals are two-sided. Bad input throws a
 * DomainError with code VALIDATION_FAILED.
 */

/** z such that P(Z <= z) = 0.975 for a standard normal Z: the half-width factor of a two-sided 95% interval. */
const Z_975 = 1.959963984540054;

/** Expected agreement this close to 1 leaves kappa's denominator (1 - expected) at zero. */
const DEGENERATE_TOLERANCE = 1e-12;

/** A two-sided 95% interval, [lower bound, upper bound]. */
export type Interval95 = [low: number, high: number];

/**
 * How disagreement between ordered categories is credited in Cohen's kappa. With k categories in order and
 * i, j their positions (0-based), the agreement weight of a pair is 1 when i = j and otherwise
 * - `unweighted`: 0;
 * - `linear`: 1 - |i - j| / (k - 1);
 * - `quadratic`: 1 - (i - j)^2 / (k - 1)^2 (close to an ICC of the category positions).
 */
export type KappaWeights = 'unweighted' | 'linear' | 'quadratic';

export interface CohensKappaOptions {
  /** Default `unweighted`. */
  weights?: KappaWeights;
  /**
   * Every category a reader could choose, in order (lowest first). Required for `linear` and `quadratic`
   * weights. When given, a rating outside it throws; when omitted (unweighted only), the categories are those
   * that occur in the ratings.
   */
  categories?: readonly string[];
}

export interface CohensKappaResult {
  /**
   * (observed - expected) / (1 - expected), in [-1, 1]. NaN when `degenerate`: both readers put every
   * subject in the same single category, so chance already explains all agreement and kappa is undefined.
   */
  kappa: number;
  /** Weighted share of subjects on which the readers agree, in [0, 1] (plain share when unweighted). */
  observedAgreement: number;
  /** The agreement expected by chance from the two readers' marginal category frequencies, in [0, 1]. */
  expectedAgreement: number;
  /** Number of subjects (rating pairs). */
  subjects: number;
  /**
   * Large-sample standard error of kappa under the alternative (kappa as estimated, not 0): Fleiss, Cohen &
   * Everitt (1969), equation for weighted kappa; with identity weights it is their unweighted formula.
   * NaN when `degenerate`.
   */
  standardError: number;
  /** Wald interval kappa ± 1.96 standardError; not truncated to [-1, 1]. NaN bounds when `degenerate`. */
  ci95: Interval95;
  /** True when expected agreement is 1 and kappa is undefined (NaN). */
  degenerate: boolean;
  weights: KappaWeights;
}

/**
 * Cohen's kappa for two readers who each put the same subjects into one category: `pairs[s]` holds reader A's
 * and reader B's category for subject s. Unweighted (Cohen 1960) or with linear or quadratic agreement
 * weights (Cohen 1968) over the ordered `categories`.
 *
 * With p_ij the share of subjects A put in i and B in j, r_i and c_j the readers' marginal shares and w_ij the
 * agreement weights: observed = Σ w_ij p_ij, expected = Σ w_ij r_i c_j. The standard error is that of Fleiss,
 * Cohen & Everitt (1969), Var = [Σ p_ij (w_ij - (w̄_i + w̄_j)(1 - κ))² - (κ - expected (1 - κ))²] /
 * (n (1 - expected)²), with w̄_i = Σ_j c_j w_ij and w̄_j = Σ_i r_i w_ij.
 */
export function cohensKappa(
  pairs: ReadonlyArray<readonly [string, string]>,
  options: CohensKappaOptions = {},
): CohensKappaResult {
  const weights = options.weights ?? 'unweighted';
  if (pairs.length === 0) throw invalid("Cohen's kappa needs at least one rated subject");
  if (weights !== 'unweighted' && options.categories === undefined) {
    throw invalid(`${weights}-weighted kappa needs the ordered list of categories`, { weights });
  }
  const categories = options.categories ?? distinctInOrder(pairs.flat());
  const positionOf = categoryPositions(categories);
  const k = categories.length;
  const n = pairs.length;

  const counts = squareMatrix(k);
  for (const [subject, [a, b]] of pairs.entries()) {
    counts[positionOf(a, subject)]![positionOf(b, subject)]! += 1;
  }
  const shares = counts.map((row) => row.map((count) => count / n));
  const rowShares = shares.map((row) => sum(row));
  const columnShares = categories.map((_, j) => sum(shares.map((row) => row[j]!)));
  const weight = agreementWeights(k, weights);

  let observed = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      observed += weight[i]![j]! * shares[i]![j]!;
      expected += weight[i]![j]! * rowShares[i]! * columnShares[j]!;
    }
  }
  const base = { observedAgreement: observed, expectedAgreement: expected, subjects: n, weights };
  if (1 - expected < DEGENERATE_TOLERANCE) {
    return { ...base, kappa: NaN, standardError: NaN, ci95: [NaN, NaN], degenerate: true };
  }

  const kappa = (observed - expected) / (1 - expected);
  const meanWeightOfRow = weight.map((row) => sum(row.map((w, j) => w * columnShares[j]!)));
  const meanWeightOfColumn = categories.map((_, j) => sum(weight.map((row, i) => row[j]! * rowShares[i]!)));
  let spread = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const deviation = weight[i]![j]! - (meanWeightOfRow[i]! + meanWeightOfColumn[j]!) * (1 - kappa);
      spread += shares[i]![j]! * deviation * deviation;
    }
  }
  const variance = (spread - (kappa - expected * (1 - kappa)) ** 2) / (n * (1 - expected) ** 2);
  // Rounding can leave a hair below zero when agreement is perfect.
  const standardError = Math.sqrt(Math.max(0, variance));
  return { ...base, kappa, standardError, ci95: waldInterval(kappa, standardError), degenerate: false };
}

export interface FleissKappaResult {
  /** (P̄ - P̄e) / (1 - P̄e). NaN when `degenerate` (every rating in one category). */
  kappa: number;
  subjects: number;
  /** m, the number of ratings of every subject. */
  ratersPerSubject: number;
  /** P̄: the mean over subjects of the share of rater pairs that agree on the subject, in [0, 1]. */
  observedAgreement: number;
  /** P̄e = Σ_j p_j², p_j being category j's share of all ratings, in [0, 1]. */
  expectedAgreement: number;
  /**
   * Kappa for each category that occurs, as agreement on "this category or not" (Fleiss 1971):
   * κ_j = 1 - Σ_i n_ij (m - n_ij) / (N m (m - 1) p_j q_j). NaN for a category every rating chose.
   */
  perCategory: Record<string, number>;
  /**
   * Standard error of kappa under the null hypothesis kappa = 0 (Fleiss, Nee & Landis 1979):
   * √2 / (Σ p_j q_j √(N m (m - 1))) · √((Σ p_j q_j)² - Σ p_j q_j (q_j - p_j)). It is exact for testing
   * kappa = 0 and only approximate away from 0. NaN when `degenerate`.
   */
  standardError: number;
  /** kappa ± 1.96 standardError (the null standard error above); NaN bounds when `degenerate`. */
  ci95: Interval95;
  /** True when every rating falls in one category, so P̄e = 1 and kappa is undefined. */
  degenerate: boolean;
}

/**
 * Fleiss' kappa (Fleiss 1971) for N subjects each rated into a category by m raters, not necessarily the
 * same raters for every subject: `ratings[i]` holds subject i's m categories, in any order. Categories are
 * those that occur in the ratings. Throws unless every subject has the same m >= 2 ratings.
 */
export function fleissKappa(ratings: ReadonlyArray<ReadonlyArray<string>>): FleissKappaResult {
  if (ratings.length === 0) throw invalid("Fleiss' kappa needs at least one rated subject");
  const m = ratings[0]!.length;
  if (m < 2) throw invalid("Fleiss' kappa needs at least two ratings per subject", { ratersPerSubject: m });
  for (const [subject, subjectRatings] of ratings.entries()) {
    if (subjectRatings.length !== m) {
      throw invalid(
        `Fleiss' kappa needs the same number of ratings for every subject: subject ${subject} has ${subjectRatings.length}, subject 0 has ${m}`,
        { subject, ratings: subjectRatings.length, ratersPerSubject: m },
      );
    }
  }
  const categories = distinctInOrder(ratings.flat());
  const positionOf = categoryPositions(categories);
  const N = ratings.length;
  const counts = ratings.map((subjectRatings, subject) => {
    const row = new Array<number>(categories.length).fill(0);
    for (const category of subjectRatings) row[positionOf(category, subject)]! += 1;
    return row;
  });

  const categoryShares = categories.map((_, j) => sum(counts.map((row) => row[j]!)) / (N * m));
  const subjectAgreement = counts.map((row) => (sum(row.map((c) => c * c)) - m) / (m * (m - 1)));
  const observed = sum(subjectAgreement) / N;
  const expected = sum(categoryShares.map((p) => p * p));
  const perCategory = Object.fromEntries(
    categories.map((category, j) => {
      const p = categoryShares[j]!;
      const disagreement = sum(counts.map((row) => row[j]! * (m - row[j]!)));
      return [category, 1 - disagreement / (N * m * (m - 1) * p * (1 - p))];
    }),
  );
  const base = { subjects: N, ratersPerSubject: m, observedAgreement: observed, expectedAgreement: expected };
  if (1 - expected < DEGENERATE_TOLERANCE) {
    return { ...base, kappa: NaN, perCategory, standardError: NaN, ci95: [NaN, NaN], degenerate: true };
  }

  const kappa = (observed - expected) / (1 - expected);
  const sumPQ = sum(categoryShares.map((p) => p * (1 - p)));
  const skew = sum(categoryShares.map((p) => p * (1 - p) * (1 - 2 * p)));
  const standardError = (Math.SQRT2 / (sumPQ * Math.sqrt(N * m * (m - 1)))) * Math.sqrt(sumPQ * sumPQ - skew);
  return {
    ...base,
    kappa,
    perCategory,
    standardError,
    ci95: waldInterval(kappa, standardError),
    degenerate: false,
  };
}

/**
 * The Shrout & Fleiss (1979) single-rating intraclass correlations:
 * - `ICC(1,1)`: each subject rated by its own random set of raters (one-way random; McGraw & Wong ICC(1));
 * - `ICC(2,1)`: the same random sample of raters rates every subject, absolute agreement (two-way random;
 *   McGraw & Wong ICC(A,1));
 * - `ICC(3,1)`: the same fixed raters rate every subject, consistency (two-way mixed; McGraw & Wong ICC(C,1)).
 */
export type IccForm = 'ICC(1,1)' | 'ICC(2,1)' | 'ICC(3,1)';

/**
 * ANOVA mean squares of an n subjects × k raters matrix, in the squared unit of the measurements (mm² for
 * diameters in mm).
 */
export interface IccMeanSquares {
  /** Between subjects (Shrout & Fleiss BMS), n - 1 degrees of freedom. */
  rows: number;
  /** Between raters (JMS), k - 1 degrees of freedom. */
  columns: number;
  /** Residual of the two-way model (EMS), (n - 1)(k - 1) degrees of freedom. */
  error: number;
  /** Within subjects of the one-way model, raters and residual together (WMS), n (k - 1) degrees of freedom. */
  within: number;
}

export interface IntraclassCorrelationResult {
  /**
   * The correlation, dimensionless, at most 1 (negative when subjects differ less than chance predicts).
   * NaN when the matrix has no variance at all.
   */
  icc: number;
  form: IccForm;
  /** n, the rows of the matrix. */
  subjects: number;
  /** k, the columns of the matrix. */
  raters: number;
  /**
   * The exact (ICC(1,1), ICC(3,1)) or Satterthwaite-approximate (ICC(2,1)) F-based interval of McGraw & Wong
   * (1996), Table 7; bounds are 1 when the residual variance is zero and the subjects differ.
   */
  ci95: Interval95;
  meanSquares: IccMeanSquares;
}

/**
 * An intraclass correlation of continuous measurements (for example nodule diameters in mm): `matrix[i][j]`
 * is rater j's measurement of subject i. The matrix must be complete and rectangular, with at least two
 * subjects and two raters, every value finite.
 */
export function intraclassCorrelation(
  matrix: ReadonlyArray<ReadonlyArray<number>>,
  form: IccForm,
): IntraclassCorrelationResult {
  const ms = meanSquares(matrix);
  const n = matrix.length;
  const k = matrix[0]!.length;
  const result = { form, subjects: n, raters: k, meanSquares: ms };
  switch (form) {
    case 'ICC(1,1)': {
      const icc = (ms.rows - ms.within) / (ms.rows + (k - 1) * ms.within);
      const ci95 = exactInterval(ms.rows / ms.within, n - 1, n * (k - 1), k);
      return { ...result, icc, ci95 };
    }
    case 'ICC(2,1)': {
      const icc = (ms.rows - ms.error) / (ms.rows + (k - 1) * ms.error + (k * (ms.columns - ms.error)) / n);
      return { ...result, icc, ci95: absoluteAgreementInterval(icc, ms, n, k) };
    }
    case 'ICC(3,1)': {
      const icc = (ms.rows - ms.error) / (ms.rows + (k - 1) * ms.error);
      const ci95 = exactInterval(ms.rows / ms.error, n - 1, (n - 1) * (k - 1), k);
      return { ...result, icc, ci95 };
    }
  }
}

/**
 * I_x(a, b), the regularized incomplete beta function: P(X <= x) for X ~ Beta(a, b). Evaluated by its
 * continued fraction (modified Lentz, as in Numerical Recipes' betacf), using the symmetry
 * I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly. Absolute error about 1e-14 for small
 * a and b, growing to about 1e-13 by a, b ~ 100 (the rounding of ln Γ).
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b))) {
    throw invalid('the incomplete beta function needs finite a > 0 and b > 0', { a, b });
  }
  if (!(x >= 0 && x <= 1)) throw invalid('the incomplete beta function needs 0 <= x <= 1', { x });
  if (x === 0 || x === 1) return x;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(F <= f) for F following the F distribution with d1 and d2 degrees of freedom (which may be fractional). */
export function fDistributionCdf(f: number, d1: number, d2: number): number {
  if (f <= 0) return 0;
  if (f === Infinity) return 1;
  return regularizedIncompleteBeta((d1 * f) / (d1 * f + d2), d1 / 2, d2 / 2);
}

/**
 * The p-quantile of the F distribution with d1 and d2 degrees of freedom (which may be fractional), e.g.
 * fDistributionQuantile(0.975, 5, 10) ≈ 4.236. Found by bisecting I_x(d1/2, d2/2) = p over x in (0, 1) and
 * mapping x to f = d2 x / (d1 (1 - x)); relative accuracy about 1e-12 for ordinary p.
 */
export function fDistributionQuantile(p: number, d1: number, d2: number): number {
  if (!(p > 0 && p < 1)) throw invalid('an F quantile needs 0 < p < 1', { p });
  if (!(d1 > 0 && d2 > 0)) throw invalid('an F quantile needs positive degrees of freedom', { d1, d2 });
  let low = 0;
  let high = 1;
  for (let iteration = 0; iteration < 200; iteration++) {
    const middle = (low + high) / 2;
    if (middle <= low || middle >= high) break;
    if (regularizedIncompleteBeta(middle, d1 / 2, d2 / 2) < p) low = middle;
    else high = middle;
  }
  const x = (low + high) / 2;
  return (d2 * x) / (d1 * (1 - x));
}

function meanSquares(matrix: ReadonlyArray<ReadonlyArray<number>>): IccMeanSquares {
  const n = matrix.length;
  const k = matrix[0]?.length ?? 0;
  if (n < 2 || k < 2) {
    throw invalid('an intraclass correlation needs at least two subjects (rows) and two raters (columns)', {
      subjects: n,
      raters: k,
    });
  }
  for (const [subject, row] of matrix.entries()) {
    if (row.length !== k) {
      throw invalid(
        `subject ${subject} has ${row.length} measurements, subject 0 has ${k}: the matrix must be complete`,
        {
          subject,
          measurements: row.length,
          raters: k,
        },
      );
    }
    for (const [rater, value] of row.entries()) {
      // A sparse row (`[1, , 3]`) yields undefined here.
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw invalid(`missing or non-finite measurement of subject ${subject} by rater ${rater}`, {
          subject,
          rater,
        });
      }
    }
  }
  const grandMean = sum(matrix.map((row) => sum(row))) / (n * k);
  const rowMeans = matrix.map((row) => sum(row) / k);
  const columnMeans = matrix[0]!.map((_, j) => sum(matrix.map((row) => row[j]!)) / n);
  const betweenRows = k * sum(rowMeans.map((mean) => (mean - grandMean) ** 2));
  const betweenColumns = n * sum(columnMeans.map((mean) => (mean - grandMean) ** 2));
  // Sums of squares taken directly rather than as differences of totals, so none comes out slightly negative.
  const withinRows = sum(matrix.map((row, i) => sum(row.map((value) => (value - rowMeans[i]!) ** 2))));
  const residual = sum(
    matrix.map((row, i) =>
      sum(row.map((value, j) => (value - rowMeans[i]! - columnMeans[j]! + grandMean) ** 2)),
    ),
  );
  return {
    rows: betweenRows / (n - 1),
    columns: betweenColumns / (k - 1),
    error: residual / ((n - 1) * (k - 1)),
    within: withinRows / (n * (k - 1)),
  };
}

/**
 * McGraw & Wong (1996) Table 7, cases 1 and 3 (single measure): with F = MS_rows / MS_denominator,
 * FL = F / F_{0.975}(df1, df2) and FU = F · F_{0.975}(df2, df1), the bounds are (F* - 1) / (F* + k - 1).
 */
function exactInterval(fObserved: number, df1: number, df2: number, k: number): Interval95 {
  const toIcc = (f: number): number => (f === Infinity ? 1 : (f - 1) / (f + k - 1));
  const fLower = fObserved / fDistributionQuantile(0.975, df1, df2);
  const fUpper = fObserved * fDistributionQuantile(0.975, df2, df1);
  return [toIcc(fLower), toIcc(fUpper)];
}

/**
 * McGraw & Wong (1996) Table 7, case 2A (ICC(A,1) = Shrout & Fleiss ICC(2,1)), with the Satterthwaite
 * degrees of freedom v = (a MSC + b MSE)² / ((a MSC)² / (k - 1) + (b MSE)² / ((n - 1)(k - 1))),
 * a = kρ / (n(1 - ρ)), b = 1 + kρ(n - 1) / (n(1 - ρ)). Here a and b are both scaled by n(1 - ρ), which leaves
 * v unchanged and stays finite at ρ = 1.
 */
function absoluteAgreementInterval(icc: number, ms: IccMeanSquares, n: number, k: number): Interval95 {
  if (Number.isNaN(icc)) return [NaN, NaN];
  const a = k * icc * ms.columns;
  const b = (n * (1 + (k - 1) * icc) - k * icc) * ms.error;
  // With no residual and no rater variance v is 0/0, but then the bounds below do not depend on it.
  const v =
    a + b === 0 ? (n - 1) * (k - 1) : (a + b) ** 2 / (a ** 2 / (k - 1) + b ** 2 / ((n - 1) * (k - 1)));
  const spread = k * ms.columns + (k * n - k - n) * ms.error;
  const fLower = fDistributionQuantile(0.975, n - 1, v);
  const fUpper = fDistributionQuantile(0.975, v, n - 1);
  return [
    (n * (ms.rows - fLower * ms.error)) / (fLower * spread + n * ms.rows),
    (n * (fUpper * ms.rows - ms.error)) / (spread + n * fUpper * ms.rows),
  ];
}

/** Lanczos (g = 7, 9 terms) coefficients, good to about 15 significant digits for positive arguments. */
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
] as const;

/** ln Γ(x) for x > 0. */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  const t = shifted + 7.5;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i]! / (shifted + i);
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(series);
}

const TINY = 1e-300;
const FRACTION_EPSILON = 1e-15;
/** The fraction needs about √max(a, b) terms; this covers degrees of freedom into the millions. */
const FRACTION_MAX_TERMS = 10_000;

/** The continued fraction of I_x(a, b) (Numerical Recipes betacf), by the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const nonZero = (value: number): number => (Math.abs(value) < TINY ? TINY : value);
  let c = 1;
  let d = 1 / nonZero(1 - ((a + b) * x) / (a + 1));
  let fraction = d;
  for (let m = 1; m <= FRACTION_MAX_TERMS; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / nonZero(1 + even * d);
    c = nonZero(1 + even / c);
    fraction *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / nonZero(1 + odd * d);
    c = nonZero(1 + odd / c);
    const step = d * c;
    fraction *= step;
    if (Math.abs(step - 1) < FRACTION_EPSILON) return fraction;
  }
  throw new DomainError('INTERNAL', 'the incomplete beta continued fraction did not converge', {
    context: { x, a, b },
  });
}

function agreementWeights(k: number, weights: KappaWeights): number[][] {
  const span = Math.max(1, k - 1);
  return squareMatrix(k).map((row, i) =>
    row.map((_, j) => {
      switch (weights) {
        case 'unweighted':
          return i === j ? 1 : 0;
        case 'linear':
          return 1 - Math.abs(i - j) / span;
        case 'quadratic':
          return 1 - ((i - j) / span) ** 2;
      }
    }),
  );
}

/** A lookup from category to its position that throws, naming the subject, on a category not in the list. */
function categoryPositions(categories: readonly string[]): (category: string, subject: number) => number {
  const positions = new Map(categories.map((category, position) => [category, position]));
  if (positions.size !== categories.length) throw invalid('categories must be distinct', { categories });
  return (category, subject) => {
    const position = positions.get(category);
    if (position === undefined) {
      throw invalid(`subject ${subject} has rating "${category}", which is not one of the categories`, {
        subject,
        category,
        categories,
      });
    }
    return position;
  };
}

function distinctInOrder(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function squareMatrix(size: number): number[][] {
  return Array.from({ length: size }, () => new Array<number>(size).fill(0));
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function waldInterval(estimate: number, standardError: number): Interval95 {
  return [estimate - Z_975 * standardError, estimate + Z_975 * standardError];
}

function invalid(message: string, context: Record<string, unknown> = {}): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { context });
}
