import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { DomainError } from '../../shared/errors.js';

/** Largest request body of every route but STOW-RS unless configured (NODUS_API_MAX_JSON_BYTES). */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

/** STOW-RS streams its bodies part by part under its own limits (src/api/dicomweb/stow-body.ts). */
const STREAMED = /^\/dicomweb\/studies(\/[^/]+)?$/;

/**
 * Refuses a request body over `maxBytes` with 413 PAYLOAD_TOO_LARGE naming the limit, before it is parsed:
 * by Content-Length when it is sent, else as the body is read. STOW-RS bodies are exempt.
 */
export function jsonBodyLimit(maxBytes: number) {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `the request body exceeds NODUS_API_MAX_JSON_BYTES (${maxBytes} bytes)`,
        { context: { limit: 'NODUS_API_MAX_JSON_BYTES', bytes: maxBytes } },
      );
    },
  });
  return createMiddleware(async (c, next) => {
    if (c.req.method === 'POST' && STREAMED.test(c.req.path)) return next();
    return limit(c, next);
  });
}
