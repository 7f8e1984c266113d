import { describe, expect, it } from 'vitest';
import { assessLungRads } from '../../../src/findings/lung-rads/lung-rads.js';
import type { LungRadsExam, LungRadsNodule } from '../../../src/findings/lung-rads/types.js';
import { LUNG_RADS_V2022_RULES, type LungRadsRuleId } from '../../../src/findings/lung-rads/v2022.js';
import { DomainError } from '../../../src/shared/errors.js';

// --- helpers -----------------------------------------------------------------------------------------------

type Row = [
  description: string,
  nodule: Omit<LungRadsNodule, 'status'> & { status?: LungRadsNodule['status'] },
  category: string,
  rule: LungRadsRuleId,
];

/** Assesses one nodule alone in an exam (with a prior exam unless it is a baseline nodule). */
function assessOne(nodule: LungRadsNodule) {
  return assessLungRads({ priorExam: nodule.status !== 'baseline', nodules: [nodule] });
}

const ruleId = (rule: string) => rule.slice(0, rule.indexOf(':'));

const solid = (meanDiameterMm: number, status: LungRadsNodule['status']): LungRadsNodule => ({
  type: 'solid',
  meanDiameterMm,
  status,
});
const partSolid = (
  meanDiameterMm: number,
  solidComponentMm: number,
  status: LungRadsNodule['status'],
): LungRadsNodule => ({ type: 'part-solid', meanDiameterMm, solidComponentMm, status });
const ggn = (meanDiameterMm: number, status: LungRadsNodule['status']): LungRadsNodule => ({
  type: 'ground-glass',
  meanDiameterMm,
  status,
});

function expectValidationError(exam: LungRadsExam, ...fragments: string[]): DomainError {
  let error: unknown;
  try {
    assessLungRads(exam);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(DomainError);
  const domainError = error as DomainError;
  expect(domainError.code).toBe('VALIDATION_FAILED');
  for (const fragment of fragments) expect(domainError.message).toContain(fragment);
  return domainError;
}

// --- per-nodule thresholds ---------------------------------------------------------------------------------

describe('assessLungRads: per-nodule v2022 thresholds (just below and at each boundary, mm)', () => {
  const rows: Row[] = [
    // Solid, baseline: 6, 8, 15.
    ['solid baseline 5.9', solid(5.9, 'baseline'), '2', 'solid.baseline.lt6mm'],
    ['solid baseline 6.0', solid(6, 'baseline'), '3', 'solid.baseline.6-8mm'],
    ['solid baseline 7.9', solid(7.9, 'baseline'), '3', 'solid.baseline.6-8mm'],
    ['solid baseline 8.0', solid(8, 'baseline'), '4A', 'solid.baseline.8-15mm'],
    ['solid baseline 14.9', solid(14.9, 'baseline'), '4A', 'solid.baseline.8-15mm'],
    ['solid baseline 15.0', solid(15, 'baseline'), '4B', 'solid.baseline.ge15mm'],
    // Rounding to 0.1 mm happens before the thresholds.
    ['solid baseline 5.94 rounds to 5.9', solid(5.94, 'baseline'), '2', 'solid.baseline.lt6mm'],
    ['solid baseline 5.95 rounds to 6.0', solid(5.95, 'baseline'), '3', 'solid.baseline.6-8mm'],
    ['solid baseline 14.96 rounds to 15.0', solid(14.96, 'baseline'), '4B', 'solid.baseline.ge15mm'],
    // Solid, new: 4, 6, 8.
    ['solid new 3.9', solid(3.9, 'new'), '2', 'solid.new.lt4mm'],
    ['solid new 4.0', solid(4, 'new'), '3', 'solid.new.4-6mm'],
    ['solid new 5.9', solid(5.9, 'new'), '3', 'solid.new.4-6mm'],
    ['solid new 6.0', solid(6, 'new'), '4A', 'solid.new.6-8mm'],
    ['solid new 7.9', solid(7.9, 'new'), '4A', 'solid.new.6-8mm'],
    ['solid new 8.0', solid(8, 'new'), '4B', 'solid.new.ge8mm'],
    ['solid new 20', solid(20, 'new'), '4B', 'solid.new.ge8mm'],
    // Solid, growing: 8.
    ['solid growing 3.0', solid(3, 'growing'), '4A', 'solid.growing.lt8mm'],
    ['solid growing 7.9', solid(7.9, 'growing'), '4A', 'solid.growing.lt8mm'],
    ['solid growing 8.0', solid(8, 'growing'), '4B', 'solid.growing.ge8mm'],
    // Solid, stable: stepped management from the size's baseline category.
    ['solid stable 5.9 (2-size)', solid(5.9, 'stable'), '2', 'stable.benign-size'],
    ['solid stable 6.0 (3-size)', solid(6, 'stable'), '2', 'stepped.3-stable'],
    ['solid stable 7.9 (3-size)', solid(7.9, 'stable'), '2', 'stepped.3-stable'],
    ['solid stable 8.0 (4A-size)', solid(8, 'stable'), '3', 'stepped.4A-stable'],
    ['solid stable 14.9 (4A-size)', solid(14.9, 'stable'), '3', 'stepped.4A-stable'],
    ['solid stable 15.0 (4B-size stays 4B)', solid(15, 'stable'), '4B', 'stepped.4B-stable'],
    // Part-solid, baseline: total 6; solid component 6, 8.
    ['part-solid baseline total 5.9', partSolid(5.9, 3, 'baseline'), '2', 'part-solid.baseline.lt6mm'],
    [
      'part-solid baseline total 5.9, solid 5.9',
      partSolid(5.9, 5.9, 'baseline'),
      '2',
      'part-solid.baseline.lt6mm',
    ],
    [
      'part-solid baseline total 6.0, solid 1',
      partSolid(6, 1, 'baseline'),
      '3',
      'part-solid.baseline.solid-lt6mm',
    ],
    ['part-solid baseline solid 5.9', partSolid(12, 5.9, 'baseline'), '3', 'part-solid.baseline.solid-lt6mm'],
    ['part-solid baseline solid 6.0', partSolid(12, 6, 'baseline'), '4A', 'part-solid.baseline.solid-6-8mm'],
    [
      'part-solid baseline solid 7.9',
      partSolid(12, 7.9, 'baseline'),
      '4A',
      'part-solid.baseline.solid-6-8mm',
    ],
    ['part-solid baseline solid 8.0', partSolid(12, 8, 'baseline'), '4B', 'part-solid.baseline.solid-ge8mm'],
    // Part-solid, new: total 6; solid component 4.
    ['part-solid new total 5.9, solid 3.9', partSolid(5.9, 3.9, 'new'), '3', 'part-solid.new.lt6mm'],
    [
      'part-solid new total 5.9, solid 4.0',
      partSolid(5.9, 4, 'new'),
      '4B',
      'part-solid.new-or-growing.solid-ge4mm',
    ],
    [
      'part-solid new total 6.0, solid 3.9',
      partSolid(6, 3.9, 'new'),
      '4A',
      'part-solid.new-or-growing.solid-lt4mm',
    ],
    [
      'part-solid new total 6.0, solid 4.0',
      partSolid(6, 4, 'new'),
      '4B',
      'part-solid.new-or-growing.solid-ge4mm',
    ],
    // Part-solid, growing: solid component 4.
    [
      'part-solid growing solid 3.9',
      partSolid(10, 3.9, 'growing'),
      '4A',
      'part-solid.new-or-growing.solid-lt4mm',
    ],
    [
      'part-solid growing solid 4.0',
      partSolid(10, 4, 'growing'),
      '4B',
      'part-solid.new-or-growing.solid-ge4mm',
    ],
    // Part-solid, stable: stepped management.
    ['part-solid stable total 5.9 (2-size)', partSolid(5.9, 2, 'stable'), '2', 'stable.benign-size'],
    ['part-solid stable solid 5.9 (3-size)', partSolid(12, 5.9, 'stable'), '2', 'stepped.3-stable'],
    ['part-solid stable solid 6.0 (4A-size)', partSolid(12, 6, 'stable'), '3', 'stepped.4A-stable'],
    ['part-solid stable solid 8.0 (4B-size)', partSolid(12, 8, 'stable'), '4B', 'stepped.4B-stable'],
    // Ground-glass: 30.
    ['GGN baseline 29.9', ggn(29.9, 'baseline'), '2', 'ground-glass.lt30mm'],
    ['GGN baseline 30.0', ggn(30, 'baseline'), '3', 'ground-glass.ge30mm.baseline-or-new'],
    ['GGN new 29.9', ggn(29.9, 'new'), '2', 'ground-glass.lt30mm'],
    ['GGN new 30.0', ggn(30, 'new'), '3', 'ground-glass.ge30mm.baseline-or-new'],
    ['GGN growing 29.9', ggn(29.9, 'growing'), '2', 'ground-glass.lt30mm'],
    ['GGN growing 30.0', ggn(30, 'growing'), '3', 'ground-glass.ge30mm.growing'],
    ['GGN stable 29.9', ggn(29.9, 'stable'), '2', 'ground-glass.lt30mm'],
    ['GGN stable 30.0', ggn(30, 'stable'), '2', 'ground-glass.ge30mm.stable'],
    // Juxtapleural solid: 10 (baseline, new, stable); growing falls to the solid rules.
    [
      'juxtapleural baseline 9.9',
      { ...solid(9.9, 'baseline'), juxtapleural: true },
      '2',
      'juxtapleural.lt10mm',
    ],
    [
      'juxtapleural baseline 10.0',
      { ...solid(10, 'baseline'), juxtapleural: true },
      '4A',
      'solid.baseline.8-15mm',
    ],
    ['juxtapleural new 9.9', { ...solid(9.9, 'new'), juxtapleural: true }, '2', 'juxtapleural.lt10mm'],
    ['juxtapleural new 10.0', { ...solid(10, 'new'), juxtapleural: true }, '4B', 'solid.new.ge8mm'],
    ['juxtapleural stable 9.9', { ...solid(9.9, 'stable'), juxtapleural: true }, '2', 'juxtapleural.lt10mm'],
    [
      'juxtapleural growing 9.9',
      { ...solid(9.9, 'growing'), juxtapleural: true },
      '4B',
      'solid.growing.ge8mm',
    ],
    // Benign calcification or fat: 1 at any size and status.
    [
      'calcified solid baseline 20',
      { ...solid(20, 'baseline'), calcifiedBenign: true },
      '1',
      'benign.calcified-or-fat',
    ],
    [
      'calcified solid growing 9',
      { ...solid(9, 'growing'), calcifiedBenign: true },
      '1',
      'benign.calcified-or-fat',
    ],
    // 4X: category 3 or 4 nodules with suspicious features; 1 and 2 keep their category.
    ['4X on 3', { ...solid(6, 'baseline'), suspiciousFeatures: true }, '4X', 'modifier.4X'],
    ['4X on 4A', { ...solid(8, 'baseline'), suspiciousFeatures: true }, '4X', 'modifier.4X'],
    ['4X on 4B', { ...solid(15, 'baseline'), suspiciousFeatures: true }, '4X', 'modifier.4X'],
    ['4X on GGN 3', { ...ggn(30, 'baseline'), suspiciousFeatures: true }, '4X', 'modifier.4X'],
    ['no 4X on 2', { ...solid(5.9, 'baseline'), suspiciousFeatures: true }, '2', 'solid.baseline.lt6mm'],
    ['no 4X on stepped-down 2', { ...solid(7, 'stable'), suspiciousFeatures: true }, '2', 'stepped.3-stable'],
    [
      'no 4X on calcified',
      { ...solid(20, 'baseline'), calcifiedBenign: true, suspiciousFeatures: true },
      '1',
      'benign.calcified-or-fat',
    ],
    // Airway nodules.
    [
      'airway subsegmental baseline',
      { ...solid(5, 'baseline'), airway: 'subsegmental' },
      '2',
      'airway.subsegmental',
    ],
    [
      'airway subsegmental stable',
      { ...solid(9, 'stable'), airway: 'subsegmental' },
      '2',
      'airway.subsegmental',
    ],
    [
      'airway segmental baseline',
      { ...solid(5, 'baseline'), airway: 'segmental-or-proximal' },
      '4A',
      'airway.segmental.baseline-or-new',
    ],
    [
      'airway segmental new',
      { ...solid(5, 'new'), airway: 'segmental-or-proximal' },
      '4A',
      'airway.segmental.baseline-or-new',
    ],
    [
      'airway segmental stable (no stepped management)',
      { ...solid(5, 'stable'), airway: 'segmental-or-proximal' },
      '4B',
      'airway.segmental.persistent',
    ],
    [
      'airway segmental growing',
      { ...solid(5, 'growing'), airway: 'segmental-or-proximal' },
      '4B',
      'airway.segmental.persistent',
    ],
  ];

  it.each(rows)('%s -> %s', (_description, nodule, category, rule) => {
    const result = assessOne({ status: 'baseline', ...nodule });
    const [only] = result.nodules;
    expect(only?.category).toBe(category);
    expect(result.category).toBe(category);
    expect(only?.rules.map(ruleId).at(-1)).toBe(rule);
    expect(only?.rules.at(-1)).toMatch(new RegExp(` -> ${category}$`));
  });
});

// --- exam level ---------------------------------------------------------------------------------------------

describe('assessLungRads: exam', () => {
  it('cites rules as "<id>: <text> -> <category>"', () => {
    expect(assessOne(solid(7, 'baseline')).rules).toEqual([
      'solid.baseline.6-8mm: solid nodule >= 6 and < 8 mm at baseline -> 3',
    ]);
  });

  it('traces stepped management: the size rule, then the step', () => {
    expect(assessOne(solid(10, 'stable')).nodules[0]?.rules.map(ruleId)).toEqual([
      'solid.baseline.8-15mm',
      'stepped.4A-stable',
    ]);
  });

  it('every cited rule id is in the v2022 rule table', () => {
    const result = assessLungRads({
      priorExam: true,
      nodules: [
        solid(10, 'stable'),
        partSolid(8, 4, 'new'),
        { ...ggn(30, 'growing'), suspiciousFeatures: true },
      ],
      significantOtherFindings: true,
    });
    for (const rule of [...result.rules, ...result.nodules.flatMap((n) => n.rules)]) {
      expect(Object.keys(LUNG_RADS_V2022_RULES)).toContain(ruleId(rule));
    }
  });

  const examRows: [
    description: string,
    exam: LungRadsExam,
    category: string,
    followUpMonths: number | null,
  ][] = [
    ['no nodules', { priorExam: false, nodules: [] }, '1', 12],
    [
      'only benign-calcified nodules',
      { priorExam: false, nodules: [{ ...solid(12, 'baseline'), calcifiedBenign: true }] },
      '1',
      12,
    ],
    ['category 2', { priorExam: false, nodules: [solid(4, 'baseline')] }, '2', 12],
    ['category 3', { priorExam: false, nodules: [solid(7, 'baseline')] }, '3', 6],
    ['category 4A', { priorExam: false, nodules: [solid(9, 'baseline')] }, '4A', 3],
    ['category 4B', { priorExam: false, nodules: [solid(16, 'baseline')] }, '4B', null],
    [
      'category 4X',
      { priorExam: false, nodules: [{ ...solid(7, 'baseline'), suspiciousFeatures: true }] },
      '4X',
      null,
    ],
    [
      'most suspicious of 2, 4A and 3 is 4A',
      { priorExam: false, nodules: [solid(4, 'baseline'), solid(9, 'baseline'), solid(7, 'baseline')] },
      '4A',
      3,
    ],
    [
      '4X outranks 4B',
      {
        priorExam: false,
        nodules: [solid(20, 'baseline'), { ...solid(6, 'baseline'), suspiciousFeatures: true }],
      },
      '4X',
      null,
    ],
    [
      'a stable 4A-size nodule (3) outranks a new 2',
      { priorExam: true, nodules: [solid(3, 'new'), solid(9, 'stable')] },
      '3',
      6,
    ],
  ];

  it.each(examRows)('%s -> %s, follow-up %s months', (_description, exam, category, followUpMonths) => {
    const result = assessLungRads(exam);
    expect(result.version).toBe('v2022');
    expect(result.category).toBe(category);
    expect(result.followUpMonths).toBe(followUpMonths);
    expect(result.modifiers).toEqual([]);
    expect(result.nodules).toHaveLength(exam.nodules.length);
  });

  it('reports every nodule with its id, index and rounded size, and cites the driving nodule', () => {
    const result = assessLungRads({
      priorExam: false,
      nodules: [
        { ...solid(4.04, 'baseline'), id: 'n1' },
        { ...solid(9.06, 'baseline'), id: 'n2' },
        solid(7, 'baseline'),
      ],
    });
    expect(
      result.nodules.map(({ id, index, category, meanDiameterMm }) => [id, index, category, meanDiameterMm]),
    ).toEqual([
      ['n1', 0, '2', 4],
      ['n2', 1, '4A', 9.1],
      [undefined, 2, '3', 7],
    ]);
    expect(result.rules.map(ruleId)).toEqual(['exam.most-suspicious', 'solid.baseline.8-15mm']);
    expect(result.rules[0]).toMatch(/-> 4A$/);
  });

  const managementRows: [
    description: string,
    nodule: LungRadsNodule,
    fragments: string[],
    absent: string[],
  ][] = [
    ['2: annual', solid(4, 'baseline'), ['12 months'], ['PET/CT']],
    ['3: six months', solid(7, 'baseline'), ['6 months'], ['PET/CT']],
    ['4A with a solid nodule >= 8 mm: PET/CT', solid(8, 'baseline'), ['3 months', 'PET/CT'], []],
    ['4A without one: no PET/CT', solid(6, 'new'), ['3 months'], ['PET/CT']],
    ['4A part-solid, solid 6: no PET/CT', partSolid(10, 6, 'baseline'), ['3 months'], ['PET/CT']],
    [
      '4B with solid component >= 8 mm: PET/CT',
      partSolid(12, 8, 'baseline'),
      ['Diagnostic chest CT', 'PET/CT'],
      [],
    ],
    [
      '4B with solid component 4 mm: no PET/CT',
      partSolid(8, 4, 'new'),
      ['Diagnostic chest CT', 'tissue sampling'],
      ['PET/CT'],
    ],
  ];

  it.each(managementRows)('management %s', (_description, nodule, fragments, absent) => {
    const { management } = assessOne(nodule);
    for (const fragment of fragments) expect(management).toContain(fragment);
    for (const fragment of absent) expect(management).not.toContain(fragment);
  });

  it('adds the S modifier with its management and rule', () => {
    const result = assessLungRads({
      priorExam: false,
      nodules: [solid(7, 'baseline')],
      significantOtherFindings: true,
    });
    expect(result.category).toBe('3');
    expect(result.modifiers).toEqual(['S']);
    expect(result.management).toContain('6 months');
    expect(result.management).toContain('S:');
    expect(result.rules.map(ruleId)).toEqual(['solid.baseline.6-8mm', 'modifier.S']);
    expect(assessOne(solid(7, 'baseline')).modifiers).toEqual([]);
  });

  const category0Rows: [
    description: string,
    exam: Partial<LungRadsExam>,
    rules: LungRadsRuleId[],
    followUpMonths: number | null,
  ][] = [
    ['prior CT being located', { priorBeingLocated: true }, ['exam.prior-being-located'], null],
    ['lungs not evaluable', { qualityReasons: ['motion artefact'] }, ['exam.incomplete'], null],
    [
      'two quality reasons',
      { qualityReasons: ['motion', 'truncated'] },
      ['exam.incomplete', 'exam.incomplete'],
      null,
    ],
    [
      'infectious or inflammatory',
      { infectiousOrInflammatory: true },
      ['exam.infectious-or-inflammatory'],
      1,
    ],
    [
      'all reasons',
      { priorBeingLocated: true, qualityReasons: ['motion'], infectiousOrInflammatory: true },
      ['exam.prior-being-located', 'exam.incomplete', 'exam.infectious-or-inflammatory'],
      1,
    ],
  ];

  it.each(category0Rows)(
    'category 0: %s, whatever the nodules',
    (_description, extra, rules, followUpMonths) => {
      const result = assessLungRads({ priorExam: false, nodules: [solid(20, 'baseline')], ...extra });
      expect(result.category).toBe('0');
      expect(result.rules.map(ruleId)).toEqual(rules);
      expect(result.followUpMonths).toBe(followUpMonths);
      expect(result.nodules[0]?.category).toBe('4B');
    },
  );

  it('category 0 names its quality reasons and keeps the S modifier', () => {
    const result = assessLungRads({
      priorExam: false,
      nodules: [],
      qualityReasons: ['motion artefact'],
      significantOtherFindings: true,
    });
    expect(result.rules).toEqual([
      'exam.incomplete: part or all of the lungs cannot be evaluated (motion artefact) -> 0',
      'modifier.S: clinically significant or potentially significant finding other than lung cancer -> S',
    ]);
    expect(result.modifiers).toEqual(['S']);
    expect(result.management).toContain('Additional lung cancer screening CT images');
  });

  it('an empty qualityReasons list does not make the exam 0', () => {
    expect(assessLungRads({ priorExam: false, nodules: [], qualityReasons: [] }).category).toBe('1');
  });
});

// --- validation ---------------------------------------------------------------------------------------------

describe('assessLungRads: validation', () => {
  const rows: [description: string, exam: LungRadsExam, fragment: string][] = [
    ['negative size', { priorExam: false, nodules: [solid(-1, 'baseline')] }, 'nodules[0].meanDiameterMm'],
    ['zero size', { priorExam: false, nodules: [solid(0, 'baseline')] }, 'nodules[0].meanDiameterMm'],
    ['NaN size', { priorExam: false, nodules: [solid(Number.NaN, 'baseline')] }, 'got NaN'],
    [
      'infinite size',
      { priorExam: false, nodules: [solid(Number.POSITIVE_INFINITY, 'baseline')] },
      'got Infinity',
    ],
    [
      'part-solid without solid component',
      { priorExam: false, nodules: [{ type: 'part-solid', meanDiameterMm: 8, status: 'baseline' }] },
      'nodules[0].solidComponentMm is required',
    ],
    [
      'solid component larger than the nodule',
      { priorExam: false, nodules: [partSolid(6, 7, 'baseline')] },
      'is larger than meanDiameterMm',
    ],
    [
      'negative solid component',
      { priorExam: false, nodules: [partSolid(6, -2, 'baseline')] },
      'solidComponentMm must be',
    ],
    ['NaN solid component', { priorExam: false, nodules: [partSolid(6, Number.NaN, 'baseline')] }, 'got NaN'],
    [
      'solid component on a solid nodule',
      { priorExam: false, nodules: [{ ...solid(6, 'baseline'), solidComponentMm: 3 }] },
      'part-solid nodules only',
    ],
    [
      'juxtapleural ground-glass nodule',
      { priorExam: false, nodules: [{ ...ggn(6, 'baseline'), juxtapleural: true }] },
      'juxtapleural applies to solid nodules only',
    ],
    [
      'new without a prior exam',
      { priorExam: false, nodules: [solid(6, 'new')] },
      "status 'new' needs a prior exam",
    ],
    [
      'growing without a prior exam',
      { priorExam: false, nodules: [solid(6, 'growing')] },
      "'growing' needs a prior exam",
    ],
    [
      'stable without a prior exam',
      { priorExam: false, nodules: [solid(6, 'stable')] },
      "'stable' needs a prior exam",
    ],
    [
      'baseline with a prior exam',
      { priorExam: true, nodules: [solid(6, 'baseline')] },
      "'baseline' contradicts",
    ],
    [
      'unknown type',
      { priorExam: false, nodules: [{ ...solid(6, 'baseline'), type: 'cyst' as LungRadsNodule['type'] }] },
      'nodules[0].type must be one of',
    ],
    [
      'unknown airway level',
      {
        priorExam: false,
        nodules: [{ ...solid(6, 'baseline'), airway: 'lobar' as LungRadsNodule['airway'] }],
      },
      'nodules[0].airway must be one of',
    ],
    ['blank quality reason', { priorExam: false, nodules: [], qualityReasons: [' '] }, 'qualityReasons[0]'],
  ];

  it.each(rows)('rejects %s', (_description, exam, fragment) => {
    expectValidationError(exam, fragment);
  });

  it('lists every problem at once, with the issues in context', () => {
    const error = expectValidationError(
      { priorExam: false, nodules: [solid(-1, 'baseline'), partSolid(5, 6, 'new')] },
      'nodules[0].meanDiameterMm',
      'nodules[1].status',
      'nodules[1].solidComponentMm',
    );
    expect(error.context.issues).toHaveLength(3);
    expect(error.retryable).toBe(false);
  });
});
