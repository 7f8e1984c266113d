import type { NoduleType } from '../../phantom/nodule-type.js';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';

/** Versions of the ACR Lung-RADS table this module implements. */
export type LungRadsVersion = 'v2022';

/** Nodule attenuation types Lung-RADS distinguishes (runtime list of `NoduleType`). */
export const NODULE_TYPES = ['solid', 'part-solid', 'ground-glass'] as const satisfies readonly NoduleType[];

/**
 * How a nodule relates to the prior screening CT.
 * - `baseline`: first screening exam (no prior CT to compare with).
 * - `new`: absent on the prior CT.
 * - `growing`: mean diameter increased by more than 1.5 mm within 12 months (for a part-solid nodule: its
 *   solid component is new or grew).
 * - `stable`: present on the prior CT and unchanged or smaller (not growing).
 */
export const NODULE_STATUSES = ['baseline', 'new', 'growing', 'stable'] as const;
export type NoduleStatus = (typeof NODULE_STATUSES)[number];

/**
 * Airway (endotracheal or endobronchial) nodule level. Set only for nodules inside an airway; absent for
 * parenchymal nodules.
 */
export const AIRWAY_LEVELS = ['subsegmental', 'segmental-or-proximal'] as const;
export type AirwayLevel = (typeof AIRWAY_LEVELS)[number];

/** One nodule as a reader or the detector measured it on this screening CT. */
export interface LungRadsNodule {
  /** Caller's identifier, echoed in the result. */
  id?: string;
  /** Attenuation: solid, part-solid (mixed) or ground-glass (non-solid). */
  type: NoduleType;
  /**
   * Mean diameter in mm: the mean of the long and short axes measured on lung windows. Rounded to 0.1 mm
   * before it is compared with any threshold, as Lung-RADS prescribes. For a part-solid nodule: the total
   * (ground-glass plus solid) mean diameter.
   */
  meanDiameterMm: number;
  /** Part-solid only (required there): mean diameter of the solid component in mm, > 0 and <= the total. */
  solidComponentMm?: number;
  status: NoduleStatus;
  /**
   * The nodule meets the v2022 juxtapleural definition: solid, attached to the costal, mediastinal or
   * fissural pleura, smooth margins, and oval, lentiform or triangular. Solid nodules only.
   */
  juxtapleural?: boolean;
  /**
   * Benign calcification (complete, central, popcorn, concentric rings) or macroscopic fat: category 1 at any
   * size.
   */
  calcifiedBenign?: boolean;
  /** Additional features or imaging findings that increase the suspicion of lung cancer (spiculation, ...). */
  suspiciousFeatures?: boolean;
  /** Set for airway nodules only; the size rules then do not apply. */
  airway?: AirwayLevel;
}

/** One low-dose screening CT: its nodules and the exam-level findings. */
export interface LungRadsExam {
  /** A prior screening CT is available for comparison (required for `new`/`growing`/`stable` nodules). */
  priorExam: boolean;
  nodules: LungRadsNodule[];
  /** Why part or all of the lungs cannot be evaluated; any entry makes the exam category 0. */
  qualityReasons?: string[];
  /** Prior chest CT examination(s) being located for comparison: category 0. */
  priorBeingLocated?: boolean;
  /** Findings suggestive of an indeterminate infectious or inflammatory process: category 0, LDCT in 1-3 months. */
  infectiousOrInflammatory?: boolean;
  /** Clinically significant or potentially significant findings other than lung cancer: modifier S. */
  significantOtherFindings?: boolean;
}

/** Exam-level modifiers. */
export type LungRadsModifier = 'S';

/** The category of one nodule and the rules that produced it, in the order they were applied. */
export interface LungRadsNoduleResult {
  id?: string;
  /** Position of the nodule in `LungRadsExam.nodules`. */
  index: number;
  /** Never '0': category 0 is a property of the exam. */
  category: Exclude<LungRadsCategory, '0'>;
  /** The mean diameter the rules used, in mm rounded to 0.1 mm. */
  meanDiameterMm: number;
  /** Rules in the form `<id>: <text> -> <category>`; the last one decided the category. */
  rules: string[];
}

export interface LungRadsResult {
  version: LungRadsVersion;
  /** The category of the most suspicious nodule, or 0 when the exam is incomplete. */
  category: LungRadsCategory;
  modifiers: LungRadsModifier[];
  /** Recommended management for the exam category (and the S modifier, when present). */
  management: string;
  /**
   * Months until the recommended screening LDCT; null when the next step is not a scheduled LDCT (comparison
   * with priors, additional images, diagnostic work-up for 4B/4X). For the 1-3 month window of an
   * infectious or inflammatory category 0: 1, its start.
   */
  followUpMonths: number | null;
  /** Exam-level rules and the rules of the nodule(s) that set the category, as `<id>: <text> -> <category>`. */
  rules: string[];
  nodules: LungRadsNoduleResult[];
}
