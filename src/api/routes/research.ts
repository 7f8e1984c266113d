import path from 'node:path';
import { Readable } from 'node:stream';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { withoutInternalReferences } from '../../access/internal-references.js';
import { requireRole } from '../../access/policy.js';
import type { Principal } from '../../access/principal.js';
import type { Database } from '../../db/client.js';
import { previewCohort } from '../../db/repositories/cohort-members.js';
import { createSnapshotRow, snapshotById } from '../../db/repositories/cohort-snapshots.js';
import {
  addLabel,
  cohortById,
  createProject,
  createVocabulary,
  listLabels,
  listProjects,
  listVocabularies,
  projectById,
  saveCohort,
} from '../../db/repositories/research.js';
import { CohortDefinitionSchema } from '../../research/cohort-definition.js';
import { frozenSnapshotFiles, loadFrozenSnapshot } from '../../research/cohort-snapshot.js';
import { tarArchive } from '../../research/export/tar-archive.js';
import { snapshotAgreement } from '../../research/snapshot-agreement.js';
import { DomainError } from '../../shared/errors.js';
import { LABEL_EVIDENCE, LABEL_SOURCES, LABEL_TARGETS, VOCABULARY_KINDS } from '../../shared/research.js';
import type { UserRole } from '../../shared/roles.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { ResearchWorkflows } from '../../temporal/research-workflows.js';
import { principalOf, type AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { errorResponse } from '../schemas.js';
import { authorizeStudy } from '../study-access.js';

/** Who builds cohorts and exports them. */
const RESEARCH_ROLES: readonly UserRole[] = ['researcher', 'admin'];
/** Who may label: researchers and radiologists (readers), admins. */
const LABELLING_ROLES: readonly UserRole[] = ['researcher', 'radiologist', 'admin'];

export interface ResearchRouteDeps {
  db: Database;
  blobs: BlobStore;
  /** NODUS_DEID_KEY; snapshots and exports are refused without it. */
  deidentificationKey?: string | undefined;
  /** Freeze and export workflows; without them (tests of other routes) snapshot routes answer 503. */
  workflows?: ResearchWorkflows | undefined;
  /** Folder the export workflow writes into (`<dir>/<snapshotId>`). */
  exportDir?: string | undefined;
}

const security = [{ bearer: [] }];
const errors = {
  400: errorResponse('Invalid request or cohort definition'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Not a researcher or admin'),
  404: errorResponse('Unknown project, cohort or snapshot'),
};
const id = (name: string) => z.guid().openapi({ param: { name, in: 'path' } });
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const body = <T extends z.ZodTypeAny>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});
const Loose = z.record(z.string(), z.unknown());

const ProjectInput = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes')
    .openapi({ example: 'screening-cohort-2026' }),
  description: z.string().max(2000).optional(),
});
const VocabularyInput = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, dot, dash, underscore'),
  target: z.enum(LABEL_TARGETS),
  kind: z.enum(VOCABULARY_KINDS),
  codes: z
    .array(z.object({ code: z.string().min(1).max(64), meaning: z.string().min(1).max(200) }))
    .max(200)
    .optional(),
  unit: z.string().max(32).optional(),
});
const LabelInput = z
  .object({
    vocabulary: z.string().min(1).max(64),
    studyId: z.guid(),
    noduleId: z.guid().optional(),
    code: z.string().min(1).max(64).optional(),
    number: z.number().finite().optional(),
    source: z.enum(LABEL_SOURCES),
    model: z.string().max(128).optional(),
    evidence: z.enum(LABEL_EVIDENCE),
    note: z.string().max(2000).optional(),
  })
  .openapi('LabelInput');
const CohortInput = z.object({
  name: z.string().min(1).max(200),
  definition: CohortDefinitionSchema.openapi('CohortDefinition'),
});
const Preview = z.object({
  studies: z.number().int(),
  patients: z.number().int(),
  nodules: z.number().int(),
  byCategory: z.record(z.string(), z.number().int()),
});

const routes = {
  createProject: createRoute({
    method: 'post',
    path: '/api/projects',
    summary: 'Creates a research project (the scope of vocabularies, cohorts and pseudonyms)',
    security,
    request: body(ProjectInput),
    responses: { 201: json(Loose, 'The project'), ...errors, 409: errorResponse('The name is taken') },
  }),
  listProjects: createRoute({
    method: 'get',
    path: '/api/projects',
    summary: 'Research projects',
    security,
    responses: { 200: json(z.array(Loose), 'Projects by name'), ...errors },
  }),
  createVocabulary: createRoute({
    method: 'post',
    path: '/api/projects/{projectId}/vocabularies',
    summary: 'Adds a label vocabulary (codes, or numbers in a unit) to a project',
    security,
    request: { params: z.object({ projectId: id('projectId') }), ...body(VocabularyInput) },
    responses: { 201: json(Loose, 'The vocabulary'), ...errors, 409: errorResponse('The name is taken') },
  }),
  listVocabularies: createRoute({
    method: 'get',
    path: '/api/projects/{projectId}/vocabularies',
    summary: "A project's label vocabularies",
    security,
    request: { params: z.object({ projectId: id('projectId') }) },
    responses: { 200: json(z.array(Loose), 'Vocabularies by name'), ...errors },
  }),
  addLabel: createRoute({
    method: 'post',
    path: '/api/projects/{projectId}/labels',
    summary: 'Labels a study or nodule, with provenance (model, reader or consensus) and evidence',
    security,
    request: { params: z.object({ projectId: id('projectId') }), ...body(LabelInput) },
    responses: { 201: json(Loose, 'The label'), ...errors },
  }),
  listLabels: createRoute({
    method: 'get',
    path: '/api/projects/{projectId}/labels',
    summary: "A project's labels with their provenance, oldest first (of one study with ?studyId=)",
    security,
    request: {
      params: z.object({ projectId: id('projectId') }),
      query: z.object({ studyId: z.guid().optional() }),
    },
    responses: { 200: json(z.array(Loose), 'Labels'), ...errors },
  }),
  previewCohort: createRoute({
    method: 'post',
    path: '/api/projects/{projectId}/cohorts/preview',
    summary: 'Counts what a cohort definition selects, before it is saved',
    security,
    request: {
      params: z.object({ projectId: id('projectId') }),
      ...body(z.object({ definition: CohortDefinitionSchema })),
    },
    responses: { 200: json(Preview, 'Counts'), ...errors },
  }),
  saveCohort: createRoute({
    method: 'post',
    path: '/api/projects/{projectId}/cohorts',
    summary: 'Saves a named cohort definition',
    security,
    request: { params: z.object({ projectId: id('projectId') }), ...body(CohortInput) },
    responses: {
      201: json(z.object({ cohort: Loose, preview: Preview }), 'The cohort and its counts now'),
      ...errors,
      409: errorResponse('The name is taken'),
    },
  }),
  getCohort: createRoute({
    method: 'get',
    path: '/api/cohorts/{cohortId}',
    summary: 'A cohort with its counts now',
    security,
    request: { params: z.object({ cohortId: id('cohortId') }) },
    responses: { 200: json(z.object({ cohort: Loose, preview: Preview }), 'The cohort'), ...errors },
  }),
  freeze: createRoute({
    method: 'post',
    path: '/api/cohorts/{cohortId}/snapshots',
    summary: 'Freezes the cohort as it is now into an immutable snapshot (a workflow; poll the snapshot)',
    security,
    request: { params: z.object({ cohortId: id('cohortId') }) },
    responses: { 202: json(Loose, 'The snapshot, freezing'), ...errors, 503: errorResponse('No workflows') },
  }),
  getSnapshot: createRoute({
    method: 'get',
    path: '/api/snapshots/{snapshotId}',
    summary: 'A snapshot: freezing, frozen (counts, manifest hash) or failed (reason)',
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: { 200: json(Loose, 'The snapshot'), ...errors },
  }),
  getManifest: createRoute({
    method: 'get',
    path: '/api/snapshots/{snapshotId}/manifest',
    summary: "A frozen snapshot's manifest: every export file with its size and SHA-256",
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: { 200: json(Loose, 'manifest.json'), ...errors, 409: errorResponse('Not frozen') },
  }),
  getArchive: createRoute({
    method: 'get',
    path: '/api/snapshots/{snapshotId}/archive',
    summary: 'The export of a frozen snapshot as a tar stream (the same bytes every time)',
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: {
      200: {
        content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } },
        description: 'tar: manifest.json, tables, luna16/, monai/, subjects/',
      },
      ...errors,
      409: errorResponse('Not frozen'),
    },
  }),
  startExport: createRoute({
    method: 'post',
    path: '/api/snapshots/{snapshotId}/exports',
    summary: "Writes a frozen snapshot's export into the server's export folder (a resumable workflow)",
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: { 202: json(Loose, 'Started'), ...errors, 409: errorResponse('Not frozen') },
  }),
  exportStatus: createRoute({
    method: 'get',
    path: '/api/snapshots/{snapshotId}/exports',
    summary: "The snapshot's export: running (files done of total), completed or failed",
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: { 200: json(Loose, 'Status and progress'), ...errors },
  }),
  agreement: createRoute({
    method: 'get',
    path: '/api/snapshots/{snapshotId}/agreement',
    summary:
      "Reader agreement in a frozen snapshot: Cohen's (2 readers) and Fleiss' kappa on category labels, ICC on number labels",
    security,
    request: { params: z.object({ snapshotId: id('snapshotId') }) },
    responses: { 200: json(Loose, 'Per vocabulary'), ...errors, 409: errorResponse('Not frozen') },
  }),
};

/** Research: projects, label vocabularies, labels, cohorts, snapshots and their exports. */
export function researchRoutes(deps: ResearchRouteDeps) {
  const app = new OpenAPIHono<AppEnv>();
  const researcher = (principal: Principal, what: string) => requireRole(principal, RESEARCH_ROLES, what);
  const scope = (principal: Principal, projectId: string) => ({
    projectId,
    institutionIds: principal.role === 'admin' ? undefined : principal.institutionIds,
  });
  const workflows = () => {
    if (!deps.workflows || !deps.exportDir) {
      throw new DomainError('DEPENDENCY_UNAVAILABLE', 'research workflows are not configured on this server');
    }
    return { workflows: deps.workflows, exportDir: deps.exportDir };
  };
  const frozen = (snapshotId: string) => loadFrozenSnapshot(deps, snapshotId);
  // Researchers see no storage paths, blob keys or source UIDs: not the export folder, not in failure reasons.
  const admin = (principal: Principal) => principal.role === 'admin';
  const reason = (principal: Principal, text: string) =>
    admin(principal) ? text : withoutInternalReferences(text);
  const snapshotDeps = { db: deps.db, blobs: deps.blobs, deidentificationKey: deps.deidentificationKey };

  app.openapi(routes.createProject, async (c) => {
    researcher(principalOf(c), 'create research projects');
    return c.json(await createProject(deps.db, c.req.valid('json')), 201);
  });
  app.openapi(routes.listProjects, async (c) => {
    requireRole(principalOf(c), LABELLING_ROLES, 'list research projects');
    return c.json(await listProjects(deps.db), 200);
  });
  app.openapi(routes.createVocabulary, async (c) => {
    researcher(principalOf(c), 'manage label vocabularies');
    const { projectId } = c.req.valid('param');
    return c.json(await createVocabulary(deps.db, projectId, c.req.valid('json')), 201);
  });
  app.openapi(routes.listVocabularies, async (c) => {
    requireRole(principalOf(c), LABELLING_ROLES, 'read label vocabularies');
    const { projectId } = c.req.valid('param');
    await projectById(deps.db, projectId);
    return c.json(await listVocabularies(deps.db, projectId), 200);
  });
  app.openapi(routes.addLabel, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, LABELLING_ROLES, 'label studies');
    const { projectId } = c.req.valid('param');
    const input = c.req.valid('json');
    await authorizeStudy(deps.db, principal, input.studyId, 'label studies');
    await projectById(deps.db, projectId);
    const label = await addLabel(deps.db, projectId, principal.userId, input);
    await audit(c, deps.db, {
      action: 'label.added',
      resourceType: 'study',
      resourceId: input.studyId,
      details: { projectId, labelId: label.id, vocabulary: input.vocabulary },
    });
    return c.json(label, 201);
  });
  app.openapi(routes.listLabels, async (c) => {
    const principal = principalOf(c);
    requireRole(principal, LABELLING_ROLES, 'read labels');
    const { projectId } = c.req.valid('param');
    const { studyId } = c.req.valid('query');
    await projectById(deps.db, projectId);
    if (studyId) await authorizeStudy(deps.db, principal, studyId, 'read labels');
    const institutionIds = principal.role === 'admin' ? undefined : principal.institutionIds;
    return c.json(await listLabels(deps.db, projectId, { studyId, institutionIds }), 200);
  });
  app.openapi(routes.previewCohort, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'preview cohorts');
    const { projectId } = c.req.valid('param');
    await projectById(deps.db, projectId);
    const { definition } = c.req.valid('json');
    return c.json(await previewCohort(deps.db, definition, scope(principal, projectId)), 200);
  });
  app.openapi(routes.saveCohort, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'save cohorts');
    const { projectId } = c.req.valid('param');
    await projectById(deps.db, projectId);
    const input = c.req.valid('json');
    // Preview first: an invalid definition (unknown vocabulary or code) is refused before it is saved.
    const preview = await previewCohort(deps.db, input.definition, scope(principal, projectId));
    const cohort = await saveCohort(deps.db, projectId, principal.userId, input);
    return c.json({ cohort, preview }, 201);
  });
  app.openapi(routes.getCohort, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'read cohorts');
    const cohort = await cohortById(deps.db, c.req.valid('param').cohortId);
    const preview = await previewCohort(deps.db, cohort.definition, scope(principal, cohort.projectId));
    return c.json({ cohort, preview }, 200);
  });
  app.openapi(routes.freeze, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'freeze cohorts');
    if (!deps.deidentificationKey) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'NODUS_DEID_KEY is not set on this server: nothing can be exported',
      );
    }
    const { workflows: research } = workflows();
    const {
      dataBlobKey: _data,
      manifestBlobKey: _manifest,
      ...snapshot
    } = await createSnapshotRow(deps.db, c.req.valid('param').cohortId, principal.userId);
    await research.startFreeze(snapshot.id);
    await audit(c, deps.db, {
      action: 'cohort.snapshot',
      resourceType: 'cohort',
      resourceId: snapshot.cohortId,
      details: { snapshotId: snapshot.id },
    });
    return c.json(snapshot, 202);
  });
  app.openapi(routes.getSnapshot, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'read snapshots');
    const { snapshot } = await snapshotById(deps.db, c.req.valid('param').snapshotId);
    const { dataBlobKey: _data, manifestBlobKey: _manifest, ...shown } = snapshot;
    return c.json({ ...shown, error: shown.error === null ? null : reason(principal, shown.error) }, 200);
  });
  app.openapi(routes.getManifest, async (c) => {
    researcher(principalOf(c), 'read snapshots');
    return c.json((await frozen(c.req.valid('param').snapshotId)).manifest, 200);
  });
  app.openapi(routes.getArchive, async (c) => {
    researcher(principalOf(c), 'export snapshots');
    const { snapshotId } = c.req.valid('param');
    const snapshot = await frozen(snapshotId);
    const stream = tarArchive(frozenSnapshotFiles(snapshotDeps, snapshot), snapshot.manifest);
    await audit(c, deps.db, {
      action: 'snapshot.exported',
      resourceType: 'snapshot',
      resourceId: snapshotId,
      details: { as: 'archive', files: snapshot.manifest.files.length },
    });
    return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
      'Content-Type': 'application/x-tar',
      'Content-Disposition': `attachment; filename="${snapshot.manifest.project}-${snapshotId}.tar"`,
      'Cache-Control': 'private, no-store',
    });
  });
  app.openapi(routes.startExport, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'export snapshots');
    const { snapshotId } = c.req.valid('param');
    const { workflows: research, exportDir } = workflows();
    await frozen(snapshotId);
    const outDir = path.join(exportDir, snapshotId);
    await research.startExport(snapshotId, outDir);
    await audit(c, deps.db, {
      action: 'snapshot.exported',
      resourceType: 'snapshot',
      resourceId: snapshotId,
      details: { as: 'folder', outDir },
    });
    return c.json({ snapshotId, ...(admin(principal) && { outDir }), status: 'running' }, 202);
  });
  app.openapi(routes.exportStatus, async (c) => {
    const principal = principalOf(c);
    researcher(principal, 'read exports');
    const { snapshotId } = c.req.valid('param');
    const { workflows: research, exportDir } = workflows();
    await snapshotById(deps.db, snapshotId);
    const { error, ...status } = await research.exportStatus(snapshotId);
    return c.json(
      {
        ...(admin(principal) && { outDir: path.join(exportDir, snapshotId) }),
        ...status,
        ...(error !== undefined && { error: reason(principal, error) }),
      },
      200,
    );
  });
  app.openapi(routes.agreement, async (c) => {
    researcher(principalOf(c), 'read reader agreement');
    return c.json(snapshotAgreement((await frozen(c.req.valid('param').snapshotId)).data), 200);
  });
  return app;
}
