import type { Context } from 'hono';
import { DomainError } from '../../shared/errors.js';
import { isDicomUid } from '../../shared/dicom-uid.js';

/** An OpenAPI path (`/studies/{study}`) as a Hono path (`/studies/:study`). */
export function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}

/** A path parameter that must be a DICOM UID; VALIDATION_FAILED (400) naming it otherwise. */
export function uidParam(c: Context, name: string): string {
  const value = c.req.param(name) ?? '';
  if (!isDicomUid(value)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `${name}: ${JSON.stringify(value.slice(0, 80))} is not a DICOM UID`,
      {
        context: { attribute: name },
      },
    );
  }
  return value;
}
