import { jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { id, timestamps } from './columns.js';

/** A registered ONNX model (manifest entry in models/). */
export const models = pgTable(
  'models',
  {
    id: id(),
    /** Manifest id, e.g. nodus-detector. */
    modelId: text().notNull(),
    version: text().notNull(),
    /** SHA-256 of the .onnx file, hex. */
    sha256: text().notNull(),
    /** What the model does, e.g. nodule-detection. */
    task: text().notNull(),
    /** The whole manifest entry, including the input contract. */
    manifest: jsonb().$type<Record<string, unknown>>().notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('models_model_version_key').on(t.modelId, t.version)],
);
