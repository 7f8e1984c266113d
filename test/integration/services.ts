import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';

export const testLogger = createLogger('silent');
installTemporalRuntime(createLogger('error', { test: true }));

/** Connections to the run's real PostgreSQL database and Temporal dev server. */
export async function connectTestServices(): Promise<{
  database: DatabaseHandle;
  client: Client;
  connection: Connection;
  databaseUrl: string;
  temporalAddress: string;
  close: () => Promise<void>;
}> {
  const databaseUrl = inject('databaseUrl');
  const temporalAddress = inject('temporalAddress');
  const database = openDatabase(databaseUrl, { max: 5 });
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  return {
    database,
    client,
    connection,
    databaseUrl,
    temporalAddress,
    close: async () => {
      await connection.close();
      await database.close();
    },
  };
}

/** A task queue of its own per test, so workers of different tests never take each other's tasks. */
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}
