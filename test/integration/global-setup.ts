import { TestWorkflowEnvironment } from '@temporalio/testing';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { resolveTemporalCli } from '../../src/embedded/temporal-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh, migrated database for this test run. */
    databaseUrl: string;
    /** host:port of a real Temporal dev server (namespace `default`). */
    temporalAddress: string;
  }
}

/** The PostgreSQL server to create the run's database on: DATABASE_URL's, else the local one. */
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Starts the real services of the integration tests: a fresh database on a real PostgreSQL server and a
 * Temporal dev server from the pinned CLI (`existing-path`, no download). Both go away after the run.
 */
export default async function setup(project: TestProject) {
  const databaseName = `nodus_test_${Date.now()}_${process.pid}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin`create database ${admin(databaseName)}`;
  } catch (error) {
    await admin.end();
    throw new Error(
      `integration tests need PostgreSQL at ${SERVER_URL} (start it, or set DATABASE_URL): ${String(error)}`,
    );
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  const handle = openDatabase(databaseUrl, { max: 2 });
  await runMigrations(handle);
  await handle.close();

  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: resolveTemporalCli(process.env.NODUS_TEMPORAL_CLI) },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });

  project.provide('databaseUrl', databaseUrl);
  project.provide('temporalAddress', temporal.address);

  return async () => {
    await temporal.teardown();
    await admin`drop database if exists ${admin(databaseName)} with (force)`;
    await admin.end();
  };
}
