import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { filmBundle } from '../api/routes/film-assets.js';
import { workspaceBundle } from '../api/routes/workspace-assets.js';
import { installedOhifDir, ohifViewerApp } from '../api/viewer/ohif-viewer.js';
import { seedAdminToken } from '../db/repositories/users.js';
import { researchWorkflows } from '../temporal/research-workflows.js';
import { shareWorkflows } from '../temporal/share-workflows.js';
import type { Platform } from './platform.js';

export interface RunningApi {
  url: string;
  /** The OHIF viewer's origin, when OHIF is installed (scripts/install-ohif.mjs). */
  viewerUrl: string | undefined;
  close(): Promise<void>;
}

/** Serves the HTTP API of a platform on NODUS_API_HOST:NODUS_API_PORT (port 0 picks a free one). */
export async function startApi(platform: Platform): Promise<RunningApi> {
  const { database, temporal, config, logger } = platform;
  if (config.adminToken) await seedAdminToken(database.db, config.adminToken);
  let viewerPort: number | undefined;
  const app = createApp({
    db: database.db,
    seriesWorkflows: platform.seriesWorkflows,
    shareWorkflows: shareWorkflows(temporal.client, { taskQueue: config.temporal.taskQueues.series }),
    ingest: platform.ingest,
    logger: logger.child({ component: 'api' }),
    dicomPeers: config.dicom.peers,
    publicUrl: config.web.publicUrl,
    viewerPort: () => viewerPort,
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
  const server = await listen(app.fetch, config.api.host, config.api.port);
  // The pages' bundles are built now, not on the first reader's request (a failure is logged there).
  for (const bundle of ['app', 'worker'] as const) void workspaceBundle(bundle).catch(() => undefined);
  void filmBundle().catch(() => undefined);
  const ohifDir = installedOhifDir();
  if (!ohifDir)
    logger.warn('the OHIF viewer is not installed (node scripts/install-ohif.mjs): no viewer port');
  // The viewer is an extra: a port in use leaves nodus running without it.
  const viewer = ohifDir
    ? await listen(
        ohifViewerApp({ distDir: ohifDir, dicomweb: app.fetch }).fetch,
        config.api.host,
        config.web.viewerPort,
      ).catch((error: unknown) => {
        logger.warn(
          { err: error, port: config.web.viewerPort },
          'OHIF viewer not started (NODUS_VIEWER_PORT)',
        );
        return undefined;
      })
    : undefined;
  if (viewer) {
    const address = viewer.address();
    viewerPort = typeof address === 'object' && address ? address.port : undefined;
  }
  const urlOf = (s: ServerType) => {
    const address = s.address();
    return `http://${config.api.host}:${typeof address === 'object' && address ? address.port : 0}`;
  };
  return {
    url: urlOf(server),
    viewerUrl: viewer && urlOf(viewer),
    close: async () => {
      const servers = viewer ? [server, viewer] : [server];
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

function listen(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  hostname: string,
  port: number,
): Promise<ServerType> {
  return new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch, hostname, port }, () => resolve(s));
    s.once('error', reject);
  });
}
