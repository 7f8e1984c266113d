import type { Database } from '../db/client.js';
import {
  deleteApplicationEntity,
  listApplicationEntities,
  upsertApplicationEntity,
} from '../db/repositories/application-entities.js';
import { listQuarantined } from '../db/repositories/quarantine.js';
import { isValidCallerAddress } from '../ingest/dimse/known-callers.js';
import { DomainError } from '../shared/errors.js';

type Out = Pick<NodeJS.WritableStream, 'write'>;

/** `nodus ae add`: allows a DICOM sender (calling AE title + address) to store into one institution. */
export async function aeAddCommand(
  db: Database,
  options: { aeTitle: string; address: string; institution: string; description?: string | undefined },
  out: Out = process.stdout,
): Promise<number> {
  const aeTitle = options.aeTitle.trim();
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aeTitle) || aeTitle === '') {
    throw new DomainError(
      'VALIDATION_FAILED',
      `--ae-title ${JSON.stringify(options.aeTitle)} is not an AE title (1-16 characters, no backslash)`,
    );
  }
  if (!isValidCallerAddress(options.address)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `--address ${options.address} is not an IP address or CIDR network`,
    );
  }
  if (!/^[A-Z0-9-]{1,64}$/.test(options.institution)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `--institution ${options.institution} is not an institution code (A-Z, 0-9, -)`,
    );
  }
  const entity = await upsertApplicationEntity(db, {
    aeTitle,
    address: options.address,
    institutionCode: options.institution,
    description: options.description,
  });
  out.write(`${JSON.stringify(entity, null, 2)}\n`);
  return 0;
}

/** `nodus ae list`: the configured DICOM senders. */
export async function aeListCommand(db: Database, out: Out = process.stdout): Promise<number> {
  out.write(`${JSON.stringify(await listApplicationEntities(db), null, 2)}\n`);
  return 0;
}

/** `nodus ae remove <id>`. */
export async function aeRemoveCommand(db: Database, id: string, out: Out = process.stdout): Promise<number> {
  await deleteApplicationEntity(db, id);
  out.write(`${JSON.stringify({ removed: id })}\n`);
  return 0;
}

/** `nodus quarantine list`: instances kept aside (conflicts, other institutions', unknown callers'). */
export async function quarantineListCommand(db: Database, out: Out = process.stdout): Promise<number> {
  out.write(`${JSON.stringify(await listQuarantined(db), null, 2)}\n`);
  return 0;
}
