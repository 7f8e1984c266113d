import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/env.js';

export type { Logger };

/** Structured JSON logs on stderr (stdout stays free for command output such as `--json`). */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'nodus', ...bindings } }, pino.destination({ fd: 2, sync: false }));
}
