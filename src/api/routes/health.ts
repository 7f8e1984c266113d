import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Logger } from '../../logging/logger.js';
import type { AppEnv, ReadinessChecks } from '../app.js';
import { DEPENDENCY_NAMES, type Dependency } from '../dependency-errors.js';

const CheckSchema = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
const ReadinessSchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({ postgres: CheckSchema, temporal: CheckSchema }),
  })
  .openapi('Readiness');

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness: the process serves HTTP',
  responses: {
    200: {
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
      description: 'Alive',
    },
  },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: PostgreSQL and Temporal answer',
  responses: {
    200: { content: { 'application/json': { schema: ReadinessSchema } }, description: 'Ready' },
    503: {
      content: { 'application/json': { schema: ReadinessSchema } },
      description: 'A dependency is down',
    },
  },
});

const CHECK_TIMEOUT_MS = 3000;

/**
 * Runs one readiness check within CHECK_TIMEOUT_MS. A failure is named without the reason's detail, which
 * may hold internal addresses (host:port, URLs): that goes to the log.
 */
async function timed(
  dependency: Dependency,
  check: () => Promise<void>,
  logger: Logger | undefined,
): Promise<z.infer<typeof CheckSchema>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`);
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(timeout), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    logger?.warn({ err: error, dependency }, 'readiness check failed');
    const name = DEPENDENCY_NAMES[dependency];
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: error === timeout ? `${name}: ${timeout.message}` : `${name} is unavailable`,
    };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(checks: ReadinessChecks, logger?: Logger) {
  return new OpenAPIHono<AppEnv>()
    .openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyz, async (c) => {
      const [postgres, temporal] = await Promise.all([
        timed('postgres', checks.postgres, logger),
        timed('temporal', checks.temporal, logger),
      ]);
      const ready = postgres.ok && temporal.ok;
      const body = {
        status: ready ? ('ready' as const) : ('unavailable' as const),
        checks: { postgres, temporal },
      };
      return ready ? c.json(body, 200) : c.json(body, 503);
    });
}
