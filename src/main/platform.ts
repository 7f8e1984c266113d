import path from 'node:path';
import type { Config } from '../config/env.js';
import { openDatabase, redactDatabaseUrl, type DatabaseHandle } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { waitForPort } from '../embedded/free-port.js';
import { startEmbeddedPostgres } from '../embedded/postgres.js';
import {
  readServicesFile,
  removeServicesFile,
  writeServicesFile,
  type EmbeddedServices,
} from '../embedded/services-file.js';
import { resolveTemporalCli } from '../embedded/temporal-cli.js';
import { startTemporalDevServer } from '../embedded/temporal-dev-server.js';
import { throttledSeriesNotifier } from '../ingest/series-notifier.js';
import type { IngestDeps } from '../ingest/store-instance.js';
import type { Logger } from '../logging/logger.js';
import { DomainError } from '../shared/errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.js';
import { connectTemporalClient, firstLine, type TemporalClientHandle } from '../temporal/client.js';
import { seriesWorkflows, type SeriesWorkflows } from '../temporal/series-workflows.js';

/** Everything a nodus process needs, wired from the config: the only place that starts services. */
export interface Platform {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  databaseUrl: string;
  temporal: TemporalClientHandle;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  blobs: BlobStore;
  seriesWorkflows: SeriesWorkflows;
  /** The ingest service's dependencies: every route (import, C-STORE, STOW-RS) stores through these. */
  ingest: IngestDeps;
  /** Which services nodus started itself. */
  embedded: { postgres: boolean; temporal: boolean };
  /** Stops in reverse order of start; safe to call twice. */
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  /** Serve the Temporal Web UI when the dev server is embedded. */
  temporalUi?: boolean;
}

/**
 * Connects to PostgreSQL and Temporal (starting embedded ones when DATABASE_URL / TEMPORAL_ADDRESS are
 * unset), applies migrations, and opens the blob store under NODUS_DATA_DIR.
 */
export async function openPlatform(
  configured: Config,
  logger: Logger,
  options: OpenPlatformOptions = {},
): Promise<Platform> {
  const attached = await findRunningEmbeddedServices(configured, logger);
  const config: Config = {
    ...configured,
    databaseUrl: configured.databaseUrl ?? attached?.databaseUrl,
    temporal: { ...configured.temporal, address: configured.temporal.address ?? attached?.temporalAddress },
  };
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping'));
    }
  };
  try {
    const postgres = await openPostgres(config, logger);
    cleanups.push(postgres.close);
    const { database, databaseUrl } = postgres;
    await runMigrations(database);

    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (temporalAddress === undefined) {
      const server = await startTemporalDevServer({
        cliPath: resolveTemporalCli(config.temporal.cliPath),
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        ui: options.temporalUi ?? false,
        logger,
      });
      cleanups.push(server.stop);
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
      logger.info({ address: temporalAddress }, 'embedded Temporal dev server started');
    }
    const temporal = await connectWithRetry(
      temporalAddress,
      config.temporal.namespace,
      config.temporal.address ? 1 : 30,
    );
    cleanups.push(temporal.close);

    const embedded = {
      postgres: config.databaseUrl === undefined,
      temporal: config.temporal.address === undefined,
    };
    if (embedded.postgres || embedded.temporal) {
      await writeServicesFile(config.dataDir, {
        databaseUrl: embedded.postgres ? databaseUrl : undefined,
        temporalAddress: embedded.temporal ? temporalAddress : undefined,
      });
      cleanups.push(() => removeServicesFile(config.dataDir));
    }

    const blobs = new FilesystemBlobStore(path.join(config.dataDir, 'blobs'));
    const workflows = seriesWorkflows(temporal.client, {
      taskQueue: config.temporal.taskQueues.series,
      quietPeriodMs: config.seriesQuietPeriodMs,
      inferenceTaskQueue: config.temporal.taskQueues.inference,
    });
    // One signal per series per window: a fraction of the quiet period, so quiet is never declared early.
    const notifier = throttledSeriesNotifier(
      (series, sop) => workflows.instanceStored(series, sop),
      Math.min(1000, Math.max(50, config.seriesQuietPeriodMs / 5)),
      (error, series) =>
        logger.error({ err: error, seriesInstanceUid: series }, 'signalling the series workflow failed'),
    );
    cleanups.push(notifier.flush);
    return {
      config,
      logger,
      database,
      databaseUrl,
      temporal,
      temporalAddress,
      temporalUiUrl,
      blobs,
      seriesWorkflows: workflows,
      ingest: {
        db: database.db,
        blobs,
        notifySeries: notifier.notify,
      },
      embedded,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Another nodus process may already run embedded services on this data directory (see services-file.ts):
 * attach to them when they answer, rather than start a second server on the same files.
 */
async function findRunningEmbeddedServices(
  config: Config,
  logger: Logger,
): Promise<EmbeddedServices | undefined> {
  if (config.databaseUrl !== undefined && config.temporal.address !== undefined) return undefined;
  const running = await readServicesFile(config.dataDir);
  if (!running?.databaseUrl || !running.temporalAddress) return undefined;
  const [host, port] = running.temporalAddress.split(':');
  const probe = openDatabase(running.databaseUrl, { max: 1 });
  try {
    await probe.sql`select 1`;
    await waitForPort(host ?? '127.0.0.1', Number(port), 1000);
    logger.info({ dataDir: config.dataDir }, 'attaching to the embedded services of a running nodus');
    return running;
  } catch {
    return undefined;
  } finally {
    await probe.close();
  }
}

/** An embedded dev server accepts connections slightly before its namespace exists: retry briefly. */
async function connectWithRetry(
  address: string,
  namespace: string,
  attempts: number,
): Promise<TemporalClientHandle> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await connectTemporalClient(address, namespace);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Opens PostgreSQL (embedded when DATABASE_URL is unset: a running nodus's, else its own) and checks it answers. */
export async function openPostgres(
  config: Config,
  logger: Logger,
): Promise<{ database: DatabaseHandle; databaseUrl: string; close: () => Promise<void> }> {
  // A running nodus's embedded PostgreSQL is shared rather than started twice on the same files.
  let databaseUrl = config.databaseUrl ?? (await findRunningEmbeddedServices(config, logger))?.databaseUrl;
  let stopEmbedded = async () => {};
  if (databaseUrl === undefined) {
    const embedded = await startEmbeddedPostgres(config.dataDir, logger);
    stopEmbedded = embedded.stop;
    databaseUrl = embedded.url;
    logger.info({ dataDir: path.join(config.dataDir, 'postgres') }, 'embedded PostgreSQL started');
  }
  const database = openDatabase(databaseUrl);
  const close = async () => {
    await database.close();
    await stopEmbedded();
  };
  try {
    await database.sql`select 1`;
  } catch (error) {
    await close();
    throw new DomainError(
      'DEPENDENCY_UNAVAILABLE',
      `cannot reach PostgreSQL at ${redactDatabaseUrl(databaseUrl)}: ${firstLine(error)}`,
      { retryable: true },
    );
  }
  return { database, databaseUrl, close };
}
