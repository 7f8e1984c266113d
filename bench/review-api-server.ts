// The API of the review and DICOMweb benchmarks, in a process of its own (blobs in BENCH_BLOB_DIR): serves createApp on DATABASE_URL and prints its port.
import { serve } from '@hono/node-server';
import { createApp, type AppDeps } from '../src/api/app.js';
import { openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logging/logger.js';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const database = openDatabase(url, { max: Number(process.env.BENCH_POOL ?? 10) });
const app = createApp({
  db: database.db,
  seriesWorkflows: {} as AppDeps['seriesWorkflows'],
  ingest: {
    db: database.db,
    blobs: new FilesystemBlobStore(process.env.BENCH_BLOB_DIR ?? '/tmp/nodus-bench-blobs'),
    notifySeries: () => Promise.resolve(),
  },
  logger: createLogger('silent'),
  readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`listening ${info.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void database.close().then(() => process.exit(0));
});
