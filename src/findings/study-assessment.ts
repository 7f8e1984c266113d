import type { Vec3 } from '../volume/volume.js';
import { assessLungRads } from './lung-rads/lung-rads.js';
import type { LungRadsNodule, LungRadsResult, NoduleStatus } from './lung-rads/types.js';
import {
  matchToPrior,
  type NoduleComparison,
  type NoduleType,
  type PriorMatchResult,
} from './prior-matching.js';

/** A nodule of a study as Lung-RADS sees it: measurements as they stand (AI, or as a reader corrected them). */
export interface AssessedNodule {
  id: string;
  /** Centre, LPS mm. */
  centreLps: Vec3;
  /** Mean axial diameter, mm (the Lung-RADS size). */
  meanDiameterMm: number;
  /** Volume, mm³; null when unknown (a nodule a reader added by its diameters only). */
  volumeMm3: number | null;
  type: NoduleType;
  /** Mean diameter of the solid component, mm (part-solid nodules). */
  solidComponentMm: number | null;
  juxtapleural: boolean;
  calcifiedBenign: boolean;
  suspiciousFeatures: boolean;
}

export interface StudyForAssessment {
  /** StudyDate, YYYY-MM-DD; null when the study has none (then no prior can be compared). */
  studyDate: string | null;
  /** Nodules still standing (rejected ones left out). */
  nodules: AssessedNodule[];
  /** Why the exam cannot be read (unusable series, incomplete coverage): any gives category 0. */
  qualityReasons: string[];
}

export interface PriorForAssessment {
  studyInstanceUid: string;
  studyDate: string;
  nodules: AssessedNodule[];
}

export interface StudyAssessment {
  lungRads: LungRadsResult;
  /** The prior compared against (the latest earlier study of the patient), if any. */
  prior: { studyInstanceUid: string; studyDate: string; match: PriorMatchResult } | null;
  /** Lung-RADS status of each nodule by id: baseline without a prior, else new, growing or stable. */
  statuses: Record<string, NoduleStatus>;
}

/**
 * Assigns the study's Lung-RADS v2022 category from its nodules as they stand, comparing them with the
 * latest earlier study of the same patient when there is one (matching in patient coordinates, growth =
 * mean diameter + 1.5 mm). Pure: the caller loads the nodules.
 */
export function assessStudy(study: StudyForAssessment, priors: PriorForAssessment[]): StudyAssessment {
  const latestPrior =
    study.studyDate === null
      ? undefined
      : priors
          .filter((p) => p.studyDate < (study.studyDate ?? ''))
          .sort((a, b) => b.studyDate.localeCompare(a.studyDate))[0];
  const match =
    latestPrior && study.studyDate
      ? matchToPrior(
          { studyDate: study.studyDate, nodules: study.nodules.map(forMatching) },
          { studyDate: latestPrior.studyDate, nodules: latestPrior.nodules.map(forMatching) },
        )
      : undefined;
  const comparisons = new Map<string, NoduleComparison>(match?.nodules.map((c) => [c.currentId, c]) ?? []);
  const statuses: Record<string, NoduleStatus> = {};
  const nodules: LungRadsNodule[] = study.nodules.map((n) => {
    const status: NoduleStatus = comparisons.get(n.id)?.status ?? 'baseline';
    statuses[n.id] = status;
    return {
      id: n.id,
      type: n.type,
      meanDiameterMm: n.meanDiameterMm,
      ...(n.type === 'part-solid' && n.solidComponentMm !== null && { solidComponentMm: n.solidComponentMm }),
      status,
      ...(n.juxtapleural && n.type === 'solid' && { juxtapleural: true }),
      ...(n.calcifiedBenign && { calcifiedBenign: true }),
      ...(n.suspiciousFeatures && { suspiciousFeatures: true }),
    };
  });
  const lungRads = assessLungRads({
    priorExam: match !== undefined,
    nodules,
    ...(study.qualityReasons.length > 0 && { qualityReasons: study.qualityReasons }),
  });
  return {
    lungRads,
    prior:
      latestPrior && match
        ? { studyInstanceUid: latestPrior.studyInstanceUid, studyDate: latestPrior.studyDate, match }
        : null,
    statuses,
  };
}

function forMatching(n: AssessedNodule) {
  const radius = n.meanDiameterMm / 2;
  return {
    id: n.id,
    centreLps: n.centreLps,
    meanDiameterMm: n.meanDiameterMm,
    // A reader-added nodule has no segmented volume: the sphere of its mean diameter stands in.
    volumeMm3: n.volumeMm3 ?? (4 / 3) * Math.PI * radius ** 3,
    solidComponentMm: n.solidComponentMm,
    type: n.type,
  };
}
