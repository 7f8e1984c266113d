import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/env.js';

describe('loadConfig', () => {
  it('defaults to embedded services and local ports', () => {
    const config = loadConfig({}, '/srv/nodus');
    expect(config).toMatchObject({
      databaseUrl: undefined,
      temporal: {
        address: undefined,
        namespace: 'default',
        taskQueues: { series: 'nodus-series', inference: 'nodus-inference' },
      },
      dataDir: path.resolve('/srv/nodus/.nodus'),
      api: { host: '127.0.0.1', port: 8080 },
      dicom: { aeTitle: 'NODUS', port: 11112 },
      logLevel: 'info',
      seriesQuietPeriodMs: 5000,
      auth: { maxFailures: 10, failureWindowMs: 60_000 },
    });
  });

  it('reads external services and overrides', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgresql://u:p@db.example.org:5432/nodus',
        TEMPORAL_ADDRESS: 'temporal.example.org:7233',
        TEMPORAL_NAMESPACE: 'screening',
        NODUS_SERIES_TASK_QUEUE: 'series-eu',
        NODUS_DATA_DIR: '/var/lib/nodus',
        NODUS_API_PORT: '0',
        NODUS_DICOM_AE_TITLE: 'LUNG_AI',
        NODUS_LOG_LEVEL: 'debug',
      },
      '/ignored',
    );
    expect(config.databaseUrl).toBe('postgresql://u:p@db.example.org:5432/nodus');
    expect(config.temporal).toMatchObject({ address: 'temporal.example.org:7233', namespace: 'screening' });
    expect(config.temporal.taskQueues.series).toBe('series-eu');
    expect(config.dataDir).toBe('/var/lib/nodus');
    expect(config.api.port).toBe(0);
    expect(config.dicom.aeTitle).toBe('LUNG_AI');
    expect(config.logLevel).toBe('debug');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: ' ' }).databaseUrl).toBeUndefined();
  });

  it.each([
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233'],
    ['NODUS_API_PORT', 'eighty'],
    ['NODUS_API_PORT', '70000'],
    ['NODUS_DICOM_PORT', '-1'],
    ['NODUS_DICOM_AE_TITLE', 'A_TITLE_LONGER_THAN_16'],
    ['NODUS_DICOM_AE_TITLE', 'BACK\\SLASH'],
    ['NODUS_LOG_LEVEL', 'verbose'],
    ['NODUS_SERIES_QUIET_PERIOD_MS', '1.5'],
    ['NODUS_AUTH_MAX_FAILURES', '0'],
    ['NODUS_AUTH_FAILURE_WINDOW_MS', '10'],
    ['NODUS_PUBLIC_URL', 'pacs.example.org'],
    ['NODUS_PUBLIC_URL', 'https://pacs.example.org/?x=1'],
    ['NODUS_CORS_ORIGINS', 'https://viewer.example.org/path'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration: ${name}=`));
  });

  it('reads the public URL (no trailing slash) and CORS origins of the web side', () => {
    expect(loadConfig({}).web).toEqual({ publicUrl: undefined, corsOrigins: [], viewerPort: 8081 });
    expect(
      loadConfig({
        NODUS_PUBLIC_URL: 'https://pacs.example.org/nodus/',
        NODUS_CORS_ORIGINS: 'https://viewer.example.org, http://localhost:3000',
      }).web,
    ).toEqual({
      publicUrl: 'https://pacs.example.org/nodus',
      corsOrigins: ['https://viewer.example.org', 'http://localhost:3000'],
      viewerPort: 8081,
    });
  });

  it('lists every invalid variable at once', () => {
    try {
      loadConfig({ NODUS_API_PORT: 'x', NODUS_LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split('=')[0])).toEqual([
        'NODUS_API_PORT',
        'NODUS_LOG_LEVEL',
      ]);
    }
  });
});
