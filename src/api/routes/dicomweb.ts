import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireRole } from '../../access/policy.js';
import type { IngestDeps } from '../../ingest/store-instance.js';
import type { Logger } from '../../logging/logger.js';
import { DomainError } from '../../shared/errors.js';
import { principalOf, type AppEnv } from '../app.js';
import { parseMediaType, parseMultipartRelated } from '../dicomweb/multipart-related.js';
import { storeInstancesResponse, storeTransactionStatus } from '../dicomweb/store-instances-response.js';
import { storeParts } from '../dicomweb/store-parts.js';
import type { ErrorEnvelope } from '../errors.js';
import { dicomUidParam, errorResponse } from '../schemas.js';

const DICOM_JSON = 'application/dicom+json';
const STOW_REQUEST_TYPE = 'multipart/related; type="application/dicom"';

const StudyParams = z.object({ studyInstanceUid: dicomUidParam('studyInstanceUid') });

const StoreInstancesResponseSchema = z
  .record(
    z.string().regex(/^[0-9A-F]{8}$/),
    z.object({ vr: z.string(), Value: z.array(z.unknown()).optional() }),
  )
  .openapi('StoreInstancesResponse', {
    description:
      'DICOM JSON (PS3.18 F.2) of the Store Instances Response Module (PS3.18 Annex I): RetrieveURL ' +
      '(00081190, empty), FailedSOPSequence (00081198) items with ReferencedSOPClassUID (00081150), ' +
      'ReferencedSOPInstanceUID (00081155) and FailureReason (00081197); ReferencedSOPSequence (00081199) ' +
      'items with ReferencedSOPClassUID, ReferencedSOPInstanceUID and RetrieveURL (empty). FailureReason ' +
      'values: 0110H processing failure, 0111H SOPInstanceUID already stored with other content, 0122H ' +
      'modality not accepted (CT only), A700H out of resources, A900H required attribute missing or invalid, ' +
      'A901H StudyInstanceUID differs from the study of the URL, C000H not a readable DICOM Part 10 file.',
  });

const storeResult = (description: string) => ({
  content: { [DICOM_JSON]: { schema: StoreInstancesResponseSchema } },
  description,
});

const requestBody = {
  required: true,
  description:
    'DICOM Part 10 instances, one per body part (Content-Type: application/dicom), as ' +
    '`multipart/related; type="application/dicom"; boundary=...` (RFC 2387, PS3.18 §8.6.1.2).',
  content: { [STOW_REQUEST_TYPE]: { schema: { type: 'string' as const, format: 'binary' } } },
};

const storeResponses = {
  200: storeResult('Every instance was stored (an identical repeat counts as stored)'),
  202: storeResult('Some instances were stored, others failed: see FailedSOPSequence'),
  400: errorResponse('Malformed multipart body, missing boundary, or invalid StudyInstanceUID in the path'),
  409: storeResult('No instance was stored: see FailedSOPSequence'),
  415: errorResponse('Content-Type is not multipart/related with type application/dicom'),
};

const storeInstances = createRoute({
  method: 'post',
  path: '/dicomweb/studies',
  summary: 'STOW-RS: store DICOM instances (PS3.18 §10.5 Store Transaction)',
  request: { body: requestBody },
  responses: storeResponses,
});

const storeStudyInstances = createRoute({
  method: 'post',
  path: '/dicomweb/studies/{studyInstanceUid}',
  summary: 'STOW-RS: store DICOM instances of one study; instances of other studies fail (A901H)',
  request: { params: StudyParams, body: requestBody },
  responses: storeResponses,
});

export interface DicomwebRouteDeps {
  ingest: IngestDeps;
  logger: Logger;
}

/** DICOMweb Studies Service: the Store Transaction (STOW-RS) over the one ingest path. */
export function dicomwebRoutes({ ingest, logger }: DicomwebRouteDeps) {
  const store = async (c: Context<AppEnv>, studyInstanceUid: string | undefined) => {
    // Sending images: administrators, radiologists and screening programmes; never researchers.
    requireRole(principalOf(c), ['admin', 'radiologist', 'programme'], 'store instances');
    const contentType = c.req.header('content-type');
    const mediaType = contentType === undefined ? undefined : parseMediaType(contentType);
    const rootType = mediaType?.parameters.type;
    if (
      mediaType?.essence !== 'multipart/related' ||
      (rootType !== undefined && parseMediaType(rootType)?.essence !== 'application/dicom')
    ) {
      const message = `Content-Type must be ${STOW_REQUEST_TYPE}; boundary=..., not ${contentType ?? 'absent'}`;
      const envelope: ErrorEnvelope = {
        error: { code: 'VALIDATION_FAILED', message, requestId: c.get('requestId') },
      };
      return c.json(envelope, 415);
    }
    const boundary = mediaType.parameters.boundary;
    if (boundary === undefined) {
      throw new DomainError('VALIDATION_FAILED', 'Content-Type multipart/related has no boundary parameter');
    }
    const parts = parseMultipartRelated(Buffer.from(await c.req.arrayBuffer()), boundary);
    const outcomes = await storeParts(ingest, parts, {
      ...(studyInstanceUid !== undefined && { studyInstanceUid }),
      logger,
    });
    return c.json(storeInstancesResponse(outcomes), storeTransactionStatus(outcomes), {
      'Content-Type': DICOM_JSON,
    });
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(storeInstances, (c) => store(c, undefined))
    .openapi(storeStudyInstances, (c) => store(c, c.req.valid('param').studyInstanceUid));
}
