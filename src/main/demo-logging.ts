import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { LogLevel } from '../config/env.js';
import { createLogger, type Logger } from '../logging/logger.js';

/**
 * The demo's logger: a person reads its terminal, so the JSON logs go to `<dataDir>/logs/demo.log`
 * (appended), unless NODUS_LOG_LEVEL is set, which asks for them on stderr as every other command has them.
 */
export function demoLogger(
  dataDir: string,
  level: LogLevel,
  env: NodeJS.ProcessEnv = process.env,
): { logger: Logger; logFile: string | undefined } {
  if (env.NODUS_LOG_LEVEL !== undefined && env.NODUS_LOG_LEVEL !== '') {
    return { logger: createLogger(level), logFile: undefined };
  }
  const logFile = path.join(dataDir, 'logs', 'demo.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const destination = pino.destination({ dest: logFile, append: true, sync: false });
  return { logger: createLogger('info', {}, destination), logFile };
}
