import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelManifest } from '../../../src/inference/model-manifest.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MODELS_DIR,
  loadDetector,
  readModelManifest,
} from '../../../src/inference/model-registry.js';
import { candidateGeneratorBytes } from '../../../models/recipes/build-candidate-generator.js';
import { sha256Hex } from '../../../models/recipes/manifest-file.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-models-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A copy of the repository's models folder, to damage. */
function modelsCopy(name: string): string {
  const dir = path.join(work, name);
  fs.cpSync(DEFAULT_MODELS_DIR, dir, { recursive: true });
  return dir;
}

describe('the model registry', () => {
  it('lists every model of the manifest with a file whose sha256 matches', async () => {
    const manifest = await readModelManifest();
    expect(manifest.models.length).toBeGreaterThan(0);
    for (const model of manifest.models) {
      expect(sha256Hex(fs.readFileSync(path.join(DEFAULT_MODELS_DIR, model.file)))).toBe(model.sha256);
    }
    expect(manifest.detectors.map((d) => d.id)).toContain(manifest.defaultDetector);
  });

  it('rebuilds the candidate generator byte for byte from its recipe', async () => {
    const manifest = await readModelManifest();
    const entry = manifest.models.find((m) => m.id === 'nodus-candidates')!;
    expect(sha256Hex(candidateGeneratorBytes())).toBe(entry.sha256);
  });

  it('loads the default detector with its sessions', async () => {
    const detector = await loadDetector(undefined, { intraOpThreads: 1 });
    expect(detector.heatmap.session.inputNames).toContain(detector.heatmap.entry.contract.inputName);
  });

  it('refuses a model file that does not match its sha256, naming both', async () => {
    const dir = modelsCopy('swapped');
    const manifest = await readModelManifest(dir);
    const file = path.join(dir, manifest.models[0]!.file);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    fs.writeFileSync(file, bytes);
    await expect(loadDetector(undefined, { modelsDir: dir })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      retryable: false,
      message: expect.stringMatching(/sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/) as unknown,
    });
  });

  it('refuses a corrupt model file whose sha256 was updated, with onnxruntime reason', async () => {
    const dir = modelsCopy('corrupt');
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ModelManifest;
    const heatmap = manifest.models.find((m) => m.task === 'nodule-heatmap')!;
    const garbage = Buffer.from('this is not an onnx model');
    fs.writeFileSync(path.join(dir, heatmap.file), garbage);
    heatmap.sha256 = sha256Hex(garbage);
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expect(loadDetector(undefined, { modelsDir: dir })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/onnxruntime cannot load/) as unknown,
    });
  });

  it('refuses an invalid manifest naming the field, and an unknown detector', async () => {
    const dir = modelsCopy('invalid');
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ModelManifest;
    const heatmap = manifest.models.find((m) => m.task === 'nodule-heatmap')!;
    if (heatmap.task === 'nodule-heatmap') heatmap.contract.spacingMm = -1;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    await expect(readModelManifest(dir)).rejects.toThrow(/models\.\d+\.contract\.spacingMm/);
    await expect(loadDetector('no-such-detector')).rejects.toThrow(/no detector no-such-detector/);
  });
});
