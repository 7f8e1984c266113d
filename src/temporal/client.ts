import { Client, Connection } from '@temporalio/client';
import { DomainError } from '../shared/errors.js';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close: () => Promise<void>;
}

/**
 * Connects to a Temporal frontend and checks it answers; an unreachable address becomes a DomainError
 * DEPENDENCY_UNAVAILABLE with one clear message.
 */
export async function connectTemporalClient(
  address: string,
  namespace: string,
): Promise<TemporalClientHandle> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    throw new DomainError(
      'DEPENDENCY_UNAVAILABLE',
      `cannot reach Temporal at ${address} (namespace ${namespace}): ${firstLine(error)}`,
      { retryable: true, cause: error },
    );
  }
  const client = new Client({ connection, namespace });
  return { client, connection, close: () => connection.close() };
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
