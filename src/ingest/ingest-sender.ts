import type { InstitutionBinding } from '../db/repositories/instances.js';
import type { TransferSession } from './transfer-session.js';

/** Who sends an instance, into which institutions, and in which transfer. */
export interface IngestSender {
  /** Recorded on the instance: `dimse:<calling AE>@<address>`, `stow-rs:<user>`, `import:<file>`. */
  source: string;
  /** Where its instances may go; `any` (the InstitutionName decides) unless given. */
  binding?: InstitutionBinding;
  /** Keep every instance aside instead of registering it (an unknown DICOM caller, when so configured). */
  quarantineAll?: 'unknown-caller';
  /** The association, request or import the instance came in: tells processing when a series is complete. */
  transfer?: TransferSession;
}

/** A plain source string is an unrestricted sender (tests, tools). */
export function senderOf(sender: IngestSender | string): IngestSender {
  return typeof sender === 'string' ? { source: sender } : sender;
}
