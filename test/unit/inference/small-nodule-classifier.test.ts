import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phantomCase } from '../../../src/evaluation/annotated-cases.js';
import { detectNodules } from '../../../src/inference/detect-nodules.js';
import type { ModelManifest } from '../../../src/inference/model-manifest.js';
import { DEFAULT_MODELS_DIR, loadDetector } from '../../../src/inference/model-registry.js';

// nodus-detector-2 scores the candidates of its small-nodule search (the blob maxima under 4 mm) with a
// classifier that also reads the source voxels (model-manifest.ts smallCandidates, contract.fineSpacingMm).
// These tests change that model's calibration, and its contract, in a copy of the models folder.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-small-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function withManifest(name: string, change: (manifest: ModelManifest) => void): string {
  const dir = path.join(work, name);
  fs.cpSync(DEFAULT_MODELS_DIR, dir, { recursive: true });
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelManifest;
  change(manifest);
  fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}
const defaultDetector = (manifest: ModelManifest) =>
  manifest.detectors.find((d) => d.id === manifest.defaultDetector)!;

describe('the small-nodule classifier of nodus-detector-2', () => {
  it('scores the small blob maxima, and only them, with its own model and calibration', async () => {
    const { volume } = phantomCase(3);
    const options = { threshold: 2, keepAllCandidates: true } as const;
    const reference = await detectNodules(volume, await loadDetector(undefined), options);
    const dir = withManifest('always', (manifest) => {
      defaultDetector(manifest).smallCandidates!.calibration = { slope: 0, intercept: 30 };
    });
    const changed = await detectNodules(volume, await loadDetector(undefined, { modelsDir: dir }), options);
    expect(reference.parameters.smallClassifier).toMatchObject({ model: 'nodus-small-nodule-cnn@1.0.0' });
    const small = changed.candidates!.filter((c) => c.source === 'small');
    expect(small.length).toBeGreaterThan(10);
    // Every blob maximum under the search's radius is its candidate; the others stay with the main classifier.
    const { maxRadiusMm } = defaultDetector(
      JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ModelManifest,
    ).smallCandidates!;
    expect(small.every((c) => c.radiusMm < maxRadiusMm)).toBe(true);
    expect(changed.candidates!.filter((c) => c.source === undefined && c.radiusMm < maxRadiusMm)).toEqual([]);
    for (const c of small) expect(c.score).toBe(1);
    const before = reference.candidates!;
    expect(changed.candidates!.length).toBe(before.length);
    for (const [n, c] of changed.candidates!.entries()) {
      if (c.source !== 'small') expect(c.score).toBe(before[n]!.score);
      else expect(before[n]!.score).toBeLessThan(1);
    }
  });

  it('refuses a small-nodule classifier that does not read the source voxels', async () => {
    const dir = withManifest('no-fine-channel', (manifest) => {
      const key = defaultDetector(manifest).smallCandidates!.classifier;
      const model = manifest.models.find((m) => `${m.id}@${m.version}` === key)!;
      if (model.task === 'patch-classifier') delete model.contract.fineSpacingMm;
    });
    await expect(loadDetector(undefined, { modelsDir: dir })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/small candidates\) has no fine channel/) as unknown,
    });
  });
});
