import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * While a nodus process runs embedded services, it writes their addresses to `<dataDir>/services.env`
 * (mode 0600), so other nodus commands on the same data directory (`import`, more workers) attach to them
 * instead of starting a second server on the same files.
 */
export interface EmbeddedServices {
  databaseUrl?: string | undefined;
  temporalAddress?: string | undefined;
}

export const servicesFile = (dataDir: string) => path.join(dataDir, 'services.env');

export async function writeServicesFile(dataDir: string, services: EmbeddedServices): Promise<void> {
  const lines = [
    '# Written by a running nodus with embedded services; removed when it stops.',
    services.databaseUrl && `DATABASE_URL=${services.databaseUrl}`,
    services.temporalAddress && `TEMPORAL_ADDRESS=${services.temporalAddress}`,
  ].filter(Boolean);
  await fs.writeFile(servicesFile(dataDir), `${lines.join('\n')}\n`, { mode: 0o600 });
}

export async function readServicesFile(dataDir: string): Promise<EmbeddedServices | undefined> {
  const text = await fs.readFile(servicesFile(dataDir), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const values = new Map(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  return { databaseUrl: values.get('DATABASE_URL'), temporalAddress: values.get('TEMPORAL_ADDRESS') };
}

export async function removeServicesFile(dataDir: string): Promise<void> {
  await fs.rm(servicesFile(dataDir), { force: true });
}
