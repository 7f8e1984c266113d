import { InstanceSpool, type ReceivedInstance } from '../../ingest/instance-spool.js';
import type { MemoryBudget } from '../../ingest/memory-budget.js';
import type { ReceivingLimits } from '../../ingest/receiving-limits.js';
import { DomainError } from '../../shared/errors.js';
import { MultipartParser } from './multipart-related.js';

/** One body part of a Store Transaction, received whole (in memory, or spooled to disk when large). */
export interface StowPart {
  /** Header values by lower-case name. */
  headers: Record<string, string>;
  instance: ReceivedInstance;
}

export interface StowBodyLimits {
  /** Largest request body, bytes (NODUS_STOW_MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  receiving: ReceivingLimits;
  budget: MemoryBudget;
}

/**
 * Reads a multipart/related Store Transaction body as it arrives and yields each part once it is whole,
 * reading no further until the consumer asks for the next: memory holds one part (a large one is spooled
 * to disk) and one chunk of the body, however large the body. Throws a DomainError PAYLOAD_TOO_LARGE past
 * the request or the part limit (naming it), VALIDATION_FAILED for a malformed body; the consumer has then
 * seen every part before the fault.
 */
export async function* readStowParts(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: StowBodyLimits,
): AsyncGenerator<StowPart> {
  const parser = new MultipartParser(boundary);
  let received = 0;
  let current: { headers: Record<string, string>; spool: InstanceSpool; index: number } | undefined;
  let parts = 0;
  try {
    for await (const chunk of body) {
      received += chunk.byteLength;
      if (received > limits.maxRequestBytes) {
        throw new DomainError(
          'PAYLOAD_TOO_LARGE',
          `the request body exceeds NODUS_STOW_MAX_REQUEST_BYTES (${limits.maxRequestBytes} bytes)`,
          { context: { limit: 'NODUS_STOW_MAX_REQUEST_BYTES', bytes: limits.maxRequestBytes } },
        );
      }
      for (const event of parser.push(chunk)) {
        switch (event.type) {
          case 'part-start':
            parts += 1;
            current = {
              headers: event.headers,
              spool: new InstanceSpool(limits.receiving, limits.budget),
              index: parts,
            };
            break;
          case 'part-data':
            if (!current) break;
            if (!current.spool.write(event.data)) await current.spool.drained();
            if (current.spool.tooLarge) {
              throw new DomainError(
                'PAYLOAD_TOO_LARGE',
                `part ${current.index} exceeds NODUS_MAX_INSTANCE_BYTES (${limits.receiving.maxInstanceBytes} bytes)`,
                {
                  context: {
                    limit: 'NODUS_MAX_INSTANCE_BYTES',
                    bytes: limits.receiving.maxInstanceBytes,
                    part: current.index,
                  },
                },
              );
            }
            break;
          case 'part-end':
            if (!current) break;
            {
              const part = { headers: current.headers, instance: await current.spool.finish() };
              current = undefined;
              try {
                yield part;
              } finally {
                await part.instance.dispose();
              }
            }
            break;
          case 'end':
            break;
        }
      }
    }
    parser.end();
  } finally {
    await current?.spool.abandon();
  }
}
