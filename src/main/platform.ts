import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/env.js';
import { openDatabase, redactDatabaseUrl, type DatabaseHandle } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { lockDataDir } from '../embedded/data-dir-lock.js';
import { waitForPort } from '../embedded/free-port.js';
import { startEmbeddedPostgres, stopOrphanedPostgres } from '../embedded/postgres.js';
import {
  readServicesFile,
  removeServicesFile,
  writeServicesFile,
  type EmbeddedServices,
} from '../embedded/services-file.js';
import { resolveTemporalCli } from '../embedded/temporal-cli.js';
import {
  startTemporalDevServer,
  stopOrphanedTemporalServers,
  temporalDatabaseFile,
} from '../embedded/temporal-dev-server.js';
import { throttledSeriesNotifier } from '../ingest/series-notifier.js';
import { DEFAULT_QUARANTINE_LIMITS } from '../ingest/quarantine.js';
import { createReceiving } from '../ingest/receiving.js';
import { DEFAULT_RECEIVING_LIMITS } from '../ingest/receiving-limits.js';
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
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping'));
    }
  };
  try {
    const claim = await claimEmbeddedServices(configured, logger, { temporal: true });
    cleanups.push(claim.release);
    const { config } = claim;
    const postgres = await connectPostgres(config, logger);
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
        receiving: createReceiving({
          maxInstanceBytes: config.limits.maxInstanceBytes,
          memoryBytes: config.limits.ingestMemoryBytes,
          spoolAboveBytes: DEFAULT_RECEIVING_LIMITS.spoolAboveBytes,
          spoolDir: path.join(config.dataDir, 'spool'),
        }),
        quarantineLimits: { ...DEFAULT_QUARANTINE_LIMITS, maxBytes: config.limits.quarantineMaxBytes },
        onQuarantined: (event) =>
          logger.warn(
            { ...event },
            event.kept ? 'instance kept aside in quarantine' : 'instance not kept: quarantine bounds reached',
          ),
      },
      embedded,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** How long a nodus waits for the nodus that holds a data directory's lock to serve its embedded services. */
const HOLDER_WAIT_MS = 60_000;

/**
 * Decides who runs the embedded services this process needs (PostgreSQL unless DATABASE_URL is set, and,
 * when `temporal`, Temporal unless TEMPORAL_ADDRESS is set). The one nodus holding the data directory's
 * lock runs them: this process, when it can take the lock, after stopping what a nodus that died left
 * running on those files; else the live holder, whose services (services.env) this process attaches to,
 * waiting while the holder starts or restarts them. Never two servers on the same files.
 */
async function claimEmbeddedServices(
  configured: Config,
  logger: Logger,
  wanted: { temporal: boolean },
): Promise<{ config: Config; release: () => Promise<void> }> {
  const needs = {
    postgres: configured.databaseUrl === undefined,
    temporal: wanted.temporal && configured.temporal.address === undefined,
  };
  if (!needs.postgres && !needs.temporal) return { config: configured, release: async () => {} };
  const { dataDir } = configured;
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (let attempt = 0; ; attempt += 1) {
    const lock = await lockDataDir(dataDir);
    if (lock.acquired) {
      try {
        await stopOrphanedPostgres(path.join(dataDir, 'postgres'), logger);
        await stopOrphanedTemporalServers(temporalDatabaseFile(dataDir), logger);
      } catch (error) {
        await lock.release();
        throw error;
      }
      return { config: configured, release: lock.release };
    }
    const running = await findRunningEmbeddedServices(dataDir, needs);
    if (running) {
      logger.info({ dataDir, pid: lock.holder.pid }, 'attaching to the embedded services of a running nodus');
      const config: Config = {
        ...configured,
        databaseUrl: configured.databaseUrl ?? running.databaseUrl,
        temporal: { ...configured.temporal, address: configured.temporal.address ?? running.temporalAddress },
      };
      return { config, release: async () => {} };
    }
    if (Date.now() > deadline) {
      throw new DomainError(
        'DEPENDENCY_UNAVAILABLE',
        `the embedded services in ${dataDir} belong to nodus process ${lock.holder.pid}, which does not ` +
          'serve them: wait for it, stop it, or use another NODUS_DATA_DIR',
        { retryable: true },
      );
    }
    if (attempt === 0) {
      logger.info({ dataDir, pid: lock.holder.pid }, 'waiting for the nodus that runs the embedded services');
    }
    await sleep(500);
  }
}

/** The services a live nodus runs on this data directory (services.env), when each one needed answers. */
async function findRunningEmbeddedServices(
  dataDir: string,
  needs: { postgres: boolean; temporal: boolean },
): Promise<EmbeddedServices | undefined> {
  const running = await readServicesFile(dataDir);
  if (!running) return undefined;
  if ((needs.postgres && !running.databaseUrl) || (needs.temporal && !running.temporalAddress)) {
    return undefined;
  }
  const probe =
    needs.postgres && running.databaseUrl ? openDatabase(running.databaseUrl, { max: 1 }) : undefined;
  try {
    if (probe) await probe.sql`select 1`;
    if (needs.temporal && running.temporalAddress) {
      const [host, port] = running.temporalAddress.split(':');
      await waitForPort(host ?? '127.0.0.1', Number(port), 1000);
    }
    return running;
  } catch {
    return undefined;
  } finally {
    await probe?.close();
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

/**
 * Opens PostgreSQL (embedded when DATABASE_URL is unset: a running nodus's, else its own) and checks it
 * answers.
 */
export async function openPostgres(
  configured: Config,
  logger: Logger,
): Promise<{ database: DatabaseHandle; databaseUrl: string; close: () => Promise<void> }> {
  const claim = await claimEmbeddedServices(configured, logger, { temporal: false });
  try {
    const postgres = await connectPostgres(claim.config, logger);
    return {
      ...postgres,
      close: async () => {
        await postgres.close();
        await claim.release();
      },
    };
  } catch (error) {
    await claim.release();
    throw error;
  }
}

/** Connects to DATABASE_URL, or to an embedded PostgreSQL started here when it is unset. */
async function connectPostgres(
  config: Config,
  logger: Logger,
): Promise<{ database: DatabaseHandle; databaseUrl: string; close: () => Promise<void> }> {
  let databaseUrl = config.databaseUrl;
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
