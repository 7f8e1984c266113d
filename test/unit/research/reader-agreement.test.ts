import { describe, expect, it } from 'vitest';
import {
  cohensKappa,
  fDistributionCdf,
  fDistributionQuantile,
  fleissKappa,
  intraclassCorrelation,
  regularizedIncompleteBeta,
  type IccForm,
} from '../../../src/research/reader-agreement.js';
import { DomainError } from '../../../src/shared/errors.js';

/** Rating pairs from a confusion table: `table[i][j]` subjects rated categories[i] by A and categories[j] by B. */
function pairsFromTable(
  categories: readonly string[],
  table: readonly (readonly number[])[],
): [string, string][] {
  return table.flatMap((row, i) =>
    row.flatMap((count, j) =>
      Array.from({ length: count }, (): [string, string] => [categories[i]!, categories[j]!]),
    ),
  );
}

/** One subject's ratings from its count per category (category names '1'...'k'). */
function ratingsFromCounts(counts: readonly number[]): string[] {
  return counts.flatMap((count, j) => Array.from({ length: count }, () => String(j + 1)));
}

describe('fDistributionQuantile', () => {
  // Printed F tables (upper percentage points), to the digits printed.
  it.each([
    { p: 0.975, d1: 5, d2: 10, table: 4.236, digits: 3 },
    { p: 0.95, d1: 3, d2: 15, table: 3.287, digits: 3 },
    { p: 0.95, d1: 1, d2: 1, table: 161.45, digits: 2 },
    { p: 0.95, d1: 2, d2: 10, table: 4.103, digits: 3 },
    { p: 0.99, d1: 10, d2: 20, table: 3.368, digits: 3 },
    { p: 0.975, d1: 1, d2: 1, table: 647.79, digits: 2 },
  ])('F($p; $d1, $d2) = $table', ({ p, d1, d2, table, digits }) => {
    expect(fDistributionQuantile(p, d1, d2)).toBeCloseTo(table, digits);
  });

  it('inverts the CDF, fractional degrees of freedom included', () => {
    for (const [p, d1, d2] of [
      [0.975, 3.7, 5],
      [0.025, 5, 14.2],
      [0.5, 1, 1],
      [0.999, 4, 2000],
      [0.001, 2, 7],
    ] as const) {
      const f = fDistributionQuantile(p, d1, d2);
      expect(fDistributionCdf(f, d1, d2)).toBeCloseTo(p, 12);
    }
  });

  it('rejects probabilities outside (0, 1) and non-positive degrees of freedom', () => {
    expect(() => fDistributionQuantile(1, 2, 3)).toThrow(DomainError);
    expect(() => fDistributionQuantile(0.5, 0, 3)).toThrow(/degrees of freedom/);
  });
});

describe('regularizedIncompleteBeta', () => {
  it.each([0.01, 0.2, 0.5, 0.77, 0.99])('matches the closed forms at x = %d', (x) => {
    expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 14);
    expect(regularizedIncompleteBeta(x, 3.5, 1)).toBeCloseTo(x ** 3.5, 14);
    expect(regularizedIncompleteBeta(x, 1, 4)).toBeCloseTo(1 - (1 - x) ** 4, 14);
    expect(regularizedIncompleteBeta(x, 2.5, 7.25)).toBeCloseTo(
      1 - regularizedIncompleteBeta(1 - x, 7.25, 2.5),
      14,
    );
  });

  it('is 1/2 at x = 1/2 when a = b, and matches a reference value', () => {
    for (const a of [0.5, 1, 7, 150]) expect(regularizedIncompleteBeta(0.5, a, a)).toBeCloseTo(0.5, 12);
    // R: pbeta(0.3, 2.5, 7.25) = 0.660482273581907
    expect(regularizedIncompleteBeta(0.3, 2.5, 7.25)).toBeCloseTo(0.660482273581907, 13);
  });
});

describe('cohensKappa', () => {
  /**
   * The classic 50-subject yes/no example: 20 both yes, 5 A yes / B no, 10 A no / B yes, 15 both no.
   * po = 35/50 = 0.70; A says yes 25/50, B 30/50, so pe = 0.5·0.6 + 0.5·0.4 = 0.50; kappa = 0.2/0.5 = 0.40.
   * Fleiss, Cohen & Everitt SE by hand (p11 .4, p12 .1, p21 .2, p22 .3; margins A .5/.5, B .6/.4; 1 - κ = .6):
   *   .4(1 - 1.1·.6)² + .3(1 - .9·.6)² = .04624 + .06348 = .10972
   *   .6²(.1·(.6 + .5)² + .2·(.4 + .5)²) = .36 · .283 = .10188
   *   (κ - pe(1 - κ))² = (.4 - .3)² = .01
   *   Var = (.10972 + .10188 - .01) / (50 · .5²) = .016128, SE = .126996 (psych::cohen.kappa agrees).
   */
  const yesNo = pairsFromTable(
    ['yes', 'no'],
    [
      [20, 5],
      [10, 15],
    ],
  );

  it('reproduces the 50-subject yes/no example', () => {
    const result = cohensKappa(yesNo);
    expect(result.subjects).toBe(50);
    expect(result.observedAgreement).toBeCloseTo(0.7, 12);
    expect(result.expectedAgreement).toBeCloseTo(0.5, 12);
    expect(result.kappa).toBeCloseTo(0.4, 12);
    expect(result.standardError).toBeCloseTo(Math.sqrt(0.016128), 10);
    expect(result.ci95[0]).toBeCloseTo(0.4 - 1.959964 * Math.sqrt(0.016128), 6);
    expect(result.ci95[1]).toBeCloseTo(0.4 + 1.959964 * Math.sqrt(0.016128), 6);
    expect(result.degenerate).toBe(false);
  });

  /**
   * Three ordered categories, 10 subjects (rows reader A, columns reader B):
   *            low mid high | A
   *   low       3   1   0   | .4
   *   mid       0   2   2   | .4
   *   high      0   0   2   | .2
   *   B        .3  .3  .4
   * Diagonal .7; cells one step apart .1 + .2 = .3; two steps apart 0.
   * Chance: diagonal .4·.3 + .4·.3 + .2·.4 = .32; one step .4·.3 + .4·.3 + .4·.4 + .2·.3 = .46; two steps .22.
   *   unweighted: po .7, pe .32, κ = .38 / .68 = 19/34
   *   linear (1, 1/2, 0): po = .7 + .3/2 = .85, pe = .32 + .46/2 = .55, κ = .30 / .45 = 2/3
   *   quadratic (1, 3/4, 0): po = .7 + .3·.75 = .925, pe = .32 + .46·.75 = .665, κ = .26 / .335 = 52/67
   * Standard errors from the Fleiss, Cohen & Everitt formula; a numerical delta-method variance of κ(p) under
   * the multinomial gives the same values to 9 digits.
   */
  const ordered = ['low', 'mid', 'high'];
  const orderedPairs = pairsFromTable(ordered, [
    [3, 1, 0],
    [0, 2, 2],
    [0, 0, 2],
  ]);

  it.each([
    { weights: 'unweighted', po: 0.7, pe: 0.32, kappa: 19 / 34, se: 0.2036825 },
    { weights: 'linear', po: 0.85, pe: 0.55, kappa: 2 / 3, se: 0.1616105 },
    { weights: 'quadratic', po: 0.925, pe: 0.665, kappa: 52 / 67, se: 0.1167901 },
  ] as const)('computes $weights kappa of the worked 3-category table', ({ weights, po, pe, kappa, se }) => {
    const result = cohensKappa(orderedPairs, { weights, categories: ordered });
    expect(result.weights).toBe(weights);
    expect(result.observedAgreement).toBeCloseTo(po, 12);
    expect(result.expectedAgreement).toBeCloseTo(pe, 12);
    expect(result.kappa).toBeCloseTo(kappa, 12);
    expect(result.standardError).toBeCloseTo(se, 6);
  });

  it('gives weighted kappa 1 (standard error 0) on perfect agreement', () => {
    const perfect = pairsFromTable(ordered, [
      [4, 0, 0],
      [0, 3, 0],
      [0, 0, 5],
    ]);
    for (const weights of ['unweighted', 'linear', 'quadratic'] as const) {
      const result = cohensKappa(perfect, { weights, categories: ordered });
      expect(result.kappa).toBeCloseTo(1, 12);
      expect(result.standardError).toBeCloseTo(0, 6);
    }
  });

  it('weights nothing differently with two categories', () => {
    const categories = ['no', 'yes'];
    const { weights: _, ...unweighted } = cohensKappa(yesNo, { categories });
    for (const weights of ['linear', 'quadratic'] as const) {
      const { weights: __, ...weighted } = cohensKappa(yesNo, { weights, categories });
      expect(weighted).toEqual(unweighted);
    }
  });

  it('does not depend on the order of categories when unweighted', () => {
    const reversed = cohensKappa(orderedPairs, { categories: [...ordered].reverse() });
    expect(reversed.kappa).toBeCloseTo(19 / 34, 12);
  });

  it('is undefined (NaN, degenerate) when both readers use a single category', () => {
    const result = cohensKappa(
      Array.from({ length: 6 }, (): [string, string] => ['benign', 'benign']),
      { weights: 'quadratic', categories: ['benign', 'suspicious'] },
    );
    expect(result.degenerate).toBe(true);
    expect(result.observedAgreement).toBe(1);
    expect(result.expectedAgreement).toBe(1);
    expect(result.kappa).toBeNaN();
    expect(result.ci95.every(Number.isNaN)).toBe(true);
  });

  it('rejects a rating outside the categories, weights without categories and empty input', () => {
    expect(() =>
      cohensKappa([...orderedPairs, ['low', 'very high']], { weights: 'linear', categories: ordered }),
    ).toThrow(/subject 10 has rating "very high"/);
    expect(() => cohensKappa(orderedPairs, { categories: ['low', 'mid'] })).toThrow(/"high"/);
    expect(() => cohensKappa(orderedPairs, { weights: 'quadratic' })).toThrow(/ordered list of categories/);
    expect(() => cohensKappa(orderedPairs, { categories: ['low', 'mid', 'low'] })).toThrow(/distinct/);
    expect(() => cohensKappa([])).toThrow(DomainError);
  });
});

describe('fleissKappa', () => {
  /**
   * Fleiss (1971) kappa's worked example as given on Wikipedia: 10 subjects, 14 raters, 5 categories, as each
   * subject's count per category. Published: P̄ = 0.378, P̄e = 0.213, κ = 0.210; category shares
   * p = 0.143, 0.200, 0.279, 0.150, 0.229; P_1 = 1.000, P_2 = 0.253.
   */
  const wikipediaCounts = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  const wikipedia = wikipediaCounts.map(ratingsFromCounts);

  it('reproduces the published 10 × 14 × 5 example', () => {
    const result = fleissKappa(wikipedia);
    expect(result.subjects).toBe(10);
    expect(result.ratersPerSubject).toBe(14);
    expect(result.observedAgreement).toBeCloseTo(0.378, 3);
    expect(result.expectedAgreement).toBeCloseTo(0.213, 3);
    expect(result.kappa).toBeCloseTo(0.21, 3);
    expect(result.degenerate).toBe(false);
  });

  it('gives the Fleiss, Nee & Landis null standard error', () => {
    // p = (20, 28, 39, 21, 32) / 140 from the table above, Σ p q = 0.7872449, Σ p q (q - p) = 0.4574344:
    // SE = √2 / (0.7872449 · √(10·14·13)) · √(0.7872449² - 0.4574344) = 0.0169651
    const result = fleissKappa(wikipedia);
    expect(result.standardError).toBeCloseTo(0.0169651, 6);
    expect(result.ci95[0]).toBeCloseTo(result.kappa - 1.959964 * 0.0169651, 5);
    expect(result.ci95[1]).toBeCloseTo(result.kappa + 1.959964 * 0.0169651, 5);
  });

  it('gives per-category kappas whose p q-weighted mean is the overall kappa (Fleiss 1971)', () => {
    const result = fleissKappa(wikipedia);
    const shares = [20, 28, 39, 21, 32].map((total) => total / 140);
    const weights = shares.map((p) => p * (1 - p));
    const categories = ['1', '2', '3', '4', '5'];
    expect(Object.keys(result.perCategory).sort()).toEqual(categories);
    const weighted = categories.reduce(
      (acc, category, j) => acc + weights[j]! * result.perCategory[category]!,
      0,
    );
    expect(weighted / weights.reduce((a, b) => a + b)).toBeCloseTo(result.kappa, 12);
    // Category 5: Σ n(14 - n) = 14·0 + 2·12 + 6·8 + 1·13 + 2·12 + 7·7 = 158; 1 - 158 / (10·14·13·(32/140)(108/140))
    expect(result.perCategory['5']).toBeCloseTo(1 - 158 / (1820 * (32 / 140) * (108 / 140)), 12);
  });

  it('is 1 on perfect agreement and undefined when every rating is the same', () => {
    expect(
      fleissKappa([
        ['a', 'a', 'a'],
        ['b', 'b', 'b'],
        ['a', 'a', 'a'],
      ]).kappa,
    ).toBeCloseTo(1, 12);
    const single = fleissKappa([
      ['a', 'a'],
      ['a', 'a'],
    ]);
    expect(single.degenerate).toBe(true);
    expect(single.kappa).toBeNaN();
  });

  it('rejects unequal raters per subject, fewer than two raters and no subjects', () => {
    expect(() =>
      fleissKappa([
        ['a', 'b', 'a'],
        ['a', 'b'],
      ]),
    ).toThrow(/subject 1 has 2, subject 0 has 3/);
    expect(() => fleissKappa([['a'], ['b']])).toThrow(/at least two ratings/);
    expect(() => fleissKappa([])).toThrow(DomainError);
  });
});

describe('intraclassCorrelation', () => {
  /**
   * Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges. Their ANOVA of it: BMS = 11.24,
   * WMS = 6.26, JMS = 32.49, EMS = 1.02; ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71.
   * Intervals: psych::ICC's documented output for this data (McGraw & Wong 1996 formulas):
   * ICC1 [-0.133, 0.72], ICC2 [0.019, 0.76], ICC3 [0.342, 0.95].
   */
  const shroutFleiss = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
  ];

  it.each([
    { form: 'ICC(1,1)', icc: 0.17, low: -0.133, high: 0.723 },
    { form: 'ICC(2,1)', icc: 0.29, low: 0.019, high: 0.761 },
    { form: 'ICC(3,1)', icc: 0.71, low: 0.342, high: 0.946 },
  ] as const)('reproduces Shrout & Fleiss $form', ({ form, icc, low, high }) => {
    const result = intraclassCorrelation(shroutFleiss, form);
    expect(result.form).toBe(form);
    expect(result.subjects).toBe(6);
    expect(result.raters).toBe(4);
    expect(result.icc).toBeCloseTo(icc, 2);
    expect(result.ci95[0]).toBeCloseTo(low, 3);
    expect(result.ci95[1]).toBeCloseTo(high, 3);
  });

  it('reports the published mean squares', () => {
    const { meanSquares } = intraclassCorrelation(shroutFleiss, 'ICC(2,1)');
    expect(meanSquares.rows).toBeCloseTo(11.24, 2);
    expect(meanSquares.within).toBeCloseTo(6.26, 2);
    expect(meanSquares.columns).toBeCloseTo(32.49, 2);
    expect(meanSquares.error).toBeCloseTo(1.02, 2);
  });

  it.each(['ICC(1,1)', 'ICC(2,1)', 'ICC(3,1)'] as const)(
    'is 1 with interval [1, 1] when readers agree exactly: %s',
    (form: IccForm) => {
      const result = intraclassCorrelation(
        [
          [4.2, 4.2, 4.2],
          [7.9, 7.9, 7.9],
          [12.5, 12.5, 12.5],
        ],
        form,
      );
      expect(result.icc).toBe(1);
      expect(result.ci95).toEqual([1, 1]);
    },
  );

  it('is NaN, not an error, when the matrix has no variance', () => {
    for (const form of ['ICC(1,1)', 'ICC(2,1)', 'ICC(3,1)'] as const) {
      expect(
        intraclassCorrelation(
          [
            [5, 5],
            [5, 5],
          ],
          form,
        ).icc,
      ).toBeNaN();
    }
  });

  it('rejects missing values, ragged rows and too small matrices', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [[1, 2, 3], [3, , 4] as number[]];
    expect(() =>
      intraclassCorrelation(
        [
          [1, 2],
          [3, NaN],
        ],
        'ICC(1,1)',
      ),
    ).toThrow(/subject 1 by rater 1/);
    expect(() => intraclassCorrelation(sparse, 'ICC(2,1)')).toThrow(/missing/);
    expect(() =>
      intraclassCorrelation(
        [
          [1, 2, 3],
          [4, 5],
        ],
        'ICC(3,1)',
      ),
    ).toThrow(/must be complete/);
    expect(() => intraclassCorrelation([[1, 2, 3]], 'ICC(1,1)')).toThrow(/at least two subjects/);
    expect(() => intraclassCorrelation([[1], [2]], 'ICC(1,1)')).toThrow(DomainError);
  });
});
