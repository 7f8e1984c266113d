import { writeFile } from 'node:fs/promises';
import { writeNoduleSegmentation } from '../dicom/nodule-seg.js';
import { writeNoduleStructuredReport } from '../dicom/nodule-sr.js';
import { readInstanceHeader } from '../dicom/read-instance.js';
import { readSourceSeriesReferences } from '../dicom/source-series-references.js';
import { newUid } from '../dicom/uid.js';
import { listFiles } from '../dicom/part10-files.js';
import { detectNodules, type DetectedNodule } from '../inference/detect-nodules.js';
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
  /** Where to write the nodules as a DICOM Comprehensive 3D SR (TID 1500). */
  srPath?: string | undefined;
  /** Where to write the nodules' masks as a DICOM Segmentation. */
  segPath?: string | undefined;
}

/** Paths of the DICOM outputs to write next to the JSON document. */
export interface DetectOutputs {
  srPath?: string | undefined;
  segPath?: string | undefined;
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
  outputs: DetectOutputs = {},
): Promise<Record<string, unknown>> {
  const { volume, seriesInstanceUid, accepted, issues } = await reconstructFolder(inputs);
  const detection = await detectNodules(volume, detector, { ...(threshold !== undefined && { threshold }) });
  const dicomOutputs =
    outputs.srPath || outputs.segPath
      ? await writeDicomOutputs(inputs, volume, detection.nodules, detector, outputs)
      : undefined;
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
    ...(dicomOutputs && { dicomOutputs }),
  };
}

/**
 * Writes the nodules as DICOM next to the JSON: a SEG (one segment per nodule; none is written when there
 * are no nodules, a SEG needs a segment) and a TID 1500 SR, which references the SEG's segments when both
 * are written. Both share the nodules' tracking UIDs.
 */
async function writeDicomOutputs(
  inputs: string[],
  volume: CtVolume,
  nodules: readonly DetectedNodule[],
  detector: LoadedDetector,
  outputs: DetectOutputs,
): Promise<Record<string, unknown>> {
  const source = await readSourceSeriesReferences(await listFiles(inputs));
  const algorithm = { algorithmName: detector.entry.id, algorithmVersion: detector.entry.version };
  const trackingUids = nodules.map(() => newUid());
  const written: Record<string, unknown> = {};
  let segmentation: { sopInstanceUid: string; seriesInstanceUid: string } | undefined;
  if (outputs.segPath && nodules.length > 0) {
    segmentation = { sopInstanceUid: newUid(), seriesInstanceUid: newUid() };
    await writeFile(
      outputs.segPath,
      writeNoduleSegmentation(source, volume, nodules, { ...algorithm, ...segmentation, trackingUids }),
    );
    written.seg = { path: outputs.segPath, ...segmentation };
  } else if (outputs.segPath) {
    written.seg = { path: null, reason: 'no nodules: a segmentation needs at least one segment' };
  }
  if (outputs.srPath) {
    const report = { sopInstanceUid: newUid(), seriesInstanceUid: newUid() };
    await writeFile(
      outputs.srPath,
      writeNoduleStructuredReport(source, nodules, {
        ...algorithm,
        ...report,
        trackingUids,
        ...(segmentation && { segmentation }),
      }),
    );
    written.sr = { path: outputs.srPath, ...report };
  }
  return written;
}

/** `nodus detect <series-folder> --json [--sr <out.dcm>] [--seg <out.dcm>]`. */
export async function detectCommand(inputs: string[], options: DetectCommandOptions): Promise<number> {
  const detector = await loadDetector(options.detector, {
    ...(options.modelsDir && { modelsDir: options.modelsDir }),
    ...(options.threads && { intraOpThreads: options.threads }),
  });
  const document = await detectFolder(inputs, detector, options.threshold, {
    srPath: options.srPath,
    segPath: options.segPath,
  });
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
