// Recipe, step 3 of the patch classifier: registers the trained models, evaluates them held out, calibrates
// their scores and chooses the operating point, and writes the figures the model card quotes.
//
//   node --import tsx models/recipes/evaluate-patch-detector.ts [--copies 8] [--out models/cards/nodus-detector-2.evaluation.json]
//     [--mirror-top 128] (0: one pass per candidate)
//     [--sub-solid own|shared|none] the sub-solid candidate search (src/inference/sub-solid-candidates.ts):
//       own (default, since 2.2.0): its candidates scored by nodus-sub-solid-cnn, trained on them
//         (build-patch-dataset.ts --sub-solid-only, train_patch_classifier.py --name nodus-sub-solid-cnn),
//         each model calibrated on the findings it scored; shared: scored by nodus-patch-cnn (as tried);
//       none: no sub-solid search (2.0.0 and 2.1.0)
//     [--small own|none] the small-nodule candidate search (src/inference/small-candidates.ts):
//       own (default, since 2.4.0): its candidates scored by nodus-small-nodule-cnn, trained on them
//         (build-patch-dataset.ts --small-only, train_patch_classifier.py --name nodus-small-nodule-cnn),
//         calibrated on the findings it scored; none: no small-nodule search (2.3.0)
//   node --import tsx models/recipes/evaluate-patch-detector.ts --register-only   (the calibration and operating
//     point of an earlier evaluation, for a model trained since, e.g. the shipped one)
//
// Held out means: each background (LIDC-IDRI-0001, Lung_Dx-A0001, CPTAC C3N-00247) is scored only by the model
// trained without it (train_patch_classifier.py), on new copies with new nodules (seeds unlike the training
// recipe's), and on the scan itself (its real lesions). Steps:
// 1. register the four ONNX models (and the four sub-solid and four small-nodule ones) and their detectors in
//    models/manifest.json (provisional calibration);
// 2. for each background, `copies` copies (evaluation-copy.ts) with 10 inserted nodules each (3-30 mm, solid /
//    part-solid / ground glass, half the copies against the pleura, half of a thin-slice scan's copies at twice
//    the slice thickness, every fourth with a 3-6 cm mass): the whole detector runs (candidates, CNN,
//    measurement, one finding per nodule), its 24 best findings per scan kept;
// 3. Platt scaling of the CNN's logit on all held-out findings (hit = centre within an inserted nodule's
//    radius, LUNA16's rule; the sub-solid and small-nodule classifiers' each fitted on the findings it scored),
//    its reliability shown by cross-fitting (fit on even copies, shown on odd ones and back);
// 4. the operating point: the lowest calibrated score with at most 1 false positive per scan over the pooled
//    held-out scans; FROC (1/8 - 8 FP/scan), CPM with bootstrap intervals, per background, size, type and slice
//    thickness;
// 5. the real scans, each by its held-out model at that operating point: the LIDC nodule, the Lung_Dx tumour,
//    every finding of 15 mm or more.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calibrated, fitPlatt, reliability, type Calibration } from '../../src/evaluation/calibration.js';
import { scoreFroc, type ScanToScore, type SizedFinding } from '../../src/evaluation/froc.js';
import { detectNodules, type DetectedNodule } from '../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../src/inference/lung-segmentation.js';
import type { DetectorEntry, ModelEntry } from '../../src/inference/model-manifest.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import type { Vec3 } from '../../src/volume/volume.js';
import {
  CANDIDATE_CAP,
  SMALL_CANDIDATES,
  SMALL_PATCH_LAYOUT,
  SUB_SOLID_CANDIDATES,
} from './candidate-stage-settings.js';
import { MODELS_DIR, sha256Hex, updateManifest } from './manifest-file.js';
import { evaluationCopy } from './evaluation-copy.js';
import type { CopiedNodule } from './synthetic-copy.js';
import { trainingBackgrounds, type BackgroundName } from './training-backgrounds.js';

/**
 * The main classifier's version (its ONNX files): since 2.1.0 the mean logit of two networks of
 * train_patch_classifier.py, its default seed (the 2.0.0 files) and ENSEMBLE_SEED, combined by
 * combine_patch_ensemble.py.
 */
const ENSEMBLE_VERSION = '2.1.0';
const MEMBER_VERSION = '2.0.0';
const ENSEMBLE_SEED = 20262202;
/** The id of the ensemble's second networks (train_patch_classifier.py --name). */
const TWIN_MODEL = 'nodus-patch-cnn-s2';
/** The sub-solid classifier's id and version (train_patch_classifier.py --name, --version). */
const SUB_SOLID_MODEL = 'nodus-sub-solid-cnn';
const SUB_SOLID_VERSION = '1.0.0';
/** The small-nodule classifier's id and version (a fine channel of the source voxels, SMALL_PATCH_LAYOUT). */
const SMALL_MODEL = 'nodus-small-nodule-cnn';
const SMALL_VERSION = '1.0.0';
/** The detectors' version (models + candidates, calibration, operating point); 2.3.0 had no small-nodule search. */
const SMALL_DETECTOR_VERSION = '2.4.0';
const ENSEMBLE_DETECTOR_VERSION = '2.3.0';
/**
 * The detectors' mirrorAveragedTop: the 128 best candidates of a scan are scored again on the mirror images of
 * their patches (about 900 extra patches, +0.2 s); at 1 FP/scan they bring about as many nodules as before,
 * below it more (see the model card).
 */
const MIRROR_AVERAGED_TOP = 128;
const HOLDOUTS: BackgroundName[] = ['lidc', 'lung-dx', 'cptac'];
/** Provisional calibration while evaluating: a gentle slope keeps float32 scores from saturating at 1. */
const PROVISIONAL: Calibration = { slope: 0.25, intercept: 0 };
const FINDINGS_PER_SCAN = 24;
const LARGE_FINDING_MM = 15;

const { values } = parseArgs({
  options: {
    copies: { type: 'string' },
    out: { type: 'string' },
    'skip-synthetic': { type: 'boolean' },
    'register-only': { type: 'boolean' },
    'mirror-top': { type: 'string' },
    'sub-solid': { type: 'string' },
    'main-version': { type: 'string' },
    small: { type: 'string' },
  },
});
const smallSearch = values.small ?? 'own';
if (!['own', 'none'].includes(smallSearch)) throw new Error('--small: own or none');
const smallModel = smallSearch === 'own';
const subSolidSearch = values['sub-solid'] ?? 'own';
if (!['own', 'shared', 'none'].includes(subSolidSearch)) throw new Error('--sub-solid: own, shared or none');
const subSolidModel = subSolidSearch === 'own';
// --main-version 2.0.0: the single network of detectors 2.0.0-2.2.0 (registered as detector 2.2.0), for comparison.
const VERSION = values['main-version'] ?? ENSEMBLE_VERSION;
if (![ENSEMBLE_VERSION, MEMBER_VERSION].includes(VERSION)) {
  throw new Error(`--main-version: ${ENSEMBLE_VERSION} or ${MEMBER_VERSION}`);
}
const ensemble = VERSION === ENSEMBLE_VERSION;
if (!ensemble && smallModel)
  throw new Error(
    '--main-version 2.0.0 is detector 2.2.0, which had no small-nodule search: add --small none',
  );
const DETECTOR_VERSION = !ensemble
  ? '2.2.0'
  : smallModel
    ? SMALL_DETECTOR_VERSION
    : ENSEMBLE_DETECTOR_VERSION;
const copies = Number(values.copies ?? 8);
const mirrorTop = Number(values['mirror-top'] ?? MIRROR_AVERAGED_TOP);
const out = path.resolve(values.out ?? path.join(MODELS_DIR, 'cards/nodus-detector-2.evaluation.json'));

const classifierId = (holdout?: string, name = 'nodus-patch-cnn') =>
  `${name}${holdout ? `-holdout-${holdout}` : ''}`;
const detectorId = (holdout?: string) => `nodus-detector-2${holdout ? `-holdout-${holdout}` : ''}`;

/**
 * The patch classifier's manifest entry, or undefined (with a warning) while its ONNX file is not trained;
 * its description says what `network` it is and which candidates (`what`) it scores.
 */
function patchClassifierEntry(entry: {
  id: string;
  version: string;
  holdout: string | undefined;
  network: string;
  what: string;
  recipe: string;
  /** Patch layout; default: 16³ cubes at scales 1, 2 and 4 of the grid. */
  layout?: { size: number; scales: number[]; fineSpacingMm?: number };
}): ModelEntry | undefined {
  const { id, version, holdout, network, what, recipe } = entry;
  const layout = entry.layout ?? { size: 16, scales: [1, 2, 4] };
  const mm = (v: number) => `${v * 1.5}`;
  const cubes = [
    ...(layout.fineSpacingMm ? [`${layout.fineSpacingMm} mm of the source voxels`] : []),
    ...layout.scales.map(mm),
  ];
  const file = `${id}-${version}.onnx`;
  if (!fs.existsSync(path.join(MODELS_DIR, file))) {
    console.warn(`models/${file} is not trained yet: not registered`);
    return undefined;
  }
  return {
    id,
    version,
    task: 'patch-classifier',
    file,
    sha256: sha256Hex(fs.readFileSync(path.join(MODELS_DIR, file))),
    description:
      `${network} on ${layout.size}³ cubes at ${cubes.join(', ').replace(/, ([^,]*)$/, ' and $1')} mm around each ${what}: logit that it is a nodule` +
      (holdout ? `; trained without the ${holdout} scan (for evaluation on it)` : ''),
    card: 'cards/nodus-detector-2.md',
    recipe,
    contract: {
      inputName: 'patches',
      outputName: 'logit',
      patchSize: layout.size,
      scales: layout.scales,
      ...(layout.fineSpacingMm && { fineSpacingMm: layout.fineSpacingMm }),
    },
  };
}

/** The ensemble's recipe after the first network's: the second network (ENSEMBLE_SEED), then the combined file. */
function ensembleRecipe(holdout: string | undefined): string {
  const member = (name?: string) => `models/${classifierId(holdout, name)}-${MEMBER_VERSION}.onnx`;
  return (
    ` && /usr/bin/python3 models/recipes/train_patch_classifier.py --name ${TWIN_MODEL} --seed ${ENSEMBLE_SEED}` +
    ` && /usr/bin/python3 models/recipes/combine_patch_ensemble.py --out models/${classifierId(holdout)}-${VERSION}.onnx ` +
    `${member()} ${member(TWIN_MODEL)}`
  );
}

function register(
  calibration: Calibration,
  threshold: number,
  subSolidCalibration?: Calibration,
  smallCalibration?: Calibration,
): void {
  const models: ModelEntry[] = [];
  const detectors: DetectorEntry[] = [];
  for (const holdout of [...HOLDOUTS, undefined]) {
    const id = classifierId(holdout);
    const model = patchClassifierEntry({
      id,
      version: VERSION,
      holdout,
      network: ensemble
        ? `mean logit of two 3D CNNs (train_patch_classifier.py's default seed and ${ENSEMBLE_SEED})`
        : '3D CNN',
      what: 'nodus candidate',
      recipe:
        'node --import tsx models/recipes/build-patch-dataset.ts && /usr/bin/python3 models/recipes/train_patch_classifier.py' +
        (ensemble ? ensembleRecipe(holdout) : ''),
    });
    if (!model) continue;
    models.push(model);
    const subSolid =
      subSolidModel &&
      patchClassifierEntry({
        id: classifierId(holdout, SUB_SOLID_MODEL),
        version: SUB_SOLID_VERSION,
        holdout,
        network: '3D CNN',
        what: 'candidate of the sub-solid search',
        recipe:
          'node --import tsx models/recipes/build-patch-dataset.ts --sub-solid-only --out .training/sub-solid && ' +
          `/usr/bin/python3 models/recipes/train_patch_classifier.py --data .training/sub-solid --name ${SUB_SOLID_MODEL} --version ${SUB_SOLID_VERSION}`,
      });
    if (subSolidModel && !subSolid) continue;
    if (subSolid) models.push(subSolid);
    const small =
      smallModel &&
      patchClassifierEntry({
        id: classifierId(holdout, SMALL_MODEL),
        version: SMALL_VERSION,
        holdout,
        network: '3D CNN',
        what: 'candidate of the small-nodule search',
        recipe:
          'node --import tsx models/recipes/build-patch-dataset.ts --small-only --out .training/small && ' +
          `/usr/bin/python3 models/recipes/train_patch_classifier.py --data .training/small --name ${SMALL_MODEL} --version ${SMALL_VERSION}`,
        layout: SMALL_PATCH_LAYOUT,
      });
    if (smallModel && !small) continue;
    if (small) models.push(small);
    detectors.push({
      id: detectorId(holdout),
      version: DETECTOR_VERSION,
      heatmap: 'nodus-candidates@1.0.0',
      classifier: `${id}@${VERSION}`,
      calibration,
      threshold,
      maxCandidates: CANDIDATE_CAP.maxCandidates,
      keepAllFromRadiusMm: CANDIDATE_CAP.keepAllFromRadiusMm,
      ...(subSolidSearch !== 'none' && {
        subSolidCandidates: {
          ...SUB_SOLID_CANDIDATES,
          ...(subSolid && {
            classifier: `${subSolid.id}@${subSolid.version}`,
            calibration: subSolidCalibration ?? PROVISIONAL,
          }),
        },
      }),
      ...(small && {
        smallCandidates: {
          ...SMALL_CANDIDATES,
          classifier: `${small.id}@${small.version}`,
          calibration: smallCalibration ?? PROVISIONAL,
        },
      }),
      ...(mirrorTop > 0 && { mirrorAveragedTop: mirrorTop }),
    });
  }
  updateManifest({ models, detectors, defaultDetector: detectorId() });
}

interface EvaluatedScan {
  background: BackgroundName;
  copy: number;
  sliceMm: number;
  inserted: CopiedNodule[];
  avoid: { centreLps: Vec3; radiusMm: number }[];
  /**
   * search: which candidate search the finding grew from (scored by that search's own classifier where there
   * is one).
   */
  findings: {
    centreLps: Vec3;
    logit: number;
    meanDiameterMm: number;
    type: string;
    search: 'main' | 'sub-solid' | 'small';
  }[];
}

/** The classifier that scored a finding: 0 the main one, 1 the sub-solid search's, 2 the small-nodule search's. */
const modelOf = (f: EvaluatedScan['findings'][number]): 0 | 1 | 2 =>
  subSolidModel && f.search === 'sub-solid' ? 1 : smallModel && f.search === 'small' ? 2 : 0;
const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const logitOf = (p: number) => Math.log(p / (1 - p)) / PROVISIONAL.slope;

/** Finding label for calibration: 1 on an inserted nodule (LUNA16: within its radius), 0 false, undefined ignored. */
function labelOf(scan: EvaluatedScan, centre: Vec3): 0 | 1 | undefined {
  if (scan.inserted.some((n) => distance(centre, n.centreLps) < Math.max(n.diameterMm / 2, 1.5))) return 1;
  if (scan.avoid.some((a) => distance(centre, a.centreLps) < a.radiusMm)) return undefined;
  return 0;
}

if (values['register-only']) {
  const earlier = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    calibration: Calibration;
    subSolidCalibration?: Calibration;
    smallCalibration?: Calibration;
    operatingPoint: { threshold: number };
  };
  register(
    earlier.calibration,
    earlier.operatingPoint.threshold,
    earlier.subSolidCalibration,
    earlier.smallCalibration,
  );
  console.log(
    `registered with calibration ${JSON.stringify(earlier.calibration)}, threshold ${earlier.operatingPoint.threshold}`,
  );
  process.exit(0);
}
register(PROVISIONAL, 0.5);
const backgrounds = await trainingBackgrounds(HOLDOUTS);
const scans: EvaluatedScan[] = [];
const started = performance.now();
for (const [b, background] of backgrounds.entries()) {
  const detector = await loadDetector(detectorId(background.name));
  const lungs = segmentLungs(background.volume);
  for (let copy = 0; copy < (values['skip-synthetic'] ? 0 : copies); copy += 1) {
    const { volume, inserted } = evaluationCopy(background, b, copy, lungs.mask);
    const detection = await detectNodules(volume, detector, { threshold: 0, maxFindings: FINDINGS_PER_SCAN });
    scans.push({
      background: background.name,
      copy,
      sliceMm: volume.spacingMm[2],
      inserted,
      // Findings on a marked lesion, or on where an unmarked one most likely is, are neither hits nor false.
      avoid: [...background.avoid, ...background.probableLesions],
      findings: detection.nodules.map((n) => ({
        centreLps: n.centreLps,
        logit: logitOf(n.score),
        meanDiameterMm: n.meanDiameterMm,
        type: n.type,
        search: n.candidate.source ?? 'main',
      })),
    });
    const scan = scans.at(-1)!;
    const hits = inserted.filter((n) =>
      scan.findings.slice(0, 3).some((f) => distance(f.centreLps, n.centreLps) < n.diameterMm / 2),
    ).length;
    console.log(
      `${background.name} copy ${copy} (${volume.spacingMm[2]} mm): ${hits}/${inserted.length} inserted ` +
        `among the 3 best findings; classifier ${detection.timingsMs.classifier} ms, ` +
        `${detection.candidatesScored} candidates (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
}

// 3. Calibration on held-out findings, cross-fitted by copy parity for the reliability curve; with a
// sub-solid classifier, each model's logits are fitted on the findings it scored.
const labelled = scans.flatMap((scan) =>
  scan.findings.flatMap((f) => {
    const label = labelOf(scan, f.centreLps);
    const model = modelOf(f);
    return label === undefined ? [] : [{ logit: f.logit, label, fold: scan.copy % 2, model }];
  }),
);
const fit = (rows: typeof labelled) =>
  fitPlatt(
    rows.map((r) => r.logit),
    rows.map((r) => r.label),
  );
const folds = [0, 1].map((fold) =>
  [0, ...(subSolidModel ? [1] : []), ...(smallModel ? [2] : [])].map((model) =>
    fit(labelled.filter((r) => r.fold !== fold && r.model === model)),
  ),
);
const crossProbabilities = labelled.map((r) => calibrated(folds[r.fold]![r.model]!, r.logit));
const calibration = fit(labelled.filter((r) => r.model === 0));
const subSolidCalibration = subSolidModel ? fit(labelled.filter((r) => r.model === 1)) : undefined;
const smallCalibration = smallModel ? fit(labelled.filter((r) => r.model === 2)) : undefined;
const calibrations = [calibration, subSolidCalibration, smallCalibration];
const scoreOf = (f: EvaluatedScan['findings'][number]) => calibrated(calibrations[modelOf(f)]!, f.logit);
const reliabilityTable = reliability(
  crossProbabilities,
  labelled.map((r) => r.label),
);
const uncalibrated = reliability(
  labelled.map((r) => calibrated({ slope: 1, intercept: 0 }, r.logit)),
  labelled.map((r) => r.label),
);

// 4. FROC on calibrated scores; the operating point at 1 FP/scan over all held-out scans.
type Filter = (n: EvaluatedScan['inserted'][number]) => boolean;
type ScanFilter = (scan: EvaluatedScan) => boolean;
function toScore(filter: Filter = () => true, only: ScanFilter = () => true): ScanToScore[] {
  return scans.filter(only).map((s) => ({
    scanId: `${s.background}-${s.copy}`,
    detections: s.findings.map((f) => ({ centreLps: f.centreLps, score: scoreOf(f) })),
    nodules: s.inserted.filter(filter).map((n) => ({ centreLps: n.centreLps, diameterMm: n.diameterMm })),
    irrelevant: [
      ...s.inserted
        .filter((n) => !filter(n))
        .map((n) => ({ centreLps: n.centreLps, diameterMm: n.diameterMm })),
      ...s.avoid.map((a): SizedFinding => ({ centreLps: a.centreLps, diameterMm: 2 * a.radiusMm })),
    ],
  }));
}
const pooled = scans.length ? scoreFroc(toScore(), { bootstrapRounds: 1000 }) : undefined;
let threshold = 0.5;
if (pooled) {
  const within = pooled.curve.filter((p) => p.fpPerScan <= 1 && Number.isFinite(p.threshold));
  threshold = Math.round(Math.min(...within.map((p) => p.threshold)) * 1e4) / 1e4;
}
const atOperatingPoint = (filter: Filter, only?: ScanFilter) => {
  const froc = scoreFroc(toScore(filter, only), { bootstrapRounds: 1000 });
  const point = froc.curve.filter((p) => p.threshold >= threshold).at(-1);
  return {
    nodules: froc.nodules,
    cpm: round(froc.cpm),
    cpmInterval: froc.cpmInterval && [round(froc.cpmInterval.lower), round(froc.cpmInterval.upper)],
    sensitivities: froc.sensitivities.map((s) => [s.fpPerScan, round(s.sensitivity)]),
    atOperatingPoint: point && { sensitivity: round(point.sensitivity), fpPerScan: round(point.fpPerScan) },
  };
};
const round = (v: number) => Math.round(v * 1000) / 1000;
const size =
  (low: number, high: number): Filter =>
  (n) =>
    n.diameterMm >= low && n.diameterMm < high;
const groups: Record<string, Filter> = {
  all: () => true,
  '3-6 mm': size(3, 6),
  '6-10 mm': size(6, 10),
  '10-20 mm': size(10, 20),
  '20-30 mm': size(20, 30.01),
  'masses 30-60 mm': size(30.01, 61),
  'solid >= 6 mm': (n) => n.type === 'solid' && n.diameterMm >= 6 && n.diameterMm <= 30,
  'part-solid': (n) => n.type === 'part-solid',
  'part-solid >= 6 mm': (n) => n.type === 'part-solid' && n.diameterMm >= 6,
  'part-solid 3-6 mm': (n) => n.type === 'part-solid' && n.diameterMm < 6,
  'ground-glass >= 6 mm': (n) => n.type === 'ground-glass' && n.diameterMm >= 6,
  'ground-glass 3-6 mm': (n) => n.type === 'ground-glass' && n.diameterMm < 6,
  juxtapleural: (n) => n.juxtapleural && n.diameterMm <= 30,
};
const SLICE_GROUPS: Record<string, ScanFilter> = {
  'slices 2.5-3 mm': (s) => s.sliceMm <= 3,
  'slices 5-6 mm': (s) => s.sliceMm > 3,
};
const BY_SLICES = [
  'all',
  '3-6 mm',
  'solid >= 6 mm',
  'part-solid',
  'part-solid >= 6 mm',
  'part-solid 3-6 mm',
  'ground-glass >= 6 mm',
];
const synthetic = scans.length
  ? {
      scans: scans.length,
      pooled: Object.fromEntries(
        Object.entries(groups).map(([name, filter]) => [name, atOperatingPoint(filter)]),
      ),
      byBackground: Object.fromEntries(
        HOLDOUTS.map((b) => [
          b,
          atOperatingPoint(
            () => true,
            (s) => s.background === b,
          ),
        ]),
      ),
      // The same operating point on the copies of each slice thickness: the solid core of a small part-solid
      // nodule survives 2.5-3 mm slices, not 5-6 mm ones (models/recipes/inserted-nodule-contrast.ts).
      bySliceThickness: Object.fromEntries(
        Object.entries(SLICE_GROUPS).map(([slices, only]) => [
          slices,
          Object.fromEntries(BY_SLICES.map((name) => [name, atOperatingPoint(groups[name]!, only)])),
        ]),
      ),
    }
  : undefined;

// 5. The real scans at the operating point, each by the model that never saw it.
register(calibration, threshold, subSolidCalibration, smallCalibration);
const real: Record<string, unknown> = {};
for (const background of backgrounds) {
  const detector = await loadDetector(detectorId(background.name));
  const detection = await detectNodules(background.volume, detector);
  const findings = detection.nodules.map((n: DetectedNodule) => ({
    score: round(n.score),
    meanDiameterMm: n.meanDiameterMm,
    longAxisMm: n.longAxisMm,
    type: n.type,
    centreLps: n.centreLps.map((v) => Math.round(v)),
    onReference: background.avoid.some((a) => distance(n.centreLps, a.centreLps) < a.radiusMm),
    onProbableLesion: background.probableLesions.some((a) => distance(n.centreLps, a.centreLps) < a.radiusMm),
  }));
  real[background.name] = {
    findings,
    largeFindingsNotOnReference: findings.filter(
      (f) => f.meanDiameterMm >= LARGE_FINDING_MM && !f.onReference,
    ).length,
    largeFindingsOnProbableLesion: findings.filter(
      (f) => f.meanDiameterMm >= LARGE_FINDING_MM && f.onProbableLesion,
    ).length,
    timingsMs: detection.timingsMs,
  };
  console.log(`${background.name} (real scan, held-out model): ${JSON.stringify(real[background.name])}`);
}

const report = {
  version: DETECTOR_VERSION,
  mirrorAveragedTop: mirrorTop,
  subSolidSearch,
  ...(subSolidSearch !== 'none' && { subSolidCandidates: SUB_SOLID_CANDIDATES }),
  smallSearch,
  ...(smallModel && { smallCandidates: SMALL_CANDIDATES }),
  measured: new Date().toISOString().slice(0, 10),
  calibration,
  ...(subSolidCalibration && { subSolidCalibration }),
  ...(smallCalibration && { smallCalibration }),
  operatingPoint: {
    threshold,
    rule: 'lowest calibrated score with <= 1 FP/scan over the pooled held-out scans',
  },
  reliability: { crossFitted: reliabilityTable, uncalibrated },
  calibrationFindings: labelled.length,
  synthetic,
  real,
  seconds: Math.round((performance.now() - started) / 1000),
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `calibration ${JSON.stringify(calibration)}, operating point ${threshold}; ` +
    `pooled held-out CPM ${pooled ? round(pooled.cpm) : 'n/a'}; wrote ${out}`,
);
