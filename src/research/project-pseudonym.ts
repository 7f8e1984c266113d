import { createHmac } from 'node:crypto';
import type { DeidentificationProject } from '../dicom/deidentify.js';

/**
 * A keyed pseudonym for a non-patient identifier of a project's export (a site, a reader): `<PREFIX>-<10 hex>`
 * of HMAC-SHA256 over the project and the value, so the same site or reader keeps one code in a project
 * and cannot be recovered without the key.
 */
export function projectPseudonym(
  project: DeidentificationProject,
  prefix: 'SITE' | 'READER',
  value: string,
): string {
  const mac = createHmac('sha256', project.key)
    .update(`${project.name}\u0000${prefix}\u0000${value}`)
    .digest('hex');
  return `${prefix}-${mac.slice(0, 10).toUpperCase()}`;
}

/**
 * A check value of a project's key: HMAC-SHA256 of a fixed text, 16 hex digits. An export compares it with the
 * snapshot's, so a different NODUS_DEID_KEY is named as the cause instead of every file differing.
 */
export function keyCheck(project: DeidentificationProject): string {
  return createHmac('sha256', project.key)
    .update(`${project.name}\u0000key-check`)
    .digest('hex')
    .slice(0, 16);
}
