import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phantomCase } from '../../../src/evaluation/annotated-cases.js';
import { detectNodules } from '../../../src/inference/detect-nodules.js';
import type { ModelManifest } from '../../../src/inference/model-manifest.js';
import {
  DEFAULT_MODELS_DIR,
  loadDetector,
  readModelManifest,
} from '../../../src/inference/model-registry.js';

// nodus-detector-2 scores the candidates of its sub-solid search with a classifier of their own, calibrated
// by its own fit (model-manifest.ts subSolidCandidates). These tests change that model's calibration in a
// copy of the models folder and check that exactly those candidates' scores follow it.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-sub-solid-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function withDetector(name: string, change: (detector: ModelManifest['detectors'][number]) => void): string {
  const dir = path.join(work, name);
  fs.cpSync(DEFAULT_MODELS_DIR, dir, { recursive: true });
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelManifest;
  change(manifest.detectors.find((d) => d.id === manifest.defaultDetector)!);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

describe('the sub-solid classifier of nodus-detector-2', () => {
  it('scores the sub-solid search candidates, and only them, with its own model and calibration', async () => {
    const { volume } = phantomCase(3);
    const options = { threshold: 2, keepAllCandidates: true } as const;
    const reference = await detectNodules(volume, await loadDetector(undefined), options);
    // Its calibration turned to "always a nodule": p = 1 / (1 + e^-30) for every candidate it scores.
    const dir = withDetector('always', (detector) => {
      detector.subSolidCandidates!.calibration = { slope: 0, intercept: 30 };
    });
    const changed = await detectNodules(volume, await loadDetector(undefined, { modelsDir: dir }), options);
    expect(reference.parameters.subSolidClassifier).toMatchObject({ model: 'nodus-sub-solid-cnn@1.0.0' });
    const subSolid = changed.candidates!.filter((c) => c.source === 'sub-solid');
    // The blob maxima (scored by the main classifier, or the small-nodule one under its radius).
    const blobs = changed.candidates!.filter((c) => c.source !== 'sub-solid');
    expect(subSolid.length).toBeGreaterThan(10);
    expect(blobs.length).toBeGreaterThan(subSolid.length);
    for (const c of subSolid) expect(c.score).toBe(1);
    const before = reference.candidates!;
    expect(changed.candidates!.length).toBe(before.length);
    for (const [n, c] of changed.candidates!.entries()) {
      if (c.source !== 'sub-solid') expect(c.score).toBe(before[n]!.score);
      else expect(before[n]!.score).toBeLessThan(1);
    }
  });

  it('refuses a sub-solid classifier without a calibration, and one that is not a patch classifier', async () => {
    const uncalibrated = withDetector('uncalibrated', (detector) => {
      delete detector.subSolidCandidates!.calibration;
    });
    await expect(readModelManifest(uncalibrated)).rejects.toThrow(
      /subSolidCandidates: a sub-solid classifier needs the calibration of its logit/,
    );
    const wrongTask = withDetector('wrong-task', (detector) => {
      detector.subSolidCandidates!.classifier = 'nodus-candidates@1.0.0';
    });
    await expect(loadDetector(undefined, { modelsDir: wrongTask })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(
        /nodus-candidates@1\.0\.0 \(sub-solid candidates\) is a nodule-heatmap/,
      ) as unknown,
    });
  });
});
