import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { seedAdminToken } from '../db/repositories/users.js';
import { researchWorkflows } from '../temporal/research-workflows.js';
import type { Platform } from './platform.js';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Serves the HTTP API of a platform on NODUS_API_HOST:NODUS_API_PORT (port 0 picks a free one). */
export async function startApi(platform: Platform): Promise<RunningApi> {
  const { database, temporal, config, logger } = platform;
  if (config.adminToken) await seedAdminToken(database.db, config.adminToken);
  const app = createApp({
    db: database.db,
    seriesWorkflows: platform.seriesWorkflows,
    ingest: platform.ingest,
    logger: logger.child({ component: 'api' }),
    dicomPeers: config.dicom.peers,
    publicUrl: config.web.publicUrl,
    corsOrigins: config.web.corsOrigins,
    bodyLimits: {
      stowMaxRequestBytes: config.limits.stowMaxRequestBytes,
      maxJsonBytes: config.limits.apiMaxJsonBytes,
    },
    authFailures: { maxFailures: config.auth.maxFailures, windowMs: config.auth.failureWindowMs },
    research: {
      deidentificationKey: config.deidentificationKey,
      workflows: researchWorkflows(temporal.client, { taskQueue: config.temporal.taskQueues.series }),
      exportDir: path.join(config.dataDir, 'exports'),
    },
    readiness: {
      postgres: async () => {
        await database.sql`select 1`;
      },
      temporal: async () => {
        await temporal.connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
      },
    },
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  return {
    url: `http://${config.api.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
