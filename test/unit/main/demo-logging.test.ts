import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoLogger } from '../../../src/main/demo-logging.js';

describe('demoLogger', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const dataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-demo-log-'));
    dirs.push(dir);
    return dir;
  };

  it('writes the logs to a file under the data dir, not the terminal, unless asked', async () => {
    const dir = dataDir();
    const { logger, logFile } = demoLogger(dir, 'info', {});
    expect(logFile).toBe(path.join(dir, 'logs', 'demo.log'));
    logger.info({ probe: 1 }, 'hello');
    logger.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(JSON.parse(fs.readFileSync(logFile!, 'utf8').trim())).toMatchObject({ msg: 'hello', probe: 1 });
  });

  it('logs on stderr at the level asked for when NODUS_LOG_LEVEL is set', () => {
    const dir = dataDir();
    const { logger, logFile } = demoLogger(dir, 'debug', { NODUS_LOG_LEVEL: 'debug' });
    expect(logFile).toBeUndefined();
    expect(logger.level).toBe('debug');
    expect(fs.existsSync(path.join(dir, 'logs'))).toBe(false);
  });
});
