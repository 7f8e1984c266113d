/**
 * ACR Lung-RADS v2022 (released November 2022; Christensen et al., J Am Coll Radiol 2024;21(3):473-488):
 * the rule table, per-nodule classification and management text. Pure; sizes are mean diameters in mm.
 *
 * Checked against public copies of the v2022 table (category 0-4X rows, notes on growth, stepped management,
 * juxtapleural and airway nodules). Choices where the table is silent or ambiguous are marked
 * "Interpretation" below and in the rule texts.
 */
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import type { LungRadsNodule } from './types.js';

type NoduleCategory = Exclude<LungRadsCategory, '0'>;

interface RuleDefinition {
  /** What the rule assigns: a category, the S modifier, or null where the caller supplies the category. */
  assigns: LungRadsCategory | 'S' | null;
  text: string;
}

/**
 * Every rule the v2022 assessment can cite. The ids are stable: reports and tests refer to them; change a
 * text freely, never an id's meaning.
 */
export const LUNG_RADS_V2022_RULES = {
  'exam.prior-being-located': {
    assigns: '0',
    text: 'prior chest CT examination(s) being located for comparison',
  },
  'exam.incomplete': { assigns: '0', text: 'part or all of the lungs cannot be evaluated' },
  'exam.infectious-or-inflammatory': {
    assigns: '0',
    text: 'findings suggestive of an infectious or inflammatory process',
  },
  'exam.no-nodules': { assigns: '1', text: 'no lung nodules' },
  'exam.most-suspicious': {
    assigns: null,
    text: 'the exam takes the category of its most suspicious nodule',
  },
  'benign.calcified-or-fat': {
    assigns: '1',
    text: 'benign calcification (complete, central, popcorn, concentric rings) or fat',
  },
  'juxtapleural.lt10mm': {
    assigns: '2',
    text: 'juxtapleural solid nodule < 10 mm (smooth, oval/lentiform/triangular) at baseline, new or stable',
  },
  'solid.baseline.lt6mm': { assigns: '2', text: 'solid nodule < 6 mm at baseline' },
  'solid.baseline.6-8mm': { assigns: '3', text: 'solid nodule >= 6 and < 8 mm at baseline' },
  'solid.baseline.8-15mm': { assigns: '4A', text: 'solid nodule >= 8 and < 15 mm at baseline' },
  'solid.baseline.ge15mm': { assigns: '4B', text: 'solid nodule >= 15 mm at baseline' },
  'solid.new.lt4mm': { assigns: '2', text: 'new solid nodule < 4 mm' },
  'solid.new.4-6mm': { assigns: '3', text: 'new solid nodule >= 4 and < 6 mm' },
  'solid.new.6-8mm': { assigns: '4A', text: 'new solid nodule >= 6 and < 8 mm' },
  'solid.new.ge8mm': { assigns: '4B', text: 'new solid nodule >= 8 mm' },
  'solid.growing.lt8mm': { assigns: '4A', text: 'growing solid nodule < 8 mm' },
  'solid.growing.ge8mm': { assigns: '4B', text: 'growing solid nodule >= 8 mm' },
  'part-solid.baseline.lt6mm': { assigns: '2', text: 'part-solid nodule < 6 mm total at baseline' },
  'part-solid.baseline.solid-lt6mm': {
    assigns: '3',
    text: 'part-solid nodule >= 6 mm total with solid component < 6 mm at baseline',
  },
  'part-solid.baseline.solid-6-8mm': {
    assigns: '4A',
    text: 'part-solid nodule >= 6 mm total with solid component >= 6 and < 8 mm at baseline',
  },
  'part-solid.baseline.solid-ge8mm': {
    assigns: '4B',
    text: 'part-solid nodule with solid component >= 8 mm at baseline',
  },
  'part-solid.new.lt6mm': {
    assigns: '3',
    text: 'new part-solid nodule < 6 mm total (solid component < 4 mm)',
  },
  'part-solid.new-or-growing.solid-lt4mm': {
    assigns: '4A',
    text: 'new part-solid nodule >= 6 mm total, or growing part-solid nodule, with solid component < 4 mm',
  },
  'part-solid.new-or-growing.solid-ge4mm': {
    assigns: '4B',
    text: 'new or growing part-solid nodule with solid component >= 4 mm',
  },
  'ground-glass.lt30mm': {
    assigns: '2',
    text: 'ground-glass nodule < 30 mm at baseline, new, growing or stable',
  },
  'ground-glass.ge30mm.stable': { assigns: '2', text: 'ground-glass nodule >= 30 mm, stable' },
  'ground-glass.ge30mm.baseline-or-new': {
    assigns: '3',
    text: 'ground-glass nodule >= 30 mm at baseline or new',
  },
  'ground-glass.ge30mm.growing': {
    assigns: '3',
    text: 'growing ground-glass nodule >= 30 mm (only "stable or slowly growing" is category 2; kept at 3)',
  },
  'airway.subsegmental': { assigns: '2', text: 'subsegmental airway nodule at baseline, new or stable' },
  'airway.segmental.baseline-or-new': {
    assigns: '4A',
    text: 'segmental or more proximal airway nodule at baseline or new',
  },
  'airway.segmental.persistent': {
    assigns: '4B',
    text: 'segmental or more proximal airway nodule, stable or growing at follow-up',
  },
  'stable.benign-size': { assigns: '2', text: 'stable nodule of category 2 size' },
  'stepped.3-stable': {
    assigns: '2',
    text: 'category 3 nodule stable or decreased at follow-up (stepped management)',
  },
  'stepped.4A-stable': {
    assigns: '3',
    text: 'category 4A nodule stable or decreased at follow-up (stepped management)',
  },
  'stepped.4B-stable': {
    assigns: '4B',
    text: 'category 4B nodule stable at follow-up stays 4B (returns to 2 only when proven benign after work-up)',
  },
  'modifier.4X': {
    assigns: '4X',
    text: 'category 3 or 4 nodule with additional features that increase the suspicion of lung cancer',
  },
  'modifier.S': {
    assigns: 'S',
    text: 'clinically significant or potentially significant finding other than lung cancer',
  },
} as const satisfies Record<string, RuleDefinition>;

export type LungRadsRuleId = keyof typeof LUNG_RADS_V2022_RULES;

/**
 * `<id>: <text> -> <assigned>`. `options.as` gives the category of a rule that assigns none of its own;
 * `options.detail` is appended to the text in parentheses.
 */
export function formatRule(
  id: LungRadsRuleId,
  options: { as?: LungRadsCategory; detail?: string } = {},
): string {
  const rule: RuleDefinition = LUNG_RADS_V2022_RULES[id];
  const text = options.detail === undefined ? rule.text : `${rule.text} (${options.detail})`;
  return `${id}: ${text} -> ${options.as ?? rule.assigns ?? '?'}`;
}

/** Rounds a length in mm to 0.1 mm, as Lung-RADS reports mean diameters (half up, robust to binary error). */
export function roundToTenthMm(mm: number): number {
  return Math.round(mm * 10 + 1e-9) / 10;
}

/** A nodule's category and the rule trace that produced it (last rule decides). */
export interface NoduleClassification {
  category: NoduleCategory;
  rules: LungRadsRuleId[];
}

function decide(...rules: [LungRadsRuleId, ...LungRadsRuleId[]]): NoduleClassification {
  const last = rules[rules.length - 1] as LungRadsRuleId;
  return { category: LUNG_RADS_V2022_RULES[last].assigns as NoduleCategory, rules };
}

function solidAtBaseline(sizeMm: number): LungRadsRuleId {
  if (sizeMm < 6) return 'solid.baseline.lt6mm';
  if (sizeMm < 8) return 'solid.baseline.6-8mm';
  if (sizeMm < 15) return 'solid.baseline.8-15mm';
  return 'solid.baseline.ge15mm';
}

function partSolidAtBaseline(totalMm: number, solidMm: number): LungRadsRuleId {
  // The 4B row has no total-size qualifier, so a solid component >= 8 mm wins first (it implies a total >= 8).
  if (solidMm >= 8) return 'part-solid.baseline.solid-ge8mm';
  if (totalMm < 6) return 'part-solid.baseline.lt6mm';
  if (solidMm < 6) return 'part-solid.baseline.solid-lt6mm';
  return 'part-solid.baseline.solid-6-8mm';
}

/**
 * Stepped management for a stable (unchanged or smaller) nodule. The input carries no prior category, so the
 * category its size would get at baseline stands in for it, and one step down is applied:
 * 3 -> 2 (stable at the 6-month follow-up), 4A -> 3 (stable at the 3-month follow-up). A 4B-size nodule
 * stays 4B: v2022 returns a 4B nodule to 2 only when it is proven benign after diagnostic work-up, never for
 * stability alone. Interpretation: one step only, the cautious side. A 4A-size nodule stable over several
 * follow-ups (which v2022 would step 4A -> 3 -> 2) is reported as 3; a reader who knows the prior category
 * should override.
 */
function stepDown(baseline: LungRadsRuleId): NoduleClassification {
  const STEPS: Partial<Record<LungRadsCategory | 'S', LungRadsRuleId>> = {
    '3': 'stepped.3-stable',
    '4A': 'stepped.4A-stable',
    '4B': 'stepped.4B-stable',
  };
  const assigns = LUNG_RADS_V2022_RULES[baseline].assigns;
  return decide(baseline, (assigns === null ? undefined : STEPS[assigns]) ?? 'stable.benign-size');
}

function classifySolid(sizeMm: number, status: LungRadsNodule['status']): NoduleClassification {
  switch (status) {
    case 'baseline':
      return decide(solidAtBaseline(sizeMm));
    case 'new':
      if (sizeMm < 4) return decide('solid.new.lt4mm');
      if (sizeMm < 6) return decide('solid.new.4-6mm');
      if (sizeMm < 8) return decide('solid.new.6-8mm');
      return decide('solid.new.ge8mm');
    case 'growing':
      return decide(sizeMm < 8 ? 'solid.growing.lt8mm' : 'solid.growing.ge8mm');
    case 'stable':
      return stepDown(solidAtBaseline(sizeMm));
  }
}

/**
 * Part-solid nodules. Interpretation: the 3 row lists "new < 6 mm total" and the 4A row "new or growing
 * solid component < 4 mm" under "part solid >= 6 mm"; the 4B row "new or growing solid component >= 4 mm"
 * has no total-size qualifier. So a new part-solid nodule < 6 mm total is 3 unless its solid component is
 * >= 4 mm (4B), and a growing one is 4A/4B by its solid component whatever its total size.
 */
function classifyPartSolid(
  totalMm: number,
  solidMm: number,
  status: LungRadsNodule['status'],
): NoduleClassification {
  switch (status) {
    case 'baseline':
      return decide(partSolidAtBaseline(totalMm, solidMm));
    case 'new':
    case 'growing':
      if (solidMm >= 4) return decide('part-solid.new-or-growing.solid-ge4mm');
      if (status === 'new' && totalMm < 6) return decide('part-solid.new.lt6mm');
      return decide('part-solid.new-or-growing.solid-lt4mm');
    case 'stable':
      return stepDown(partSolidAtBaseline(totalMm, solidMm));
  }
}

/**
 * Ground-glass (non-solid) nodules. Interpretation: v2022 makes a GGN >= 30 mm category 2 when "stable or
 * slowly growing" and 3 at baseline or new; a `growing` one (> 1.5 mm in 12 months) cannot be told apart from
 * "slowly growing" here, so it is kept at 3 (the more cautious reading).
 */
function classifyGroundGlass(sizeMm: number, status: LungRadsNodule['status']): NoduleClassification {
  if (sizeMm < 30) return decide('ground-glass.lt30mm');
  switch (status) {
    case 'stable':
      return decide('ground-glass.ge30mm.stable');
    case 'growing':
      return decide('ground-glass.ge30mm.growing');
    case 'baseline':
    case 'new':
      return decide('ground-glass.ge30mm.baseline-or-new');
  }
}

/**
 * Classifies one validated nodule under v2022, before the 4X modifier.
 *
 * Precedence: benign calcification or fat (1), airway nodules, juxtapleural solid nodules < 10 mm (2, at
 * baseline, new or stable; a growing one falls to the solid rules), then the size rules of its type. Sizes are
 * mean diameters in mm, rounded to 0.1 mm by the caller.
 */
function classifyBase(nodule: LungRadsNodule, sizeMm: number, solidMm: number): NoduleClassification {
  if (nodule.calcifiedBenign === true) return decide('benign.calcified-or-fat');
  if (nodule.airway === 'subsegmental' && nodule.status !== 'growing') return decide('airway.subsegmental');
  if (nodule.airway === 'segmental-or-proximal') {
    return decide(
      nodule.status === 'baseline' || nodule.status === 'new'
        ? 'airway.segmental.baseline-or-new'
        : 'airway.segmental.persistent',
    );
  }
  // Interpretation: a growing subsegmental airway nodule is not listed in v2022; it falls to the size rules.
  if (nodule.juxtapleural === true && sizeMm < 10 && nodule.status !== 'growing') {
    return decide('juxtapleural.lt10mm');
  }
  switch (nodule.type) {
    case 'solid':
      return classifySolid(sizeMm, nodule.status);
    case 'part-solid':
      return classifyPartSolid(sizeMm, solidMm, nodule.status);
    case 'ground-glass':
      return classifyGroundGlass(sizeMm, nodule.status);
  }
}

/**
 * Classifies one validated nodule under v2022. `sizeMm` and `solidMm` are its mean diameter and solid
 * component in mm, already rounded to 0.1 mm (`solidMm` 0 for non-part-solid nodules). A category 3, 4A or 4B
 * nodule with `suspiciousFeatures` becomes 4X; categories 1 and 2 are left as they are (4X applies to 3 and 4
 * only).
 */
export function classifyNoduleV2022(
  nodule: LungRadsNodule,
  sizeMm: number,
  solidMm: number,
): NoduleClassification {
  const base = classifyBase(nodule, sizeMm, solidMm);
  const raisable = base.category === '3' || base.category === '4A' || base.category === '4B';
  if (nodule.suspiciousFeatures === true && raisable) {
    return { category: '4X', rules: [...base.rules, 'modifier.4X'] };
  }
  return base;
}

/** Recommended management and LDCT interval (months; null when not an LDCT) for a nodule-driven category. */
export function managementV2022(
  category: NoduleCategory,
  largestSolidMm: number,
): { management: string; followUpMonths: number | null } {
  const pet = largestSolidMm >= 8;
  switch (category) {
    case '1':
    case '2':
      return { management: 'Continue annual screening with LDCT in 12 months.', followUpMonths: 12 };
    case '3':
      return { management: 'LDCT in 6 months.', followUpMonths: 6 };
    case '4A':
      return {
        management: pet
          ? 'LDCT in 3 months; PET/CT may be considered (solid nodule or solid component >= 8 mm).'
          : 'LDCT in 3 months.',
        followUpMonths: 3,
      };
    case '4B':
    case '4X':
      return {
        management: [
          'Diagnostic chest CT with or without contrast',
          ...(pet ? ['PET/CT may be considered (solid nodule or solid component >= 8 mm)'] : []),
          'tissue sampling and/or referral for further clinical evaluation, depending on clinical evaluation, patient preference and probability of malignancy.',
        ].join('; '),
        followUpMonths: null,
      };
  }
}

/** Management of the category 0 reasons present, in table order. */
export const CATEGORY_0_MANAGEMENT = {
  'exam.prior-being-located': 'Comparison to prior chest CT examination(s) is needed.',
  'exam.incomplete': 'Additional lung cancer screening CT images are needed.',
  'exam.infectious-or-inflammatory': 'LDCT in 1-3 months.',
} as const satisfies Partial<Record<LungRadsRuleId, string>>;

export const S_MODIFIER_MANAGEMENT =
  'S: clinically significant or potentially significant non-lung-cancer finding(s); manage as appropriate to the finding.';
