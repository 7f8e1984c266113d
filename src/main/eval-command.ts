import { annotatedCase, insideBox, phantomCase, type AnnotatedCase } from '../evaluation/annotated-cases.js';
import { scoreFroc, type ScanToScore } from '../evaluation/froc.js';
import {
  DEFAULT_SYNTHETIC_EVALUATION,
  evaluateOnSyntheticNodules,
} from '../evaluation/synthetic-evaluation.js';
import { detectNodules, type DetectedNodule } from '../inference/detect-nodules.js';
import { modelKey } from '../inference/model-manifest.js';
import { loadDetector, type LoadedDetector } from '../inference/model-registry.js';
import type { Vec3 } from '../volume/volume.js';

export interface EvalCommandOptions {
  cases: string[];
  synthetic: string[];
  /** Adds the chest phantom as a synthetic background. */
  phantom: boolean;
  detector?: string | undefined;
  modelsDir?: string | undefined;
  threads?: number | undefined;
  json: boolean;
  copies?: number | undefined;
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const mm = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(1));

/** Scores the detector on annotated cases: LUNA16 FROC over every candidate, and the operating point. */
export async function evaluateCases(cases: AnnotatedCase[], detector: LoadedDetector) {
  const scans: ScanToScore[] = [];
  const perCase = [];
  for (const item of cases) {
    const detection = await detectNodules(item.volume, detector, { keepAllCandidates: true });
    scans.push({
      scanId: item.name,
      detections: (detection.candidates ?? []).map((c) => ({ centreLps: c.centreLps, score: c.score })),
      nodules: item.references,
      irrelevant: item.irrelevant,
    });
    // At the operating point: which reference each finding hits; the rest are false positives.
    const hitOf = (finding: DetectedNodule) =>
      item.references.find((r) =>
        item.boxLps
          ? insideBox(item.boxLps, finding.centreLps, 0)
          : distance(finding.centreLps, r.centreLps) < r.diameterMm / 2,
      );
    const ignored = (finding: DetectedNodule) =>
      item.irrelevant.some((f) => distance(finding.centreLps, f.centreLps) < Math.max(f.diameterMm / 2, 1.5));
    const references = item.references.map((reference) => {
      const best = detection.nodules
        .filter((f) => hitOf(f) === reference)
        .sort((a, b) => b.score - a.score)[0];
      const readers = reference.readers;
      return {
        id: reference.id,
        centreLps: reference.centreLps,
        referenceDiameterMm: reference.diameterMm,
        readersMeanDiameterMm: readers ? readers.map((r) => r.meanDiameterMm) : undefined,
        found: best !== undefined,
        score: best?.score,
        measured: best && {
          meanDiameterMm: best.meanDiameterMm,
          longAxisMm: best.longAxisMm,
          shortAxisMm: best.shortAxisMm,
          volumeMm3: Math.round(best.volumeMm3),
          type: best.type,
          distanceMm: Math.round(distance(best.centreLps, reference.centreLps) * 10) / 10,
        },
        diameterDifferenceMm: best
          ? Math.round((best.meanDiameterMm - reference.diameterMm) * 10) / 10
          : undefined,
      };
    });
    const falsePositives = detection.nodules.filter((f) => !hitOf(f) && !ignored(f));
    perCase.push({
      case: item.name,
      references,
      findings: detection.nodules.length,
      falsePositives: falsePositives.length,
      falsePositiveFindings: falsePositives.map((f) => ({
        centreLps: f.centreLps.map((v) => Math.round(v * 10) / 10),
        meanDiameterMm: f.meanDiameterMm,
        type: f.type,
        score: Math.round(f.score * 1000) / 1000,
      })),
      candidates: detection.candidatesScored,
      timingsMs: detection.timingsMs,
    });
  }
  const froc = scoreFroc(scans, { maxDetectionsPerScan: 1000 });
  return { froc, perCase };
}

/** `nodus eval`: prints the FROC / CPM, the per-nodule table and the synthetic-insertion results. */
export async function evalCommand(options: EvalCommandOptions): Promise<number> {
  const detector = await loadDetector(options.detector, {
    ...(options.modelsDir && { modelsDir: options.modelsDir }),
    ...(options.threads && { intraOpThreads: options.threads }),
  });
  const report: Record<string, unknown> = {
    detector: modelKey(detector.entry),
    threshold: detector.entry.threshold,
  };
  const log = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  log(`detector ${modelKey(detector.entry)} at operating point ${detector.entry.threshold}`);
  if (options.cases.length > 0) {
    const cases = [];
    for (const folder of options.cases) cases.push(await annotatedCase(folder));
    const { froc, perCase } = await evaluateCases(cases, detector);
    report.froc = {
      scans: froc.scans,
      nodules: froc.nodules,
      sensitivities: froc.sensitivities,
      cpm: froc.cpm,
      cpmInterval: froc.cpmInterval,
    };
    report.cases = perCase;
    log(`\nLUNA16 FROC over ${froc.scans} scan(s), ${froc.nodules} reference nodule(s)`);
    log(`  FP/scan     ${froc.sensitivities.map((s) => String(s.fpPerScan).padStart(6)).join('')}`);
    log(`  sensitivity ${froc.sensitivities.map((s) => s.sensitivity.toFixed(3).padStart(6)).join('')}`);
    const interval = froc.cpmInterval
      ? ` (95% bootstrap CI ${froc.cpmInterval.lower.toFixed(3)}-${froc.cpmInterval.upper.toFixed(3)}, ${froc.cpmInterval.rounds} rounds)`
      : '';
    log(`  CPM ${froc.cpm.toFixed(3)}${interval}`);
    log('\nper nodule at the operating point (diameters in mm)');
    log(
      '  case | reference | found | score | measured mean (long x short) | reference mean | readers | difference | type',
    );
    for (const item of perCase) {
      for (const r of item.references) {
        log(
          `  ${item.case} | ${r.id} | ${r.found ? 'yes' : 'NO'} | ${r.score?.toFixed(3) ?? '-'} | ` +
            `${mm(r.measured?.meanDiameterMm)} (${mm(r.measured?.longAxisMm)} x ${mm(r.measured?.shortAxisMm)}) | ` +
            `${mm(r.referenceDiameterMm)} | ${r.readersMeanDiameterMm?.map((d) => d.toFixed(1)).join(', ') ?? '-'} | ` +
            `${mm(r.diameterDifferenceMm)} | ${r.measured?.type ?? '-'}`,
        );
      }
      log(
        `  ${item.case}: ${item.findings} finding(s), ${item.falsePositives} false positive(s), ${item.candidates} candidates scored, timings ${JSON.stringify(item.timingsMs)}`,
      );
    }
  }
  if (options.synthetic.length > 0 || options.phantom) {
    const backgrounds = [];
    for (const folder of options.synthetic) backgrounds.push(await annotatedCase(folder));
    if (options.phantom) backgrounds.push(phantomCase(11));
    const synthetic = await evaluateOnSyntheticNodules(
      backgrounds.map((b) => ({ name: b.name, volume: b.volume, avoid: b.avoid })),
      detector,
      {
        ...DEFAULT_SYNTHETIC_EVALUATION,
        ...(options.copies && { copies: options.copies }),
        onScan: (line) => log(`  ${line}`),
      },
    );
    const { nodules, ...summary } = synthetic;
    report.synthetic = summary;
    log(`\nsynthetic insertion: ${nodules.length} nodules in ${synthetic.scans} scan(s)`);
    log(
      `  sensitivity ${(100 * synthetic.sensitivity).toFixed(1)} %, ${synthetic.falsePositivesPerScan.toFixed(2)} false positives per scan`,
    );
    for (const bin of synthetic.bySize) {
      log(
        `  ${bin.binMm[0]}-${bin.binMm[1]} mm: ${bin.found}/${bin.nodules} (${(100 * bin.sensitivity).toFixed(0)} %)`,
      );
    }
    for (const type of synthetic.byType) {
      log(`  ${type.type}: ${type.found}/${type.nodules} (${(100 * type.sensitivity).toFixed(0)} %)`);
    }
    if (synthetic.diameterErrorMm) {
      log(
        `  measured minus true diameter: mean ${synthetic.diameterErrorMm.mean.toFixed(2)} mm, ` +
          `mean absolute ${synthetic.diameterErrorMm.meanAbsolute.toFixed(2)} mm; type agreement ` +
          `${(100 * (synthetic.typeAgreement ?? 0)).toFixed(0)} %`,
      );
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
