import { detectNodules, type DetectedNodule } from '../inference/detect-nodules.js';
import { segmentLungs } from '../inference/lung-segmentation.js';
import type { LoadedDetector } from '../inference/model-registry.js';
import type { NoduleType } from '../phantom/nodule-type.js';
import { mulberry32, type InsertedNodule } from '../phantom/insert-nodule.js';
import { withRandomNodules } from '../phantom/random-nodules.js';
import type { CtVolume, Vec3 } from '../volume/volume.js';

/** A CT to insert nodules into, with the regions (real lesions) to keep away from. */
export interface SyntheticBackground {
  name: string;
  volume: CtVolume;
  /** Real lesions and reader marks: no insertion near them, and findings there are neither hits nor false positives. */
  avoid: { centreLps: Vec3; radiusMm: number }[];
}

export interface SyntheticEvaluationOptions {
  /** Copies of each background, each with its own nodules. */
  copies: number;
  nodulesPerCopy: number;
  /** Seeds differ from the training recipe's, so evaluation nodules are new ones. */
  seed: number;
  /** Diameters drawn log-uniformly from this range, mm. */
  diameterMm: [number, number];
  onScan?: (line: string) => void;
}

export const DEFAULT_SYNTHETIC_EVALUATION: SyntheticEvaluationOptions = {
  copies: 2,
  nodulesPerCopy: 10,
  seed: 900_001,
  diameterMm: [4, 30],
};

/** Lung-RADS-relevant size bins (mean diameter, mm): [low, high). */
export const SIZE_BINS: [number, number][] = [
  [4, 6],
  [6, 8],
  [8, 15],
  [15, 31],
];

export interface SyntheticNoduleOutcome {
  background: string;
  copy: number;
  truth: InsertedNodule;
  found: boolean;
  score: number | undefined;
  measuredMeanDiameterMm: number | undefined;
  measuredType: NoduleType | undefined;
}

export interface SyntheticEvaluation {
  nodules: SyntheticNoduleOutcome[];
  scans: number;
  falsePositives: number;
  falsePositivesPerScan: number;
  sensitivity: number;
  bySize: { binMm: [number, number]; nodules: number; found: number; sensitivity: number }[];
  byType: { type: NoduleType; nodules: number; found: number; sensitivity: number }[];
  /** Over found nodules: measured mean diameter minus the inserted volume-equivalent diameter, mm. */
  diameterErrorMm: { mean: number; meanAbsolute: number } | undefined;
  /** Over found nodules: share whose measured type is the inserted type. */
  typeAgreement: number | undefined;
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/**
 * Synthetic-insertion evaluation: nodules of known position, size and type are inserted into real CT
 * backgrounds; the detector at its operating point is scored per nodule (a finding whose centre lies within
 * the nodule's radius, at least 2 mm, is a hit) and per scan (every other finding outside the backgrounds'
 * real lesions is a false positive).
 */
export async function evaluateOnSyntheticNodules(
  backgrounds: SyntheticBackground[],
  detector: LoadedDetector,
  options: SyntheticEvaluationOptions = DEFAULT_SYNTHETIC_EVALUATION,
): Promise<SyntheticEvaluation> {
  const nodules: SyntheticNoduleOutcome[] = [];
  let falsePositives = 0;
  let scans = 0;
  for (const [b, background] of backgrounds.entries()) {
    const lungs = segmentLungs(background.volume);
    for (let copy = 0; copy < options.copies; copy += 1) {
      const { volume, inserted } = withRandomNodules(
        background.volume,
        lungs.mask,
        mulberry32(options.seed + 1000 * b + copy),
        {
          count: options.nodulesPerCopy,
          diameterMm: options.diameterMm,
          typeShares: { solid: 0.5, partSolid: 0.25 },
          avoid: background.avoid,
          allowJuxtapleural: copy % 2 === 1,
          minSeparationMm: 40,
        },
      );
      const detection = await detectNodules(volume, detector);
      scans += 1;
      const used = new Set<DetectedNodule>();
      for (const truth of inserted) {
        const hits = detection.nodules.filter(
          (n) => distance(n.centreLps, truth.centreLps) <= Math.max(truth.diameterMm / 2, 2),
        );
        const best = hits.sort((x, y) => y.score - x.score)[0];
        hits.forEach((h) => used.add(h));
        nodules.push({
          background: background.name,
          copy,
          truth,
          found: best !== undefined,
          score: best?.score,
          measuredMeanDiameterMm: best?.meanDiameterMm,
          measuredType: best?.type,
        });
      }
      const scanFalsePositives = detection.nodules.filter(
        (n) =>
          !used.has(n) && !background.avoid.some((a) => distance(n.centreLps, a.centreLps) <= a.radiusMm),
      ).length;
      falsePositives += scanFalsePositives;
      const found = nodules.filter(
        (n) => n.background === background.name && n.copy === copy && n.found,
      ).length;
      options.onScan?.(
        `${background.name} copy ${copy}: ${found}/${inserted.length} inserted nodules found, ` +
          `${scanFalsePositives} false positive(s), ${detection.timingsMs.heatmap ?? 0} ms heatmap`,
      );
    }
  }
  const rate = (list: SyntheticNoduleOutcome[]) => ({
    nodules: list.length,
    found: list.filter((n) => n.found).length,
    sensitivity: list.length ? list.filter((n) => n.found).length / list.length : 0,
  });
  const found = nodules.filter((n) => n.found);
  const errors = found.map((n) => n.measuredMeanDiameterMm! - n.truth.diameterMm);
  return {
    nodules,
    scans,
    falsePositives,
    falsePositivesPerScan: scans ? falsePositives / scans : 0,
    sensitivity: rate(nodules).sensitivity,
    bySize: SIZE_BINS.map((binMm) => ({
      binMm,
      ...rate(nodules.filter((n) => n.truth.diameterMm >= binMm[0] && n.truth.diameterMm < binMm[1])),
    })),
    byType: (['solid', 'part-solid', 'ground-glass'] as const).map((type) => ({
      type,
      ...rate(nodules.filter((n) => n.truth.type === type)),
    })),
    diameterErrorMm: errors.length
      ? {
          mean: errors.reduce((s, e) => s + e, 0) / errors.length,
          meanAbsolute: errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length,
        }
      : undefined,
    typeAgreement: found.length
      ? found.filter((n) => n.measuredType === n.truth.type).length / found.length
      : undefined,
  };
}
