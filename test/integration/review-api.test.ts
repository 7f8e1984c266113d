import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { assessSeriesForReview } from '../../src/db/repositories/study-reviews.js';
import { auditEvents, reviewActions, series, studyReviews } from '../../src/db/schema/index.js';
import type { UserRole } from '../../src/shared/roles.js';
import { callerWithRole, type authorized } from '../fixtures/authorized.js';
import { seedScreenedStudy, type SeededNodule } from '../fixtures/screened-study.js';
import { connectTestServices, testLogger } from './services.js';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument
   -- response bodies are loosely typed JSON here; the assertions check their shape. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('review API on real PostgreSQL: worklist, study detail, review actions, access and audit', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let api: ReturnType<typeof createApp>;
  const run = randomUUID().slice(0, 8);
  const A = `HOSP-A-${run}`;
  const B = `HOSP-B-${run}`;
  const callers = {} as Record<
    'radiologistA' | 'radiologistB' | 'researcherA' | 'programmeA',
    ReturnType<typeof authorized> & { userId: string }
  >;

  const caller = (role: UserRole, institution: string) =>
    callerWithRole(
      services.database.db,
      api,
      role,
      institution,
      `${role}-${institution}@example.org`.toLowerCase(),
    );

  const post = (who: ReturnType<typeof authorized>, studyId: string, body: unknown) =>
    who.request(`/api/studies/${studyId}/review-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    services = await connectTestServices();
    api = createApp({
      db: services.database.db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: {} as AppDeps['ingest'],
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    callers.radiologistA = await caller('radiologist', A);
    callers.radiologistB = await caller('radiologist', B);
    callers.researcherA = await caller('researcher', A);
    callers.programmeA = await caller('programme', A);
  });

  afterAll(async () => {
    await services?.close();
  });

  const solid = (longAxisMm: number, shortAxisMm = longAxisMm, x = 50) => ({
    centreLps: [x, 20, -100] as [number, number, number],
    longAxisMm,
    shortAxisMm,
    type: 'solid' as const,
  });

  it('orders the worklist by Lung-RADS category then waiting time, filters it and pages it by cursor', async () => {
    const db = services.database.db;
    const seeded = [];
    for (const nodules of [[solid(9)], [solid(4)], [solid(16)], []]) {
      seeded.push(await seedScreenedStudy(db, { institutionCode: A, studyDate: '2025-03-01', nodules }));
    }
    expect(seeded.map((s) => s.outcome)).toMatchObject([
      { assessed: true, category: '4A' },
      { assessed: true, category: '2' },
      { assessed: true, category: '4B' },
      { assessed: true, category: '1' },
    ]);
    const first = (await (
      await callers.radiologistA.request(`/api/worklist?institution=${A}&limit=2`)
    ).json()) as Json;
    expect(first.items.map((i: Json) => i.category)).toEqual(['4B', '4A']);
    expect(first.items[0].identity).toMatchObject({ patientName: 'Doe^Jane' });
    const second = (await (
      await callers.radiologistA.request(`/api/worklist?institution=${A}&limit=2&cursor=${first.nextCursor}`)
    ).json()) as Json;
    expect(second.items.map((i: Json) => i.category)).toEqual(['2', '1']);
    expect(second.nextCursor).toBeNull();
    const suspicious = (await (
      await callers.radiologistA.request(`/api/worklist?institution=${A}&category=4A,4B`)
    ).json()) as Json;
    expect(suspicious.items).toHaveLength(2);
    const bad = await callers.radiologistA.request('/api/worklist?category=5&cursor=zzz');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error.message).toMatch(/category/);
    const forged = await callers.radiologistA.request('/api/worklist?cursor=bm90LWEtY3Vyc29y');
    expect(forged.status).toBe(400);
    // Another institution's radiologist sees none of them.
    const other = (await (
      await callers.radiologistB.request(`/api/worklist?institution=${A}`)
    ).json()) as Json;
    expect(other.items).toEqual([]);
  });

  it("refuses another institution's study with 403 and records the attempt", async () => {
    const { studyId } = await seedScreenedStudy(services.database.db, {
      institutionCode: A,
      studyDate: '2025-03-02',
      nodules: [solid(7)],
    });
    const refused = await callers.radiologistB.request(`/api/studies/${studyId}`);
    expect(refused.status).toBe(403);
    const denied = await services.database.db
      .select()
      .from(auditEvents)
      .where(
        and(
          eq(auditEvents.actorUserId, callers.radiologistB.userId),
          eq(auditEvents.action, 'access.denied'),
        ),
      );
    expect(denied.length).toBeGreaterThan(0);
    expect(denied[0]?.resourceId).toBe(`GET /api/studies/${studyId}`);
    expect((await callers.radiologistA.request(`/api/studies/${randomUUID()}`)).status).toBe(404);
    const noToken = await api.request(`/api/studies/${studyId}`);
    expect(noToken.status).toBe(401);
  });

  it('shows researchers no identifying data and audits every read', async () => {
    const { studyId } = await seedScreenedStudy(services.database.db, {
      institutionCode: A,
      studyDate: '2025-03-03',
      nodules: [solid(6.5)],
    });
    const detail = await callers.researcherA.request(`/api/studies/${studyId}`);
    const text = await detail.text();
    expect(detail.status).toBe(200);
    expect(text).not.toMatch(/Doe\^Jane|1956-03-04|ACC[0-9a-f]{6}|2025-03-03/);
    expect(JSON.parse(text)).toMatchObject({ identity: null, review: { category: '3' } });
    const list = await (await callers.researcherA.request(`/api/worklist?institution=${A}`)).text();
    expect(list).not.toMatch(/Doe\^Jane|1956-03-04|ACC[0-9a-f]{6}/);
    const reads = await services.database.db
      .select()
      .from(auditEvents)
      .where(
        and(eq(auditEvents.actorUserId, callers.researcherA.userId), eq(auditEvents.resourceId, studyId)),
      );
    expect(reads.map((r) => r.action)).toContain('study.read');
    expect(reads[0]?.requestId).toBeTruthy();
  });

  it('applies review actions with optimistic locking, recomputes Lung-RADS and keeps an immutable log', async () => {
    const db = services.database.db;
    const { studyId, seriesId } = await seedScreenedStudy(db, {
      institutionCode: A,
      studyDate: '2025-03-04',
      nodules: [solid(9, 8), solid(5, 4, -60)],
    });
    const rad = callers.radiologistA;
    const detail = (await (await rad.request(`/api/studies/${studyId}`)).json()) as Json;
    expect(detail.review).toMatchObject({ version: 0, status: 'ready', category: '4A', aiCategory: '4A' });
    expect(detail.review.lungRads.rules.join('\n')).toMatch(/solid.baseline.8-15mm/);
    const [big, small] = detail.nodules as Json[];

    const accepted = await post(rad, studyId, { action: 'accept', version: 0, noduleId: big!.noduleId });
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toMatchObject({ version: 1, status: 'in-review', category: '4A' });
    // A second reader acting on version 0 conflicts and changes nothing.
    const stale = await post(rad, studyId, {
      action: 'reject',
      version: 0,
      noduleId: small!.noduleId,
      reason: 'vessel',
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as Json).error.code).toBe('CONFLICT');

    const edited = await post(rad, studyId, {
      action: 'edit',
      version: 1,
      noduleId: big!.noduleId,
      changes: { longAxisMm: 16.4, shortAxisMm: 15.2 },
    });
    expect(await edited.json()).toMatchObject({
      version: 2,
      category: '4B',
      nodule: { meanDiameterMm: 15.8, edited: true },
    });
    // Inconsistent measurements are refused and leave the study at version 2.
    const inconsistent = await post(rad, studyId, {
      action: 'edit',
      version: 2,
      noduleId: big!.noduleId,
      changes: { shortAxisMm: 30 },
    });
    expect(inconsistent.status).toBe(400);
    const unknownNodule = await post(rad, studyId, { action: 'accept', version: 2, noduleId: randomUUID() });
    expect(unknownNodule.status).toBe(404);
    const [afterFailures] = await db.select().from(studyReviews).where(eq(studyReviews.studyId, studyId));
    expect(afterFailures?.version).toBe(2);

    const missingReason = await post(rad, studyId, {
      action: 'reject',
      version: 2,
      noduleId: small!.noduleId,
    });
    expect(missingReason.status).toBe(400);
    expect(JSON.stringify(await missingReason.json())).toMatch(/reason/);

    // Sign-off waits until every AI nodule is decided.
    const early = await post(rad, studyId, { action: 'sign-off', version: 2, finalCategory: '4B' });
    expect(early.status).toBe(409);
    expect(
      (
        await post(rad, studyId, {
          action: 'reject',
          version: 2,
          noduleId: small!.noduleId,
          reason: 'vessel',
        })
      ).status,
    ).toBe(201);
    const added = await post(rad, studyId, {
      action: 'add',
      version: 3,
      seriesId,
      nodule: {
        centreLps: [10, 10, -90],
        longAxisMm: 7,
        shortAxisMm: 5,
        type: 'part-solid',
        solidComponentMm: 3,
      },
    });
    expect(await added.json()).toMatchObject({ version: 4, nodule: { origin: 'reader', meanDiameterMm: 6 } });
    expect(
      (await post(callers.programmeA, studyId, { action: 'sign-off', version: 4, finalCategory: '4B' }))
        .status,
    ).toBe(403);
    const signed = await post(rad, studyId, {
      action: 'sign-off',
      version: 4,
      finalCategory: '4B',
      comment: 'PET/CT',
    });
    expect(await signed.json()).toMatchObject({ version: 5, status: 'signed-off', finalCategory: '4B' });
    const afterSignOff = await post(rad, studyId, { action: 'accept', version: 5, noduleId: big!.noduleId });
    expect(afterSignOff.status).toBe(409);

    const log = (await (await rad.request(`/api/studies/${studyId}/review-actions`)).json()) as Json;
    expect(log.actions.map((a: Json) => [a.action, a.studyVersion, a.actorUserId])).toEqual([
      ['accept', 1, rad.userId],
      ['edit', 2, rad.userId],
      ['reject', 3, rad.userId],
      ['add', 4, rad.userId],
      ['sign-off', 5, rad.userId],
    ]);
    expect(await db.select().from(reviewActions).where(eq(reviewActions.studyId, studyId))).toHaveLength(5);
    // The AI run's assessment never overwrites a reviewed study.
    const [ct] = await db.select().from(series).where(eq(series.id, seriesId));
    expect(await assessSeriesForReview(db, ct!.seriesInstanceUid)).toMatchObject({
      assessed: false,
      reason: 'signed-off',
    });
  });

  it("keeps a caliper's end points with its lengths, clears them when a length is typed, refuses ones that disagree", async () => {
    const db = services.database.db;
    // An axial caliper at z = -100: long axis along x, short along y (LPS mm).
    const caliper = (long: number, short: number) => ({
      long: [
        [50 - long / 2, 20, -100],
        [50 + long / 2, 20, -100],
      ],
      short: [
        [50, 20 - short / 2, -100],
        [50, 20 + short / 2, -100],
      ],
    });
    const { studyId } = await seedScreenedStudy(db, {
      institutionCode: A,
      studyDate: '2025-05-06',
      nodules: [{ ...solid(9, 8), axesLps: caliper(9, 8) as SeededNodule['axesLps'] }],
    });
    const rad = callers.radiologistA;
    const nodule = async () =>
      ((await (await rad.request(`/api/studies/${studyId}`)).json()) as Json).nodules[0] as Json;
    const first = await nodule();
    // The AI's axes come with its nodule.
    expect(first.axesLps).toEqual(caliper(9, 8));
    expect(first.ai.axesLps).toEqual(caliper(9, 8));

    const measured = await post(rad, studyId, {
      action: 'edit',
      version: 0,
      noduleId: first.noduleId,
      changes: { longAxisMm: 10.4, shortAxisMm: 7.1, axesLps: caliper(10.4, 7.1) },
    });
    expect(measured.status).toBe(201);
    expect((await nodule()).axesLps).toEqual(caliper(10.4, 7.1));
    // A caliper 2 mm longer than the length stated with it, or with skewed axes, is refused.
    for (const axesLps of [
      caliper(12.4, 7.1),
      {
        ...caliper(10.4, 7.1),
        short: [
          [48, 18, -100],
          [53, 23, -100],
        ],
      },
    ]) {
      const refused = await post(rad, studyId, {
        action: 'edit',
        version: 1,
        noduleId: first.noduleId,
        changes: { longAxisMm: 10.4, shortAxisMm: 7.1, axesLps },
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as Json).error.message).toMatch(/caliper/);
    }
    // The type alone keeps the axes; a typed length clears them (they would disagree).
    await post(rad, studyId, {
      action: 'edit',
      version: 1,
      noduleId: first.noduleId,
      changes: { type: 'solid' },
    });
    expect((await nodule()).axesLps).toEqual(caliper(10.4, 7.1));
    await post(rad, studyId, {
      action: 'edit',
      version: 2,
      noduleId: first.noduleId,
      changes: { longAxisMm: 11 },
    });
    expect(await nodule()).toMatchObject({ longAxisMm: 11, shortAxisMm: 7.1, axesLps: null });
  });

  it('compares with the prior study: a solid nodule growing past 8 mm is 4B', async () => {
    const db = services.database.db;
    const patientId = `PRIOR-${run}`;
    await seedScreenedStudy(db, {
      institutionCode: A,
      patientId,
      studyDate: '2024-03-01',
      nodules: [solid(7)],
    });
    const current = await seedScreenedStudy(db, {
      institutionCode: A,
      patientId,
      studyDate: '2025-02-20',
      nodules: [solid(9, 9, 51)],
    });
    expect(current.outcome).toMatchObject({ category: '4B' });
    const detail = (await (
      await callers.radiologistA.request(`/api/studies/${current.studyId}`)
    ).json()) as Json;
    expect(detail.review.lungRads.prior).toMatchObject({ studyDate: '2024-03-01' });
    expect(Object.values(detail.review.lungRads.statuses)).toEqual(['growing']);
    expect(detail.priors).toHaveLength(1);
  });

  it('gives a study whose only series was rejected by the quality gate category 0', async () => {
    const db = services.database.db;
    const seeded = await seedScreenedStudy(db, { institutionCode: A, studyDate: '2025-03-05', nodules: [] });
    await db
      .update(series)
      .set({
        status: 'rejected',
        quality: [
          { code: 'INCOMPLETE_LUNG_COVERAGE', severity: 'reject', message: 'lung apices not imaged' },
        ],
      })
      .where(eq(series.id, seeded.seriesId));
    const outcome = await assessSeriesForReview(db, seeded.seriesInstanceUid);
    expect(outcome).toMatchObject({ assessed: true, category: '0' });
    const detail = (await (
      await callers.radiologistA.request(`/api/studies/${seeded.studyId}`)
    ).json()) as Json;
    expect(detail.review.lungRads.rules.join('\n')).toMatch(/INCOMPLETE_LUNG_COVERAGE/);
  });
});
