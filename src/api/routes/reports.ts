import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../../access/policy.js';
import type { Database } from '../../db/client.js';
import { buildSignedOffReport } from '../../dicom/signed-off-study-objects.js';
import { storeToPeer, type PeerStoreResult } from '../../ingest/dimse/store-to-peer.js';
import { isConfiguredPeer, type DicomPeer } from '../../shared/dicom-peer.js';
import { DomainError } from '../../shared/errors.js';
import { ROLES_SEEING_IDENTITY, type UserRole } from '../../shared/roles.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { errorResponse } from '../schemas.js';
import { authorizeStudy } from '../study-access.js';

/** Who may send a signed-off study's objects to another DICOM node. */
const SENDER_ROLES: readonly UserRole[] = ['radiologist', 'admin'];

const security = [{ bearer: [] }];
const errors = {
  400: errorResponse('Invalid request'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Not allowed for this role (researchers: identifying data) or institution'),
  404: errorResponse('Unknown study, or no volume'),
  409: errorResponse('The study is not signed off'),
};
const StudyParams = z.object({
  studyId: z
    .string()
    .uuid()
    .openapi({ param: { name: 'studyId', in: 'path' } }),
});
const dicomResponse = (description: string) => ({
  content: { 'application/dicom': { schema: z.string().openapi({ format: 'binary' }) } },
  description,
});

const getSr = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/sr',
  summary:
    'The signed-off report as a DICOM Comprehensive 3D SR (TID 1500): accepted nodules, final Lung-RADS category',
  security,
  request: { params: StudyParams },
  responses: { 200: dicomResponse('Part 10 file; header X-SOP-Instance-UID'), ...errors },
});

const getSeg = createRoute({
  method: 'get',
  path: '/api/studies/{studyId}/seg',
  summary: "The accepted AI nodules' masks as a DICOM Segmentation (one segment per nodule)",
  security,
  request: { params: StudyParams },
  responses: {
    200: dicomResponse('Part 10 file; header X-SOP-Instance-UID'),
    ...errors,
    404: errorResponse('Unknown study, no volume, or no accepted nodule with a mask (no SEG)'),
  },
});

const AeTitle = z
  .string()
  .trim()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'printable ASCII without backslash');
const SendBodySchema = z
  .object({
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535),
    calledAeTitle: AeTitle,
    callingAeTitle: AeTitle.optional(),
  })
  .openapi('DicomPeer');
const SentObjectSchema = z.object({
  object: z.enum(['sr', 'seg']),
  sopClassUid: z.string(),
  sopInstanceUid: z.string(),
  outcome: z.enum(['stored', 'warning', 'failed', 'not-sent']),
  status: z.number().int().nullable().openapi({ description: 'C-STORE response status' }),
  errorComment: z.string().optional(),
});

const postSend = createRoute({
  method: 'post',
  path: '/api/studies/{studyId}/send',
  summary: 'Sends the signed-off SR and SEG to a DICOM node by C-STORE (radiologists, admins)',
  security,
  request: {
    params: StudyParams,
    body: { content: { 'application/json': { schema: SendBodySchema } }, required: true },
  },
  responses: {
    200: {
      content: {
        'application/json': {
          schema: z.object({ peer: z.string(), objects: z.array(SentObjectSchema) }),
        },
      },
      description: 'Every object stored (or stored with a warning)',
    },
    ...errors,
    403: errorResponse('Not a radiologist or admin, another institution, or a peer not in NODUS_DICOM_PEERS'),
    503: errorResponse('The peer is unreachable, rejected the association or refused an object'),
  },
});

/** The signed-off study's DICOM objects: read them (SR, SEG) or send them to a DICOM node. */
export function reportRoutes(deps: {
  db: Database;
  blobs: BlobStore;
  dicomPeers?: readonly DicomPeer[] | undefined;
}) {
  const app = new OpenAPIHono<AppEnv>();

  for (const [route, object] of [
    [getSr, 'sr'],
    [getSeg, 'seg'],
  ] as const) {
    app.openapi(route, async (c) => {
      const principal = principalOf(c);
      requireRole(principal, ROLES_SEEING_IDENTITY, 'read DICOM reports (identifying data)');
      const { studyId } = c.req.valid('param');
      await authorizeStudy(deps.db, principal, studyId, 'read reports', 'allowed');
      const { report, version } = await buildSignedOffReport(deps, studyId);
      const written = report[object];
      if (!written) {
        throw new DomainError('NOT_FOUND', 'no accepted nodule has a mask: the study has no segmentation');
      }
      await audit(c, deps.db, {
        action: 'report.read',
        resourceType: 'study',
        resourceId: studyId,
        details: { object, version, sopInstanceUid: written.sopInstanceUid },
      });
      return c.body(new Uint8Array(written.bytes), 200, {
        'Content-Type': 'application/dicom',
        'Content-Disposition': `attachment; filename="${object}-${studyId}.dcm"`,
        'Cache-Control': 'private, no-store',
        'X-SOP-Instance-UID': written.sopInstanceUid,
      });
    });
  }

  app.openapi(postSend, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, SENDER_ROLES, 'send reports');
    const { studyId } = c.req.valid('param');
    await authorizeStudy(deps.db, principal, studyId, 'send reports');
    const peer = c.req.valid('json');
    const where = `${peer.calledAeTitle}@${peer.host}:${peer.port}`;
    // Only configured PACS peers: an API call must not make the server open connections anywhere.
    if (
      !isConfiguredPeer(deps.dicomPeers ?? [], {
        aeTitle: peer.calledAeTitle,
        host: peer.host,
        port: peer.port,
      })
    ) {
      throw new DomainError('FORBIDDEN', `${where} is not a configured DICOM peer (NODUS_DICOM_PEERS)`, {
        context: { reason: 'peer' },
      });
    }
    const { report, version } = await buildSignedOffReport(deps, studyId);
    const objects = [
      { object: 'sr' as const, written: report.sr },
      ...(report.seg ? [{ object: 'seg' as const, written: report.seg }] : []),
    ];
    const record = (details: Record<string, unknown>) =>
      audit(c, deps.db, {
        action: 'report.sent',
        resourceType: 'study',
        resourceId: studyId,
        details: { peer: where, version, ...details },
      });
    let results: PeerStoreResult[];
    try {
      results = await storeToPeer(
        peer,
        objects.map((o) => o.written.bytes),
      );
    } catch (error) {
      await record({
        outcome: 'unavailable',
        reason: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    const sent = results.map((result, n) => ({ object: objects[n]!.object, ...result }));
    const refused = sent.filter((s) => s.outcome === 'failed' || s.outcome === 'not-sent');
    await record({ outcome: refused.length === 0 ? 'stored' : 'refused', objects: sent });
    if (refused.length > 0) {
      const reasons = refused.map(
        (s) =>
          `${s.object} ${s.outcome}${s.status === null ? '' : ` (status 0x${s.status.toString(16).padStart(4, '0')})`}${s.errorComment ? `: ${s.errorComment}` : ''}`,
      );
      throw new DomainError('DEPENDENCY_UNAVAILABLE', `DICOM peer ${where} refused: ${reasons.join('; ')}`, {
        context: { peer: where, objects: sent },
      });
    }
    return c.json({ peer: where, objects: sent }, 200);
  });

  return app;
}
