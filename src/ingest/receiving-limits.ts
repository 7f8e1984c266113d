import os from 'node:os';
import path from 'node:path';

/** How instances are received before they are stored (C-STORE data sets, STOW-RS parts). */
export interface ReceivingLimits {
  /** Largest instance accepted, bytes (NODUS_MAX_INSTANCE_BYTES). */
  maxInstanceBytes: number;
  /** Instances larger than this are received into a spool file rather than memory, bytes. */
  spoolAboveBytes: number;
  /** Folder of the spool files (NODUS_DATA_DIR/spool); removed files never outlive their instance. */
  spoolDir: string;
  /**
   * Bytes of spooled instances loaded into memory at once, across every association and request
   * (NODUS_INGEST_MEMORY_BYTES): a larger one waits its turn; one larger than this is refused.
   */
  memoryBytes: number;
}

export const DEFAULT_RECEIVING_LIMITS: ReceivingLimits = {
  maxInstanceBytes: 512 * 1024 ** 2,
  spoolAboveBytes: 4 * 1024 ** 2,
  spoolDir: path.join(os.tmpdir(), 'nodus-spool'),
  memoryBytes: 1024 ** 3,
};
