import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where scripts/install-temporal.sh puts the pinned Temporal CLI. */
export const INSTALLED_TEMPORAL_CLI = fileURLToPath(new URL('../../.tools/bin/temporal', import.meta.url));

/** The Temporal CLI to run: an explicit path, else the installed pinned one; throws a clear error if absent. */
export function resolveTemporalCli(explicitPath: string | undefined): string {
  const candidate = explicitPath ?? INSTALLED_TEMPORAL_CLI;
  if (!fs.existsSync(candidate)) {
    throw new Error(
      `Temporal CLI not found at ${candidate}: run \`npm run temporal:install\` or set NODUS_TEMPORAL_CLI`,
    );
  }
  return candidate;
}
