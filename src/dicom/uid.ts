import { randomUUID } from 'node:crypto';

/** A new globally unique DICOM UID under the 2.25 root (a UUID as a decimal integer, PS3.5 §B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}
