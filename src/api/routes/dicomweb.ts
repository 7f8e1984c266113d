import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireRole } from '../../access/policy.js';
import type { IngestDeps } from '../../ingest/store-instance.js';
import type { Logger } from '../../logging/logger.js';
import { DomainError } from '../../shared/errors.js';
import { principalOf, type AppEnv } from '../app.js';
import { bindingOf } from '../../access/ingest-binding.js';
import { receivingOf } from '../../ingest/receiving.js';
import { TransferSession } from '../../ingest/transfer-session.js';
import { parseMediaType } from '../dicomweb/multipart-related.js';
import { readStowParts } from '../dicomweb/stow-body.js';
import { storeInstancesResponse, storeTransactionStatus } from '../dicomweb/store-instances-response.js';
import { storeParts } from '../dicomweb/store-parts.js';
import { publicBaseUrl } from '../dicomweb/retrieve-urls.js';
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
      "(00081190, the study's WADO-RS URL when all stored instances are of one study), FailedSOPSequence " +
      '(00081198) items with ReferencedSOPClassUID (00081150), ' +
      'ReferencedSOPInstanceUID (00081155) and FailureReason (00081197); ReferencedSOPSequence (00081199) ' +
      "items with ReferencedSOPClassUID, ReferencedSOPInstanceUID and RetrieveURL (the instance's WADO-RS URL). " +
      'FailureReason ' +
      'values: 0110H processing failure, 0122H modality not accepted (CT only), 0124H InstitutionName not one ' +
      "of the caller's institutions, A700H out of resources, A900H required attribute missing or invalid, " +
      'A901H StudyInstanceUID differs from the study of the URL, C000H not a readable DICOM Part 10 file or ' +
      'a part that is not application/dicom, C111H SOPInstanceUID already stored with other content.',
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

function requestTooLarge(limit: number): DomainError {
  return new DomainError(
    'PAYLOAD_TOO_LARGE',
    `the request body exceeds NODUS_STOW_MAX_REQUEST_BYTES (${limit} bytes)`,
    { context: { limit: 'NODUS_STOW_MAX_REQUEST_BYTES', bytes: limit } },
  );
}

const storeResponses = {
  200: storeResult('Every instance was stored (an identical repeat counts as stored)'),
  202: storeResult('Some instances were stored, others failed: see FailedSOPSequence'),
  400: errorResponse('Malformed multipart body, missing boundary, or invalid StudyInstanceUID in the path'),
  409: storeResult('No instance was stored: see FailedSOPSequence'),
  413: errorResponse(
    'The body exceeds NODUS_STOW_MAX_REQUEST_BYTES, or one part NODUS_MAX_INSTANCE_BYTES (the parts before it are stored)',
  ),
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
  /** Largest STOW-RS request body, bytes (NODUS_STOW_MAX_REQUEST_BYTES); 8 GiB unless given. */
  stowMaxRequestBytes?: number | undefined;
  /** NODUS_PUBLIC_URL, for the RetrieveURLs of the answer; the request's origin unless given. */
  publicUrl?: string | undefined;
}

const DEFAULT_STOW_MAX_REQUEST_BYTES = 8 * 1024 ** 3;

/** DICOMweb Studies Service: the Store Transaction (STOW-RS) over the one ingest path. */
export function dicomwebRoutes({ ingest, logger, stowMaxRequestBytes, publicUrl }: DicomwebRouteDeps) {
  const maxRequestBytes = stowMaxRequestBytes ?? DEFAULT_STOW_MAX_REQUEST_BYTES;
  const store = async (c: Context<AppEnv>, studyInstanceUid: string | undefined) => {
    // Sending images: administrators, radiologists and screening programmes; never researchers.
    const principal = principalOf(c);
    requireRole(principal, ['admin', 'radiologist', 'programme'], 'store instances');
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
    const declaredLength = Number(c.req.header('content-length'));
    if (declaredLength > maxRequestBytes) throw requestTooLarge(maxRequestBytes);
    const body = c.req.raw.body;
    if (!body) throw new DomainError('VALIDATION_FAILED', 'the request has no body');
    // The request is one transfer: a body that breaks off leaves its series incomplete until resent.
    const transfer = new TransferSession(ingest.db);
    const receiving = receivingOf(ingest);
    const { outcomes, fault } = await storeParts(
      ingest,
      readStowParts(body, boundary, { maxRequestBytes, ...receiving }),
      {
        ...(studyInstanceUid !== undefined && { studyInstanceUid }),
        sender: { source: `stow-rs:${principal.email}`, binding: bindingOf(principal), transfer },
        logger,
      },
    );
    await transfer.end(fault === undefined ? 'complete' : 'interrupted');
    if (fault !== undefined) {
      if (!(fault instanceof DomainError)) {
        // The body stream itself failed: the client went away or the connection broke.
        throw new DomainError(
          'VALIDATION_FAILED',
          `the request body broke off after ${outcomes.length} part(s): ${fault instanceof Error ? fault.message : 'the body stream failed'}`,
        );
      }
      const stored = outcomes.filter((outcome) => outcome.status === 'stored').length;
      throw new DomainError(
        fault.code,
        outcomes.length === 0
          ? fault.message
          : `${fault.message}; the ${outcomes.length} part(s) before it were read and ${stored} stored`,
        { context: fault.context },
      );
    }
    const baseUrl = publicBaseUrl(c.req.url, publicUrl);
    return c.json(storeInstancesResponse(outcomes, baseUrl), storeTransactionStatus(outcomes), {
      'Content-Type': DICOM_JSON,
    });
  };

  return new OpenAPIHono<AppEnv>()
    .openapi(storeInstances, (c) => store(c, undefined))
    .openapi(storeStudyInstances, (c) => store(c, c.req.valid('param').studyInstanceUid));
}
