import { readInstanceHeader } from '../dicom/read-instance.js';
import { listFiles } from '../ingest/import-files.js';
import { detectNodules } from '../inference/detect-nodules.js';
import { modelKey } from '../inference/model-manifest.js';
import { loadDetector, type LoadedDetector } from '../inference/model-registry.js';
import { DomainError } from '../shared/errors.js';
import { reconstructSeries } from '../volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../volume/series-files.js';
import type { CtVolume } from '../volume/volume.js';

export interface DetectCommandOptions {
  detector?: string | undefined;
  modelsDir?: string | undefined;
  threads?: number | undefined;
  threshold?: number | undefined;
}

/** Reconstructs a series folder offline; a folder that gives no volume is a clear error. */
export async function reconstructFolder(
  inputs: string[],
): Promise<{ volume: CtVolume; seriesInstanceUid: string | undefined; accepted: boolean; issues: string[] }> {
  const files = await listFiles(inputs);
  let seriesInstanceUid: string | undefined;
  const instances = function* () {
    for (const instance of readPart10FilesReusingBuffer(files)) {
      if (seriesInstanceUid === undefined) {
        try {
          seriesInstanceUid = readInstanceHeader(instance.bytes).seriesInstanceUid;
        } catch {
          // Reconstruction reports the file's problem.
        }
      }
      yield instance;
    }
  };
  const result = await reconstructSeries(instances(), { expectedSlices: files.length, scratchInput: true });
  if (!result.volume) {
    throw new DomainError('INVALID_DICOM', `no volume: ${result.issues.map((i) => i.message).join('; ')}`);
  }
  return {
    volume: result.volume,
    seriesInstanceUid,
    accepted: result.accepted,
    issues: result.issues.map((i) => `${i.severity} ${i.code}: ${i.message}`),
  };
}

/** The `nodus detect --json` document: the whole pipeline without services. */
export async function detectFolder(
  inputs: string[],
  detector: LoadedDetector,
  threshold?: number,
): Promise<Record<string, unknown>> {
  const { volume, seriesInstanceUid, accepted, issues } = await reconstructFolder(inputs);
  const detection = await detectNodules(volume, detector, { ...(threshold !== undefined && { threshold }) });
  return {
    seriesInstanceUid,
    model: {
      detector: modelKey(detector.entry),
      heatmap: { id: modelKey(detector.heatmap.entry), sha256: detector.heatmap.entry.sha256 },
      ...(detector.classifier && {
        classifier: { id: modelKey(detector.classifier.entry), sha256: detector.classifier.entry.sha256 },
      }),
      threshold: detection.parameters.threshold,
    },
    acceptedForScreening: accepted,
    quality: issues,
    nodules: detection.nodules.map((n) => ({
      centreLps: n.centreLps.map((v) => Math.round(v * 100) / 100),
      meanDiameterMm: n.meanDiameterMm,
      longAxisMm: n.longAxisMm,
      shortAxisMm: n.shortAxisMm,
      volumeMm3: Math.round(n.volumeMm3),
      type: n.type,
      solidComponentMm: n.solidComponentMm,
      score: Math.round(n.score * 1000) / 1000,
      meanHu: Math.round(n.meanHu),
      boundingBoxIjk: n.boundingBoxIjk,
    })),
    candidatesScored: detection.candidatesScored,
    timingsMs: detection.timingsMs,
  };
}

/** `nodus detect <series-folder> --json`. */
export async function detectCommand(inputs: string[], options: DetectCommandOptions): Promise<number> {
  const detector = await loadDetector(options.detector, {
    ...(options.modelsDir && { modelsDir: options.modelsDir }),
    ...(options.threads && { intraOpThreads: options.threads }),
  });
  const document = await detectFolder(inputs, detector, options.threshold);
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
