// Recipe: trains the false-positive-reduction classifier of the nodus detector on synthetic nodules inserted
// into CT backgrounds, and writes models/<id>-<version>.onnx, its weights (.weights.json) and the manifest entry.
//
//   node --import tsx models/recipes/train-fp-classifier.ts [--holdout lidc|lung-dx] [--copies N]
//
// Backgrounds: the chest phantom and the real scans of the shared data, except the held-out one. The real
// lesions of each scan (readers' marks, the annotated tumour) are kept out: no nodule is inserted near them
// and no candidate near them is used, as positive or negative. Positives are candidates within an inserted
// nodule's radius; negatives are all other candidates (real tissue: vessels, airways, chest wall, ...).
// Deterministic: fixed seeds, fixed order; the same inputs give the same file.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CANDIDATE_FEATURE_NAMES } from '../../src/inference/candidate-features.js';
import { detectNodules, type ScoredCandidate } from '../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../src/inference/lung-segmentation.js';
import { loadDetector, type LoadedDetector } from '../../src/inference/model-registry.js';
import { mulberry32, type InsertedNodule } from '../../src/phantom/insert-nodule.js';
import type { Vec3 } from '../../src/volume/volume.js';
import { syntheticCopy } from './synthetic-copy.js';
import { trainingBackgrounds, type Background } from './training-backgrounds.js';
import { buildMlpClassifierGraph, mlpForward } from './mlp-classifier-graph.js';
import { MODELS_DIR, readManifestFile, updateManifest, writeModelFile } from './manifest-file.js';
import { DEFAULT_TRAIN_OPTIONS, trainMlp } from './train-mlp.js';

const VERSION = '1.1.0';
const NODULES_PER_COPY = 10;

const { values } = parseArgs({
  options: { holdout: { type: 'string' }, copies: { type: 'string' }, heatmap: { type: 'string' } },
});
const holdout = values.holdout as 'lidc' | 'lung-dx' | undefined;
const copies = Number(values.copies ?? 6);
const id = holdout ? `nodus-fp-classifier-holdout-${holdout}` : 'nodus-fp-classifier';
const detectorId = holdout ? `nodus-detector-holdout-${holdout}` : 'nodus-detector';

/** The candidate stage alone: the heatmap detector without classifier, every candidate kept. */
async function candidateStage(): Promise<LoadedDetector> {
  const base = await loadDetector('nodus-candidates-only');
  return base;
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** 1 = positive, 0 = negative, undefined = left out (near a real lesion or in an inserted nodule's margin). */
function labelOf(candidate: ScoredCandidate, inserted: InsertedNodule[], avoid: Background['avoid']) {
  if (avoid.some((a) => distance(candidate.centreLps, a.centreLps) < a.radiusMm)) return undefined;
  for (const nodule of inserted) {
    const d = distance(candidate.centreLps, nodule.centreLps);
    if (d <= Math.max(nodule.diameterMm / 2, 2)) return 1;
    if (d <= nodule.diameterMm) return undefined;
  }
  return 0;
}

const stage = await candidateStage();
const backgrounds = (await trainingBackgrounds()).filter((b) => b.name !== holdout);
const rows: number[][] = [];
const labels: number[] = [];
const perScan: {
  name: string;
  copy: number;
  candidates: { label: number; row: number }[];
  inserted: number;
}[] = [];
for (const [b, background] of backgrounds.entries()) {
  const lungs = segmentLungs(background.volume);
  for (let copy = 0; copy < copies; copy += 1) {
    const random = mulberry32(1000 * (b + 1) + copy);
    // Every third copy also holds solid masses of 3-7 cm, half against the chest wall or mediastinum (the
    // insertion is clipped to the lungs, as a real tumour bulges into them): tumours like Lung_Dx's. Every
    // other copy of a thin-slice scan is reconstructed at twice the slice thickness (e.g. 2.5 -> 5 mm), so
    // the classifier learns how vessels and nodules look in thick slices too.
    const allowJuxtapleural = random() < 0.3;
    const { volume, inserted } = syntheticCopy(background, lungs.mask, random, {
      nodules: {
        count: NODULES_PER_COPY,
        diameterMm: [4, 30],
        typeShares: { solid: 0.6, partSolid: 0.2 },
        allowJuxtapleural,
        minSeparationMm: 40,
      },
      ...(copy % 3 === 2 && { masses: { count: 2, diameterMm: [30, 70] as [number, number] } }),
      thickSlices: copy % 2 === 1,
    });
    const detection = await detectNodules(volume, stage, { keepAllCandidates: true, threshold: Infinity });
    const scan = {
      name: background.name,
      copy,
      candidates: [] as { label: number; row: number }[],
      inserted: inserted.length,
    };
    for (const candidate of detection.candidates ?? []) {
      const label = labelOf(candidate, inserted, background.avoid);
      if (label === undefined) continue;
      scan.candidates.push({ label, row: rows.length });
      rows.push(candidate.features);
      labels.push(label);
    }
    perScan.push(scan);
    const found = new Set(
      (detection.candidates ?? []).flatMap((c) =>
        inserted.filter((n) => distance(c.centreLps, n.centreLps) <= Math.max(n.diameterMm / 2, 2)),
      ),
    );
    console.log(
      `${background.name} copy ${copy}: ${detection.candidates?.length} candidates, ` +
        `${found.size}/${inserted.length} inserted nodules among them (${detection.timingsMs.heatmap} ms heatmap)`,
    );
  }
}

const F = CANDIDATE_FEATURE_NAMES.length;
const features = Float32Array.from(rows.flat());
const set = {
  features,
  labels: Uint8Array.from(labels),
  n: rows.length,
  featureNames: [...CANDIDATE_FEATURE_NAMES],
};
console.log(`training on ${set.n} candidates (${labels.filter(Boolean).length} positive), ${F} features`);
const spec = trainMlp(set);
const scores = mlpForward(spec, features, set.n);

// Operating point: the lowest threshold with at most 1 false positive per scan on the training scans.
const sorted = Array.from(scores)
  .map((score, r) => ({ score, label: labels[r]! }))
  .sort((a, b) => b.score - a.score);
const scans = perScan.length;
let threshold = 1;
let falsePositives = 0;
let truePositives = 0;
for (const { score, label } of sorted) {
  if (label === 0 && (falsePositives + 1) / scans > 1) break;
  if (label === 0) falsePositives += 1;
  else truePositives += 1;
  threshold = score;
}
const positives = labels.filter(Boolean).length;
console.log(
  `operating point ${threshold.toFixed(4)}: ${(falsePositives / scans).toFixed(2)} FP/scan, ` +
    `candidate sensitivity ${((100 * truePositives) / Math.max(1, positives)).toFixed(1)} % on the training scans`,
);

const file = `${id}-${VERSION}.onnx`;
const sha256 = writeModelFile(file, buildMlpClassifierGraph(spec));
fs.writeFileSync(
  path.join(MODELS_DIR, `${id}-${VERSION}.weights.json`),
  `${JSON.stringify(
    {
      featureNames: spec.featureNames,
      mean: spec.mean,
      std: spec.std,
      layers: spec.layers.map((l) => ({ weights: Array.from(l.weights), bias: Array.from(l.bias) })),
      training: {
        backgrounds: backgrounds.map((b) => b.name),
        holdout: holdout ?? null,
        copies,
        nodulesPerCopy: NODULES_PER_COPY,
        candidates: set.n,
        positives,
        options: DEFAULT_TRAIN_OPTIONS,
        operatingPoint: {
          threshold,
          falsePositivesPerScan: falsePositives / scans,
          candidateSensitivity: truePositives / Math.max(1, positives),
        },
      },
    },
    null,
    2,
  )}\n`,
);
const heatmapKey = readManifestFile().detectors.find((d) => d.id === 'nodus-candidates-only')!.heatmap;
updateManifest({
  models: [
    {
      id,
      version: VERSION,
      task: 'candidate-classifier',
      file,
      sha256,
      description:
        `False-positive reduction for nodus candidates (MLP ${F}-${DEFAULT_TRAIN_OPTIONS.hidden}-1)` +
        (holdout ? `, trained without the ${holdout} scan (for evaluation on it)` : ''),
      card: 'cards/nodus-detector.md',
      recipe: `node --import tsx models/recipes/train-fp-classifier.ts${holdout ? ` --holdout ${holdout}` : ''} --copies ${copies}`,
      contract: { inputName: 'features', outputName: 'score', featureNames: [...CANDIDATE_FEATURE_NAMES] },
    },
  ],
  detectors: [
    {
      id: detectorId,
      version: VERSION,
      heatmap: heatmapKey,
      classifier: `${id}@${VERSION}`,
      threshold: Math.round(threshold * 1e4) / 1e4,
      maxCandidates: 2000,
      maxFindings: 5,
    },
  ],
  ...(!holdout && { defaultDetector: detectorId }),
});
console.log(`wrote models/${file} (sha256 ${sha256})`);
