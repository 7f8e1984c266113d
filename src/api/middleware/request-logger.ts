import { createMiddleware } from 'hono/factory';
import type { Logger } from '../../logging/logger.js';

/** One structured log line per request: request id, method, path, status, duration. */
export function requestLogger(logger: Logger) {
  return createMiddleware(async (c, next) => {
    const started = performance.now();
    await next();
    logger.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  });
}
