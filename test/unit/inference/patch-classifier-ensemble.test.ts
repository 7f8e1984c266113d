import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/phantom/insert-nodule.js';
import { DEFAULT_MODELS_DIR, readModelManifest } from '../../../src/inference/model-registry.js';

// nodus-patch-cnn 2.1.0 is one ONNX file whose logit is the mean of two networks' logits
// (models/recipes/combine_patch_ensemble.py). These tests run the combined file and its members, as listed
// in its .ensemble.json, on the same patches.

const PATCHES = 6;
const SHAPE = [PATCHES, 3, 16, 16, 16];

async function logits(file: string, patches: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path.join(DEFAULT_MODELS_DIR, file));
  const out = await session.run({ patches: new ort.Tensor('float32', patches, SHAPE) });
  return out.logit!.data as Float32Array;
}

describe('the patch classifier ensemble (nodus-patch-cnn 2.1.0)', async () => {
  const manifest = await readModelManifest();
  const ensembles = manifest.models.filter(
    (m) => m.id.startsWith('nodus-patch-cnn') && m.version === '2.1.0',
  );

  it('is registered for the shipped network and each held-out one', () => {
    expect(ensembles.map((m) => m.id).sort()).toEqual([
      'nodus-patch-cnn',
      'nodus-patch-cnn-holdout-cptac',
      'nodus-patch-cnn-holdout-lidc',
      'nodus-patch-cnn-holdout-lung-dx',
    ]);
  });

  it.each(ensembles.map((m) => [m.id, m.file]))('%s gives the mean logit of its members', async (_, file) => {
    const members = JSON.parse(
      fs.readFileSync(path.join(DEFAULT_MODELS_DIR, file.replace(/\.onnx$/, '.ensemble.json')), 'utf8'),
    ) as { members: { file: string; sha256: string }[] };
    expect(members.members).toHaveLength(2);
    for (const member of members.members) {
      const bytes = fs.readFileSync(path.join(DEFAULT_MODELS_DIR, member.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(member.sha256);
    }
    // Patches like the classifier's input: windowed HU in [0, 1], a bright blob on a dark, noisy background.
    const random = mulberry32(7);
    const patches = Float32Array.from({ length: PATCHES * 3 * 4096 }, (_, v) => {
      const [x, y, z] = [v % 16, Math.floor(v / 16) % 16, Math.floor(v / 256) % 16];
      const blob = Math.hypot(x - 7.5, y - 7.5, z - 7.5) < 1 + (Math.floor(v / 4096) % 6) ? 0.6 : 0.1;
      return blob + 0.05 * random();
    });
    const combined = await logits(file, patches);
    const [a, b] = await Promise.all(members.members.map((m) => logits(m.file, patches)));
    const mean = Array.from(combined, (_, n) => (a![n]! + b![n]!) / 2);
    for (const [n, value] of combined.entries()) expect(value).toBeCloseTo(mean[n]!, 4);
    // The members differ (two seeds), so the mean is not one member's logit.
    expect(Math.max(...Array.from(a!, (v, n) => Math.abs(v - b![n]!)))).toBeGreaterThan(0.01);
  });
});
