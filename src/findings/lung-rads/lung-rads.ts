import { DomainError } from '../../shared/errors.js';
import { LUNG_RADS_CATEGORIES, type LungRadsCategory } from '../../shared/lung-rads-category.js';
import {
  AIRWAY_LEVELS,
  NODULE_STATUSES,
  NODULE_TYPES,
  type LungRadsExam,
  type LungRadsModifier,
  type LungRadsNodule,
  type LungRadsNoduleResult,
  type LungRadsResult,
} from './types.js';
import {
  CATEGORY_0_MANAGEMENT,
  S_MODIFIER_MANAGEMENT,
  classifyNoduleV2022,
  formatRule,
  managementV2022,
  roundToTenthMm,
  type LungRadsRuleId,
} from './v2022.js';

const isPositiveFinite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

function noduleIssues(nodule: LungRadsNodule, index: number, priorExam: boolean): string[] {
  const at = `nodules[${index}]`;
  const issues: string[] = [];
  if (!(NODULE_TYPES as readonly string[]).includes(nodule.type)) {
    issues.push(`${at}.type must be one of ${NODULE_TYPES.join(', ')}`);
  }
  if (!(NODULE_STATUSES as readonly string[]).includes(nodule.status)) {
    issues.push(`${at}.status must be one of ${NODULE_STATUSES.join(', ')}`);
  } else if (!priorExam && nodule.status !== 'baseline') {
    issues.push(`${at}.status '${nodule.status}' needs a prior exam (priorExam is false); use 'baseline'`);
  } else if (priorExam && nodule.status === 'baseline') {
    issues.push(`${at}.status 'baseline' contradicts priorExam: true; use 'new', 'growing' or 'stable'`);
  }
  if (!isPositiveFinite(nodule.meanDiameterMm)) {
    issues.push(
      `${at}.meanDiameterMm must be a finite number > 0 (mm), got ${String(nodule.meanDiameterMm)}`,
    );
  }
  if (nodule.type === 'part-solid') {
    if (nodule.solidComponentMm === undefined) {
      issues.push(`${at}.solidComponentMm is required for a part-solid nodule`);
    } else if (!isPositiveFinite(nodule.solidComponentMm)) {
      issues.push(
        `${at}.solidComponentMm must be a finite number > 0 (mm), got ${String(nodule.solidComponentMm)}`,
      );
    } else if (isPositiveFinite(nodule.meanDiameterMm) && nodule.solidComponentMm > nodule.meanDiameterMm) {
      issues.push(
        `${at}.solidComponentMm (${nodule.solidComponentMm} mm) is larger than meanDiameterMm (${nodule.meanDiameterMm} mm)`,
      );
    }
  } else if (nodule.solidComponentMm !== undefined) {
    issues.push(`${at}.solidComponentMm applies to part-solid nodules only (type is '${nodule.type}')`);
  }
  if (nodule.juxtapleural === true && nodule.type !== 'solid') {
    issues.push(`${at}.juxtapleural applies to solid nodules only (type is '${nodule.type}')`);
  }
  if (nodule.airway !== undefined && !(AIRWAY_LEVELS as readonly string[]).includes(nodule.airway)) {
    issues.push(`${at}.airway must be one of ${AIRWAY_LEVELS.join(', ')}`);
  }
  return issues;
}

/** Throws DomainError VALIDATION_FAILED listing every problem of the exam at once. */
function validateExam(exam: LungRadsExam): void {
  const issues: string[] = [];
  if (typeof exam.priorExam !== 'boolean') issues.push('priorExam must be a boolean');
  if (!Array.isArray(exam.nodules)) {
    issues.push('nodules must be an array');
  } else {
    exam.nodules.forEach((nodule, index) => issues.push(...noduleIssues(nodule, index, exam.priorExam)));
  }
  exam.qualityReasons?.forEach((reason, index) => {
    if (typeof reason !== 'string' || reason.trim() === '') {
      issues.push(`qualityReasons[${index}] must be a non-empty string`);
    }
  });
  if (issues.length > 0) {
    throw new DomainError('VALIDATION_FAILED', `invalid Lung-RADS exam: ${issues.join('; ')}`, {
      context: { issues },
    });
  }
}

const rank = (category: LungRadsCategory) => LUNG_RADS_CATEGORIES.indexOf(category);

/** The part of a nodule that counts as solid, in mm: the whole nodule if solid, its solid component if part-solid. */
function solidSizeMm(nodule: LungRadsNodule, sizeMm: number, solidMm: number): number {
  if (nodule.airway !== undefined || nodule.calcifiedBenign === true) return 0;
  if (nodule.type === 'solid') return sizeMm;
  return nodule.type === 'part-solid' ? solidMm : 0;
}

/**
 * Assigns an ACR Lung-RADS v2022 category to one low-dose screening CT.
 *
 * Sizes are mean diameters in mm (mean of long and short axes), rounded to 0.1 mm before any threshold is
 * applied. Each nodule is classified on its own; the exam takes the category of its most suspicious nodule
 * (order 1 < 2 < 3 < 4A < 4B < 4X), or 1 without nodules. Any category 0 reason (prior CT being located,
 * lungs not fully evaluable, findings suggesting infection or inflammation) makes the exam 0 whatever its
 * nodules; the nodules are still classified and reported. `significantOtherFindings` adds the S modifier.
 *
 * Stable nodules carry no prior category: the category their size would get at baseline stands in for it and
 * v2022 stepped management applies (3 -> 2, 4A -> 3, 4B stays 4B); see the rule trace.
 *
 * @throws DomainError `VALIDATION_FAILED` for sizes that are not positive finite numbers, a part-solid nodule
 *   without a solid component or with one larger than the nodule, `new`/`growing`/`stable` nodules without a
 *   prior exam (or `baseline` ones with one), and flags that do not fit the nodule type.
 */
export function assessLungRads(exam: LungRadsExam): LungRadsResult {
  validateExam(exam);

  const nodules: LungRadsNoduleResult[] = exam.nodules.map((nodule, index) => {
    const sizeMm = roundToTenthMm(nodule.meanDiameterMm);
    const solidMm = nodule.type === 'part-solid' ? roundToTenthMm(nodule.solidComponentMm ?? 0) : 0;
    const { category, rules } = classifyNoduleV2022(nodule, sizeMm, solidMm);
    return {
      ...(nodule.id !== undefined && { id: nodule.id }),
      index,
      category,
      meanDiameterMm: sizeMm,
      rules: rules.map((id) => formatRule(id)),
    };
  });

  const modifiers: LungRadsModifier[] = exam.significantOtherFindings === true ? ['S'] : [];
  const modifierRules = modifiers.length > 0 ? [formatRule('modifier.S')] : [];
  const withModifiers = (management: string) =>
    modifiers.length > 0 ? `${management} ${S_MODIFIER_MANAGEMENT}` : management;

  const incomplete: { id: keyof typeof CATEGORY_0_MANAGEMENT; detail?: string }[] = [
    ...(exam.priorBeingLocated === true ? [{ id: 'exam.prior-being-located' as const }] : []),
    ...(exam.qualityReasons ?? []).map((detail) => ({ id: 'exam.incomplete' as const, detail })),
    ...(exam.infectiousOrInflammatory === true ? [{ id: 'exam.infectious-or-inflammatory' as const }] : []),
  ];
  if (incomplete.length > 0) {
    const management = [...new Set(incomplete.map(({ id }) => CATEGORY_0_MANAGEMENT[id]))].join(' ');
    return {
      version: 'v2022',
      category: '0',
      modifiers,
      management: withModifiers(management),
      followUpMonths: exam.infectiousOrInflammatory === true ? 1 : null,
      rules: [
        ...incomplete.map(({ id, detail }) => formatRule(id, detail === undefined ? {} : { detail })),
        ...modifierRules,
      ],
      nodules,
    };
  }

  if (nodules.length === 0) {
    const { management, followUpMonths } = managementV2022('1', 0);
    return {
      version: 'v2022',
      category: '1',
      modifiers,
      management: withModifiers(management),
      followUpMonths,
      rules: [formatRule('exam.no-nodules'), ...modifierRules],
      nodules,
    };
  }

  const category = nodules.reduce<LungRadsNoduleResult['category']>(
    (worst, nodule) => (rank(nodule.category) > rank(worst) ? nodule.category : worst),
    '1',
  );
  const driving = nodules.filter((nodule) => nodule.category === category);
  const largestSolidMm = Math.max(
    ...driving.map(({ index, meanDiameterMm }) => {
      const nodule = exam.nodules[index] as LungRadsNodule;
      return solidSizeMm(nodule, meanDiameterMm, roundToTenthMm(nodule.solidComponentMm ?? 0));
    }),
  );
  const { management, followUpMonths } = managementV2022(category, largestSolidMm);
  const examRules: LungRadsRuleId[] = nodules.length > 1 ? ['exam.most-suspicious'] : [];
  return {
    version: 'v2022',
    category,
    modifiers,
    management: withModifiers(management),
    followUpMonths,
    rules: [
      ...examRules.map((id) => formatRule(id, { as: category })),
      ...new Set(driving.flatMap((nodule) => nodule.rules)),
      ...modifierRules,
    ],
    nodules,
  };
}
