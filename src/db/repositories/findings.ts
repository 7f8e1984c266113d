import { createHash } from 'node:crypto';
import { and, asc, desc, eq } from 'drizzle-orm';
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import { DomainError } from '../../shared/errors.js';
import type { Database } from '../client.js';
import { findings, inferenceRuns, models, series, volumes } from '../schema/index.js';

/** A registered ONNX model as recorded with each run. */
export interface ModelIdentity {
  modelId: string;
  version: string;
  sha256: string;
  task: string;
  manifest: Record<string, unknown>;
}

/** One nodule as stored: LPS mm, axial-plane diameters, the segmentation mask's blob key. */
export interface FindingRecord {
  ordinal: number;
  centreLps: number[];
  boundingBoxIjk: number[];
  longAxisMm: number;
  shortAxisMm: number;
  /** Where the axes lie, LPS mm; null for runs stored before the axes were recorded. */
  axesLps: CaliperAxes | null;
  meanDiameterMm: number;
  volumeMm3: number;
  meanHu: number;
  type: 'solid' | 'part-solid' | 'ground-glass';
  solidComponentMm: number | null;
  score: number;
  maskBlobKey: string | null;
}

export interface InferenceRunRecord {
  model: ModelIdentity;
  parameters: Record<string, unknown>;
  timings: Record<string, number>;
  findings: FindingRecord[];
}

/** SHA-256 of JSON with sorted keys, hex: the same parameters always give the same key. */
export function canonicalSha256(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/**
 * Registers a model (idempotent on id and version). The same id and version with another sha256 is refused:
 * a changed model file must get a new version.
 */
async function registerModel(db: Database, model: ModelIdentity): Promise<string> {
  await db
    .insert(models)
    .values({ ...model })
    .onConflictDoNothing({ target: [models.modelId, models.version] });
  const [row] = await db
    .select({ id: models.id, sha256: models.sha256 })
    .from(models)
    .where(and(eq(models.modelId, model.modelId), eq(models.version, model.version)));
  if (!row) throw new Error(`model ${model.modelId}@${model.version} vanished while registering`);
  if (row.sha256 !== model.sha256) {
    throw new DomainError(
      'MODEL_INVALID',
      `model ${model.modelId}@${model.version} is registered with sha256 ${row.sha256}, this file has ${model.sha256}`,
    );
  }
  return row.id;
}

/**
 * Stores a finished inference run and its findings in one transaction, keyed by (volume, model, parameters):
 * storing the same run again (a retried activity, a re-run of the same model on the same volume) changes
 * nothing and returns the run stored first.
 */
export async function storeInferenceRun(
  db: Database,
  volumeBlobKey: string,
  run: InferenceRunRecord,
): Promise<{ runId: string; created: boolean }> {
  const parametersSha256 = canonicalSha256(run.parameters);
  return db.transaction(async (tx) => {
    const [volume] = await tx
      .select({ id: volumes.id, seriesId: volumes.seriesId })
      .from(volumes)
      .where(eq(volumes.blobKey, volumeBlobKey))
      .limit(1);
    if (!volume) throw new DomainError('NOT_FOUND', `no volume ${volumeBlobKey} is recorded`);
    const modelRowId = await registerModel(tx, run.model);
    const [existing] = await tx
      .select({ id: inferenceRuns.id, status: inferenceRuns.status })
      .from(inferenceRuns)
      .where(
        and(
          eq(inferenceRuns.volumeId, volume.id),
          eq(inferenceRuns.modelId, modelRowId),
          eq(inferenceRuns.parametersSha256, parametersSha256),
        ),
      )
      .for('update');
    if (existing?.status === 'succeeded') return { runId: existing.id, created: false };
    let runId = existing?.id;
    if (runId) {
      await tx.delete(findings).where(eq(findings.inferenceRunId, runId));
      await tx
        .update(inferenceRuns)
        .set({ status: 'succeeded', timings: run.timings, finishedAt: new Date() })
        .where(eq(inferenceRuns.id, runId));
    } else {
      const [inserted] = await tx
        .insert(inferenceRuns)
        .values({
          volumeId: volume.id,
          modelId: modelRowId,
          parametersSha256,
          parameters: run.parameters,
          status: 'succeeded',
          timings: run.timings,
          finishedAt: new Date(),
        })
        .returning({ id: inferenceRuns.id });
      runId = inserted!.id;
    }
    if (run.findings.length > 0) {
      await tx
        .insert(findings)
        .values(run.findings.map((f) => ({ ...f, inferenceRunId: runId, seriesId: volume.seriesId })));
    }
    return { runId, created: true };
  });
}

export interface SeriesFindings {
  run: {
    id: string;
    model: { id: string; version: string; sha256: string };
    parameters: Record<string, unknown>;
    timings: Record<string, number> | null;
    finishedAt: Date | null;
    volumeBlobKey: string;
  };
  findings: FindingRecord[];
}

/** The findings of the newest succeeded run on the series' newest volume; undefined before any run. */
export async function latestSeriesFindings(
  db: Database,
  seriesInstanceUid: string,
): Promise<SeriesFindings | undefined> {
  const [run] = await db
    .select({
      id: inferenceRuns.id,
      modelId: models.modelId,
      version: models.version,
      sha256: models.sha256,
      parameters: inferenceRuns.parameters,
      timings: inferenceRuns.timings,
      finishedAt: inferenceRuns.finishedAt,
      volumeBlobKey: volumes.blobKey,
    })
    .from(inferenceRuns)
    .innerJoin(volumes, eq(inferenceRuns.volumeId, volumes.id))
    .innerJoin(series, eq(volumes.seriesId, series.id))
    .innerJoin(models, eq(inferenceRuns.modelId, models.id))
    .where(and(eq(series.seriesInstanceUid, seriesInstanceUid), eq(inferenceRuns.status, 'succeeded')))
    .orderBy(desc(volumes.updatedAt), desc(inferenceRuns.finishedAt))
    .limit(1);
  if (!run) return undefined;
  const rows = await db
    .select({
      ordinal: findings.ordinal,
      centreLps: findings.centreLps,
      boundingBoxIjk: findings.boundingBoxIjk,
      longAxisMm: findings.longAxisMm,
      shortAxisMm: findings.shortAxisMm,
      axesLps: findings.axesLps,
      meanDiameterMm: findings.meanDiameterMm,
      volumeMm3: findings.volumeMm3,
      meanHu: findings.meanHu,
      type: findings.type,
      solidComponentMm: findings.solidComponentMm,
      score: findings.score,
      maskBlobKey: findings.maskBlobKey,
    })
    .from(findings)
    .where(eq(findings.inferenceRunId, run.id))
    .orderBy(asc(findings.ordinal));
  return {
    run: {
      id: run.id,
      model: { id: run.modelId, version: run.version, sha256: run.sha256 },
      parameters: run.parameters,
      timings: run.timings,
      finishedAt: run.finishedAt,
      volumeBlobKey: run.volumeBlobKey,
    },
    findings: rows,
  };
}
