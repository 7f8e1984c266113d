import { dicomVisibility } from '../dicomweb/dicom-visibility.js';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Database } from '../../db/client.js';
import { instancesToRetrieve } from '../../db/repositories/dicomweb-query.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, toExplicitLittleEndian } from '../../dicom/instance-frames.js';
import { decodeInstance } from '../../dicom/pixel-data.js';
import { renderFrame } from '../../dicom/rendered-frame.js';
import { DomainError } from '../../shared/errors.js';
import { isDicomUid } from '../../shared/dicom-uid.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { fillMissingMetadata } from '../dicomweb/stored-metadata.js';
import { errorResponse } from '../schemas.js';

const route = (path: string) =>
  createRoute({
    method: 'get',
    path,
    summary: 'WADO-URI (PS3.18 §9): one instance, as DICOM or as a rendered PNG, for older viewers',
    description:
      'requestType=WADO&studyUID=&seriesUID=&objectUID= ; contentType=application/dicom (transferSyntax ' +
      'as stored, or 1.2.840.10008.1.2.1), image/jpeg (the default) or image/png, ' +
      'frameNumber, windowCenter and windowWidth (HU), rows and columns (largest size).',
    security: [{ bearer: [] }],
    responses: {
      200: {
        content: {
          'application/dicom': { schema: z.string().openapi({ format: 'binary' }) },
          'image/jpeg': { schema: z.string().openapi({ format: 'binary' }) },
          'image/png': { schema: z.string().openapi({ format: 'binary' }) },
        },
        description: 'The instance or its rendering',
      },
      400: errorResponse('A missing or malformed parameter (named)'),
      403: errorResponse('Researchers (identifying data)'),
      404: errorResponse('No such instance among those the caller may see'),
      406: errorResponse('A contentType or transferSyntax nodus does not produce'),
    },
  });

function requiredUid(c: Context, name: string): string {
  const value = c.req.query(name) ?? '';
  if (!isDicomUid(value)) {
    throw new DomainError('VALIDATION_FAILED', `${name} must be a DICOM UID`, {
      context: { attribute: name },
    });
  }
  return value;
}

function optionalNumber(c: Context, name: string, min: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `${name} must be a number >= ${min}, not ${JSON.stringify(raw)}`,
      {
        context: { attribute: name },
      },
    );
  }
  return value;
}

/** WADO-URI at `/wado` (what Weasis and older PACS viewers call) and `/dicomweb/wado`. */
export function wadoUriRoutes(deps: { db: Database; blobs: BlobStore }) {
  const app = new OpenAPIHono<AppEnv>();
  const handler = async (c: Context<AppEnv>) => {
    if (c.req.query('requestType') !== 'WADO') {
      throw new DomainError('VALIDATION_FAILED', 'requestType must be WADO', {
        context: { attribute: 'requestType' },
      });
    }
    const target = {
      studyInstanceUid: requiredUid(c, 'studyUID'),
      seriesInstanceUid: requiredUid(c, 'seriesUID'),
      sopInstanceUid: requiredUid(c, 'objectUID'),
    };
    // PS3.18 §9.1.2.2.3: image/jpeg unless the caller names another.
    const contentTypes = (c.req.query('contentType') ?? 'image/jpeg')
      .split(',')
      .map((t) => t.trim().toLowerCase());
    const named = contentTypes.find((t) =>
      ['application/dicom', 'image/png', 'image/jpeg', '*/*', 'image/*'].includes(t),
    );
    if (!named) {
      throw new DomainError(
        'NOT_ACCEPTABLE',
        `contentType ${contentTypes.join(',')}: nodus sends application/dicom, image/jpeg or image/png`,
      );
    }
    const contentType = named === '*/*' || named === 'image/*' ? 'image/jpeg' : named;
    const read = contentType === 'application/dicom' ? 'files' : 'picture';
    const visibility = dicomVisibility(c, read, 'retrieve DICOM objects');
    const [row] = await instancesToRetrieve(deps.db, target, visibility);
    if (!row) throw new DomainError('NOT_FOUND', `no instance ${target.sopInstanceUid}`);
    await audit(c, deps.db, {
      action: 'dicomweb.retrieve',
      resourceType: 'instance',
      resourceId: target.sopInstanceUid,
      details: { what: `wado-uri ${contentType}`, instances: 1, study: target.studyInstanceUid },
    });
    const stored = await deps.blobs.get(row.blob_key);
    const headers = { 'Cache-Control': 'private, no-store' };
    if (contentType === 'application/dicom') {
      const syntax = c.req.query('transferSyntax') ?? row.transfer_syntax_uid;
      if (syntax === row.transfer_syntax_uid) {
        return new Response(new Uint8Array(stored), {
          headers: { ...headers, 'Content-Type': 'application/dicom' },
        });
      }
      if (syntax !== EXPLICIT_VR_LITTLE_ENDIAN) {
        throw new DomainError(
          'NOT_ACCEPTABLE',
          `transferSyntax ${syntax}: sent as stored or as ${EXPLICIT_VR_LITTLE_ENDIAN}`,
        );
      }
      const bytes = await toExplicitLittleEndian(stored, row.transfer_syntax_uid);
      return new Response(new Uint8Array(bytes), {
        headers: { ...headers, 'Content-Type': 'application/dicom' },
      });
    }
    if (row.metadata === null) await fillMissingMetadata(deps, [row]);
    const frame = optionalNumber(c, 'frameNumber', 1) ?? 1;
    const center = optionalNumber(c, 'windowCenter', -100_000);
    const width = optionalNumber(c, 'windowWidth', 1);
    const rows = optionalNumber(c, 'rows', 1);
    const columns = optionalNumber(c, 'columns', 1);
    const decoded = await decodeInstance(stored);
    const image = await renderFrame(decoded.pixels, frame - 1, row.metadata, {
      window: center !== undefined && width !== undefined ? { center, width } : undefined,
      viewport:
        rows !== undefined || columns !== undefined
          ? { width: columns ?? decoded.pixels.columns, height: rows ?? decoded.pixels.rows }
          : undefined,
      mediaType: contentType === 'image/png' ? 'image/png' : 'image/jpeg',
    });
    return new Response(new Uint8Array(image), { headers: { ...headers, 'Content-Type': contentType } });
  };
  for (const path of ['/wado', '/dicomweb/wado']) {
    app.openAPIRegistry.registerPath(route(path));
    app.get(path, handler);
  }
  return app;
}
