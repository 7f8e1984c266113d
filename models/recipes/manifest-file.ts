// Reading and updating models/manifest.json from the recipes (the manifest is the registry nodus loads).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ModelManifest,
  modelKey,
  type DetectorEntry,
  type ModelEntry,
} from '../../src/inference/model-manifest.js';

export const MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = path.join(MODELS_DIR, 'manifest.json');

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function readManifestFile(): ModelManifest {
  if (!fs.existsSync(MANIFEST)) return { models: [], detectors: [], defaultDetector: '' };
  return JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as ModelManifest;
}

/** Writes an .onnx file under models/ and returns its sha256. */
export function writeModelFile(file: string, bytes: Uint8Array): string {
  fs.mkdirSync(path.dirname(path.join(MODELS_DIR, file)), { recursive: true });
  fs.writeFileSync(path.join(MODELS_DIR, file), bytes);
  return sha256Hex(bytes);
}

/** Adds or replaces a model entry (same id and version) and/or detector entries, then validates and writes. */
export function updateManifest(change: {
  models?: ModelEntry[];
  detectors?: DetectorEntry[];
  defaultDetector?: string;
}): void {
  const manifest = readManifestFile();
  for (const model of change.models ?? []) {
    manifest.models = [...manifest.models.filter((m) => modelKey(m) !== modelKey(model)), model];
  }
  for (const detector of change.detectors ?? []) {
    manifest.detectors = [...manifest.detectors.filter((d) => d.id !== detector.id), detector];
  }
  if (change.defaultDetector) manifest.defaultDetector = change.defaultDetector;
  manifest.models.sort((a, b) => modelKey(a).localeCompare(modelKey(b)));
  manifest.detectors.sort((a, b) => a.id.localeCompare(b.id));
  const checked = ModelManifest.parse(manifest);
  fs.writeFileSync(MANIFEST, `${JSON.stringify(checked, null, 2)}\n`);
}
