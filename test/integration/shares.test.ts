import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { auditEvents, shareOpenings, shares, studies } from '../../src/db/schema/index.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { DomainError } from '../../src/shared/errors.js';
import { offerToConsortium } from '../../src/sharing/offer-to-consortium.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { callerWithRole, seedTestAdminToken, authorized } from '../fixtures/authorized.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { seedScreenedStudy } from '../fixtures/screened-study.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument
   -- response bodies are loosely typed JSON here; the assertions check their shape. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DICOM_JSON = { accept: 'application/dicom+json' };

describe.skipIf(!sampleDir)(
  'shares on real PostgreSQL: patient links, institution second reads, isolation',
  () => {
    let services: Awaited<ReturnType<typeof connectTestServices>>;
    let api: ReturnType<typeof createApp>;
    let guarded: ReturnType<typeof createApp>;
    const tag = `SH${Date.now().toString(36)}`;
    const sender = `Share Sender ${tag}`;
    const other = `Share Other ${tag}`;
    const hub = `SHARE-HUB-${tag}`;
    const patientId = `${tag}-P1`;
    /** The shared study (two series), the same patient's prior, and another institution's study. */
    const uids = {
      study: testUid(),
      ct: testUid(),
      scout: testUid(),
      prior: testUid(),
      priorSeries: testUid(),
      foreign: testUid(),
      foreignSeries: testUid(),
    };
    const sops = { ct: [] as string[], scout: '', prior: '', foreign: '' };
    let studyId: string;
    let radiologist: Awaited<ReturnType<typeof callerWithRole>>;

    beforeAll(async () => {
      services = await connectTestServices();
      const blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-shares-'));
      const ingest: IngestDeps = {
        db: services.database.db,
        blobs: new FilesystemBlobStore(blobDir),
        notifySeries: () => Promise.resolve(),
      };
      // Every request of app.request() comes from the same (unknown) address: its failures are not limited
      // here, but in the guessing test's own app.
      const app = (maxFailures: number) =>
        createApp({
          db: services.database.db,
          seriesWorkflows: {} as AppDeps['seriesWorkflows'],
          ingest,
          logger: testLogger,
          readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
          authFailures: { maxFailures, windowMs: 60_000 },
        });
      api = app(10_000);
      guarded = app(6);
      const files = await lidcSlices(40, 4);
      const store = async (
        bytes: Uint8Array,
        ids: { study: string; series: string; sop: string },
        extra: {
          institutionName: string;
          patientId: string;
          studyDate: string;
          seriesNumber?: number;
          instanceNumber?: number;
        },
      ) =>
        storeInstance(
          ingest,
          relabelledInstance(bytes, {
            studyInstanceUid: ids.study,
            seriesInstanceUid: ids.series,
            sopInstanceUid: ids.sop,
            patientName: 'Doe^Jane',
            accessionNumber: `ACC-${tag}`,
            ...extra,
          }),
          'test',
        );
      for (const [n, bytes] of files.slice(0, 3).entries()) {
        const sop = testUid();
        sops.ct.push(sop);
        await store(
          bytes,
          { study: uids.study, series: uids.ct, sop },
          {
            institutionName: sender,
            patientId,
            studyDate: '20260301',
            seriesNumber: 2,
            instanceNumber: n + 1,
          },
        );
      }
      sops.scout = testUid();
      await store(
        files[3]!,
        { study: uids.study, series: uids.scout, sop: sops.scout },
        {
          institutionName: sender,
          patientId,
          studyDate: '20260301',
          seriesNumber: 1,
        },
      );
      sops.prior = testUid();
      await store(
        files[0]!,
        { study: uids.prior, series: uids.priorSeries, sop: sops.prior },
        {
          institutionName: sender,
          patientId,
          studyDate: '20250301',
        },
      );
      sops.foreign = testUid();
      await store(
        files[1]!,
        { study: uids.foreign, series: uids.foreignSeries, sop: sops.foreign },
        {
          institutionName: other,
          patientId: `${tag}-P2`,
          studyDate: '20260302',
        },
      );
      const [row] = await services.database.db
        .select({ id: studies.id })
        .from(studies)
        .where(eq(studies.studyInstanceUid, uids.study));
      studyId = row!.id;
      radiologist = await callerWithRole(services.database.db, api, 'radiologist', institutionCode(sender));
    }, 120_000);

    afterAll(async () => {
      await services?.close();
    });

    const share = async (body: Json, who = radiologist, id = studyId) => {
      const response = await who.request(`/api/studies/${id}/shares`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { response, body: (await response.json()) as Json };
    };
    const secretOf = (url: string) => new URL(url).pathname.split('/').pop()!;

    /** Opens a link as a phone would: the film session's cookie and CSRF token. */
    const open = async (url: string, factor: Json = {}, userAgent = 'Mozilla/5.0 (iPhone) test') => {
      const response = await api.request('/api/film/open', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body: JSON.stringify({ secret: secretOf(url), ...factor }),
      });
      const setCookie = response.headers.get('set-cookie') ?? '';
      const cookie = /nodus_film=([^;]+)/.exec(setCookie)?.[1];
      const body = (await response.json()) as Json;
      const film = (input: string, init: RequestInit = {}) =>
        api.request(input, {
          ...init,
          headers: {
            cookie: `nodus_film=${cookie}`,
            'x-csrf-token': body.csrfToken ?? '',
            ...(init.headers as Record<string, string> | undefined),
          },
        });
      return { response, body, setCookie, film };
    };

    it("lets only radiologists and admins of the study's institution share, and answers the link and its QR code", async () => {
      const db = services.database.db;
      const programme = await callerWithRole(db, api, 'programme', institutionCode(sender));
      const outsider = await callerWithRole(db, api, 'radiologist', institutionCode(other));
      expect((await share({ audience: 'patient' }, programme)).response.status).toBe(403);
      expect((await share({ audience: 'patient' }, outsider)).response.status).toBe(403);
      const admin = { ...authorized(api, await seedTestAdminToken(db)), userId: '', token: '' };
      expect((await share({ audience: 'patient' }, admin)).response.status).toBe(201);
      expect((await share({ audience: 'patient', expiresInHours: 9000 })).response.status).toBe(400);
      expect((await share({ audience: 'patient', pin: '12' })).response.status).toBe(400);
      expect((await share({ audience: 'institution', institution: 'NO-SUCH-CODE' })).response.status).toBe(
        400,
      );
      expect(
        (await share({ audience: 'patient', scope: { seriesInstanceUids: [uids.foreignSeries] } })).response
          .status,
      ).toBe(400);

      const before = Date.now();
      const { response, body } = await share({ audience: 'patient' });
      expect(response.status).toBe(201);
      expect(body.url).toMatch(/^http:\/\/localhost\/s\/[A-Za-z0-9_-]{43}$/);
      // Nothing of the patient or the study is in the link.
      for (const identifying of [patientId, uids.study, studyId, 'Doe'])
        expect(body.url).not.toContain(identifying);
      expect(body.qrCode).toMatch(/^data:image\/png;base64,/);
      const png = Buffer.from(body.qrCode.split(',')[1], 'base64');
      expect([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');
      const expires = Date.parse(body.expiresAt);
      expect(expires - before).toBeGreaterThanOrEqual(720 * 3_600_000 - 1000);
      expect(expires - Date.now()).toBeLessThanOrEqual(720 * 3_600_000);
      // Only the secret's SHA-256 is kept.
      const [stored] = await db.select().from(shares).where(eq(shares.id, body.id));
      expect(stored!.secretSha256).toBe(createHash('sha256').update(secretOf(body.url)).digest('hex'));
      expect(JSON.stringify(stored)).not.toContain(secretOf(body.url));
    });

    it('opens a patient link into a session of that one study: priors by PatientID, other studies and raw files stay closed', async () => {
      const { body } = await share({ audience: 'patient' });
      const page = await api.request(new URL(body.url).pathname);
      expect(page.status).toBe(200);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).not.toContain('Doe');
      expect(html).toContain('"state":"open"');

      const { response, setCookie, film } = await open(body.url);
      expect(response.status).toBe(201);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Strict/i);

      const view = (await (await film('/api/film')).json()) as Json;
      expect(view.study.studyInstanceUid).toBe(uids.study);
      expect(view.patient.name).toBe('Doe^Jane');
      expect(view.report).toBeNull(); // not signed off: no unreviewed AI result reaches the patient
      expect(view.series.map((s: Json) => s.seriesInstanceUid).sort()).toEqual([uids.ct, uids.scout].sort());
      expect(view.series.find((s: Json) => s.seriesInstanceUid === uids.ct).sopInstanceUids).toHaveLength(3);

      // OHIF's priors query: the same patient has another study, which the link does not cover.
      const priors = (await (
        await film(`/dicomweb/studies?PatientID=${patientId}`, { headers: DICOM_JSON })
      ).json()) as Json[];
      expect(priors.map((s) => s['0020000D'].Value[0])).toEqual([uids.study]);
      const everything = (await (await film('/dicomweb/studies', { headers: DICOM_JSON })).json()) as Json[];
      expect(everything).toHaveLength(1);
      expect(
        await (await film(`/dicomweb/studies/${uids.prior}/series`, { headers: DICOM_JSON })).json(),
      ).toEqual([]);
      const rendered = (study: string, series: string, sop: string) =>
        film(`/dicomweb/studies/${study}/series/${series}/instances/${sop}/rendered`, {
          headers: { accept: 'image/png' },
        });
      expect((await rendered(uids.study, uids.ct, sops.ct[0]!)).status).toBe(200);
      expect((await rendered(uids.prior, uids.priorSeries, sops.prior)).status).toBe(404);
      expect((await rendered(uids.foreign, uids.foreignSeries, sops.foreign)).status).toBe(404);
      // No download allowed: the files themselves stay closed, pictures open.
      expect(
        (
          await film(`/dicomweb/studies/${uids.study}`, {
            headers: { accept: 'multipart/related; type="application/dicom"' },
          })
        ).status,
      ).toBe(403);
      expect((await film('/api/film/download')).status).toBe(403);
      // The session is no workspace session: the radiologists' API refuses it.
      expect((await film('/api/worklist')).status).toBe(401);
      expect((await film(`/api/studies/${studyId}`)).status).toBe(401);
    });

    it('serves only the series a share names, and downloads them when allowed', async () => {
      const { body } = await share({
        audience: 'patient',
        allowDownload: true,
        scope: { seriesInstanceUids: [uids.ct] },
      });
      const { film } = await open(body.url);
      const series = (await (
        await film(`/dicomweb/studies/${uids.study}/series`, { headers: DICOM_JSON })
      ).json()) as Json[];
      expect(series.map((s) => s['0020000E'].Value[0])).toEqual([uids.ct]);
      const scout = await film(
        `/dicomweb/studies/${uids.study}/series/${uids.scout}/instances/${sops.scout}/rendered`,
        {
          headers: { accept: 'image/png' },
        },
      );
      expect(scout.status).toBe(404);
      const zip = await film('/api/film/download');
      expect(zip.status).toBe(200);
      expect(zip.headers.get('content-type')).toBe('application/zip');
      const bytes = Buffer.from(await zip.arrayBuffer());
      expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
      // Three local file headers: the CT series' three images, not the scout.
      const entries = bytes.toString('latin1').match(/film\/series-\d{3}\/\d{5}\.dcm/g) ?? [];
      expect(new Set(entries).size).toBe(3);
    });

    it('closes a revoked link at once (410) and ends its sessions; an expired link answers 410', async () => {
      const { body } = await share({ audience: 'patient' });
      const { film } = await open(body.url);
      expect((await film('/api/film')).status).toBe(200);
      const revoked = await radiologist.request(`/api/shares/${body.id}`, { method: 'DELETE' });
      expect(revoked.status).toBe(204);
      expect((await film('/api/film')).status).toBe(401);
      expect((await film(`/dicomweb/studies/${uids.study}/series`, { headers: DICOM_JSON })).status).toBe(
        401,
      );
      expect((await api.request(new URL(body.url).pathname)).status).toBe(410);
      expect((await open(body.url)).response.status).toBe(410);

      const second = await share({ audience: 'patient' });
      const session = await open(second.body.url);
      await services.database.db
        .update(shares)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(shares.id, second.body.id));
      expect((await api.request(new URL(second.body.url).pathname)).status).toBe(410);
      expect((await open(second.body.url)).response.status).toBe(410);
      expect((await session.film('/api/film')).status).toBe(401);
      const listed = (await (await radiologist.request(`/api/studies/${studyId}/shares`)).json()) as Json;
      const states = Object.fromEntries(listed.shares.map((s: Json) => [s.id, s.status]));
      expect(states[body.id]).toBe('revoked');
      expect(states[second.body.id]).toBe('expired');
    });

    it('asks for the PIN or birth date, locks after five wrong answers, and shows every opening to the institution', async () => {
      const { body } = await share({ audience: 'patient', pin: '482913' });
      const page = await (await api.request(new URL(body.url).pathname)).text();
      expect(page).toContain('"secondFactor":"pin"');
      expect((await open(body.url)).response.status).toBe(403);
      expect((await open(body.url, { pin: '000000' })).response.status).toBe(403);
      const right = await open(body.url, { pin: '482913' }, 'Mozilla/5.0 (Android) right-pin');
      expect(right.response.status).toBe(201);
      for (let n = 0; n < 3; n++) await open(body.url, { pin: '111111' });
      // Five wrong answers in 15 minutes: even the right PIN waits.
      expect((await open(body.url, { pin: '482913' })).response.status).toBe(429);

      const listed = (await (await radiologist.request(`/api/studies/${studyId}/shares`)).json()) as Json;
      const mine = listed.shares.find((s: Json) => s.id === body.id);
      expect(mine.secondFactor).toBe('pin');
      expect(mine.useCount).toBe(1);
      const outcomes = mine.openings.map((o: Json) => o.outcome);
      expect(outcomes.filter((o: string) => o === 'wrong-second-factor')).toHaveLength(5);
      expect(outcomes).toContain('opened');
      expect(outcomes).toContain('visited');
      const opened = mine.openings.find((o: Json) => o.outcome === 'opened');
      expect(opened.userAgent).toBe('Mozilla/5.0 (Android) right-pin');
      expect(JSON.stringify(stored(mine))).not.toContain('482913');

      await services.database.db.execute(
        sql`update patients p set birth_date = '1951-07-14' from studies s where s.patient_id = p.id and s.id = ${studyId}::uuid`,
      );
      const byBirth = await share({ audience: 'patient', secondFactor: 'birth-date' });
      expect((await open(byBirth.body.url, { birthDate: '1990-01-01' })).response.status).toBe(403);
      expect((await open(byBirth.body.url, { birthDate: await birthDate() })).response.status).toBe(201);
    });

    const stored = (summary: Json) => summary;
    const birthDate = async () => {
      const rows = await services.database.db.execute<{ birth_date: string }>(
        sql`select p.birth_date::text from studies s join patients p on p.id = s.patient_id where s.id = ${studyId}::uuid`,
      );
      return rows[0]!.birth_date;
    };

    it('withdraws a share whose timers Temporal cannot take (503), so no link lives without them', async () => {
      const withoutTemporal = createApp({
        db: services.database.db,
        seriesWorkflows: {} as AppDeps['seriesWorkflows'],
        ingest: {} as AppDeps['ingest'],
        logger: testLogger,
        readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
        shareWorkflows: {
          start: () => Promise.reject(new DomainError('DEPENDENCY_UNAVAILABLE', 'Temporal is unavailable')),
          revoked: () => Promise.resolve(),
        },
      });
      const response = await share(
        { audience: 'patient' },
        authorized(withoutTemporal, radiologist.token) as typeof radiologist,
      );
      expect(response.response.status).toBe(503);
      const listed = (await (await radiologist.request(`/api/studies/${studyId}/shares`)).json()) as Json;
      expect(listed.shares[0].status).toBe('revoked');
    });

    it('refuses guessed links with 404 and then rate-limits the address (429)', async () => {
      const guesses = [];
      for (let n = 0; n < 8; n++) guesses.push((await guarded.request(`/s/${'A'.repeat(42)}${n}`)).status);
      expect(guesses.slice(0, 6)).toEqual([404, 404, 404, 404, 404, 404]);
      expect(guesses.slice(6)).toEqual([429, 429]);
    });

    it('lets the patient pass the film on as a narrower, shorter link, list every link and opening, and revoke it', async () => {
      const { body } = await share({ audience: 'patient', expiresInHours: 48 });
      const patient = await open(body.url);
      const passOn = (request: Json) =>
        patient.film('/api/film/links', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
      expect((await passOn({ expiresInHours: 100 })).status).toBe(400); // beyond the film's 48 hours
      expect((await passOn({ allowDownload: true })).status).toBe(400); // the film allows none
      // A write without the CSRF token is refused.
      const noCsrf = await api.request('/api/film/links', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: `nodus_film=${/nodus_film=([^;]+)/.exec(patient.setCookie)![1]}`,
        },
        body: '{}',
      });
      expect(noCsrf.status).toBe(403);

      const created = await passOn({ expiresInHours: 24, scope: { sopInstanceUids: [sops.ct[1]] } });
      expect(created.status).toBe(201);
      const link = (await created.json()) as Json;
      expect(Date.parse(link.expiresAt)).toBeLessThan(Date.parse(body.expiresAt));
      const doctor = await open(link.url, {}, 'Mozilla/5.0 (Windows) doctor');
      const view = (await (await doctor.film('/api/film')).json()) as Json;
      expect(view.film.canPassOn).toBe(false);
      expect(view.series).toEqual([
        expect.objectContaining({ seriesInstanceUid: uids.ct, sopInstanceUids: [sops.ct[1]] }),
      ]);
      expect((await doctor.film('/api/film/links')).status).toBe(403);
      expect(
        (
          await doctor.film('/api/film/links', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          })
        ).status,
      ).toBe(403);

      const links = (await (await patient.film('/api/film/links')).json()) as Json;
      expect(links.links.map((l: Json) => l.id)).toEqual([body.id, link.id]);
      expect(links.links[1].openings.map((o: Json) => o.userAgent)).toContain('Mozilla/5.0 (Windows) doctor');

      expect((await patient.film(`/api/film/links/${link.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await doctor.film('/api/film')).status).toBe(401);
      expect((await patient.film('/api/film')).status).toBe(200);
      // The institution sees the patient's link too.
      const listed = (await (await radiologist.request(`/api/studies/${studyId}/shares`)).json()) as Json;
      expect(listed.shares.find((s: Json) => s.id === link.id)).toMatchObject({
        parentShareId: body.id,
        status: 'revoked',
      });
      // Revoking the film closes the links passed on from it.
      const again = (await (await passOn({ expiresInHours: 24 })).json()) as Json;
      expect((await radiologist.request(`/api/shares/${body.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await api.request(new URL(again.url).pathname)).status).toBe(410);
    });

    /** The caller's worklist once `done` holds of its items, or as it stands after 5 s. */
    const within5s = async (who: ReturnType<typeof authorized>, done: (items: Json[]) => boolean) => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const page = (await (await who.request('/api/worklist')).json()) as Json;
        if (done(page.items as Json[]) || Date.now() > deadline) return page;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };

    it("shows an institution share on the partner's worklist and nothing else of the sender; the second read comes back", async () => {
      const db = services.database.db;
      const community = `SHARE-COMMUNITY-${tag}`;
      // Two studies of one patient: the partner gets the newer, not its prior.
      const patientId = `P-${tag}-community`;
      const shared = await seedScreenedStudy(db, {
        institutionCode: community,
        patientId,
        studyDate: '2026-02-01',
        nodules: [],
      });
      const unshared = await seedScreenedStudy(db, {
        institutionCode: community,
        patientId,
        studyDate: '2025-02-02',
        nodules: [],
      });
      const sending = await callerWithRole(db, api, 'radiologist', community);
      const partner = await callerWithRole(db, api, 'radiologist', hub);
      const partnerProgramme = await callerWithRole(db, api, 'programme', hub);

      const before = (await (await partner.request('/api/worklist')).json()) as Json;
      expect(before.items).toEqual([]);
      const { response, body } = await share(
        { audience: 'institution', institution: hub },
        sending,
        shared.studyId,
      );
      expect(response.status).toBe(201);
      // Its link leads a partner's radiologist to the study in the workspace, where they sign in.
      const link = await api.request(new URL(body.url).pathname);
      expect(link.status).toBe(302);
      expect(link.headers.get('location')).toBe(`/#/studies/${shared.studyId}`);

      // The partner's principal was read (and cached for up to 5 s) before the share: it shows within 5 s.
      const worklist = await within5s(partner, (items) => items.length > 0);
      expect(worklist.items.map((i: Json) => i.studyId)).toEqual([shared.studyId]);
      expect(worklist.items[0].institutionCode).toBe(community);
      expect(
        ((await (await partner.request(`/api/worklist?institution=${community}`)).json()) as Json).items,
      ).toHaveLength(1);
      const detail = (await (await partner.request(`/api/studies/${shared.studyId}`)).json()) as Json;
      expect(detail).toMatchObject({ studyId: shared.studyId, secondRead: true, priors: [] });
      const own = (await (await sending.request(`/api/studies/${shared.studyId}`)).json()) as Json;
      expect(own).toMatchObject({ secondRead: false });
      expect(own.priors.map((p: Json) => p.studyId)).toEqual([unshared.studyId]);
      expect((await partner.request(`/api/studies/${unshared.studyId}`)).status).toBe(403);
      expect(((await (await partnerProgramme.request('/api/worklist')).json()) as Json).items).toEqual([]);
      const qido = (await (
        await partner.request('/dicomweb/studies', { headers: DICOM_JSON })
      ).json()) as Json[];
      expect(qido).toHaveLength(1);
      // A partner reads; it does not act on the first read, nor share further.
      const action = await partner.request(`/api/studies/${shared.studyId}/review-actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'sign-off', finalCategory: '1', version: 1 }),
      });
      expect(action.status).toBe(403);
      expect((await share({ audience: 'patient' }, partner, shared.studyId)).response.status).toBe(403);

      const read = await partner.request(`/api/studies/${shared.studyId}/second-reads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ opinion: 'agree', category: '1', comment: 'No nodule.' }),
      });
      expect(read.status).toBe(201);
      expect(
        (
          await partner.request(`/api/studies/${unshared.studyId}/second-reads`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ opinion: 'agree', category: '1' }),
          })
        ).status,
      ).toBe(403);
      const reads = (await (
        await sending.request(`/api/studies/${shared.studyId}/second-reads`)
      ).json()) as Json;
      expect(reads.secondReads).toEqual([
        expect.objectContaining({
          opinion: 'agree',
          category: '1',
          comment: 'No nodule.',
          institutionCode: hub,
        }),
      ]);
      const audited = await db
        .select()
        .from(auditEvents)
        .where(
          sql`${auditEvents.action} = 'review.second-read' and ${auditEvents.resourceId} = ${shared.studyId}`,
        );
      expect(audited).toHaveLength(1);
      expect(audited[0]!.actorUserId).toBe(partner.userId);

      // Revoked: within the principal cache's 5 seconds the study leaves the partner's worklist.
      expect((await sending.request(`/api/shares/${body.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await within5s(partner, (items) => items.length === 0)).items).toEqual([]);
      expect((await partner.request(`/api/studies/${shared.studyId}`)).status).toBe(403);
    });

    it("offers a consortium member's studies to its hub once, configured by an admin", async () => {
      const db = services.database.db;
      const centre = `SHARE-CENTRE-${tag}`;
      const study = await seedScreenedStudy(db, {
        institutionCode: centre,
        studyDate: '2026-02-03',
        nodules: [],
      });
      const admin = authorized(api, await seedTestAdminToken(db));
      const set = (who: ReturnType<typeof authorized>) =>
        who.request(`/api/consortium/members/${centre}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ hub, secondReadHours: 48 }),
        });
      expect((await set(radiologist)).status).toBe(403);
      expect((await set(admin)).status).toBe(200);
      const members = (await (await admin.request('/api/consortium/members')).json()) as Json;
      expect(members.members).toContainEqual({ member: centre, hub, secondReadHours: 48, shareHours: 720 });

      const offered = await offerToConsortium(db, study.studyId);
      expect(offered).toMatchObject({ audience: 'institution', offeredByConsortium: true });
      expect(offered!.secondReadDueAt!.getTime() - offered!.createdAt.getTime()).toBeCloseTo(
        48 * 3_600_000,
        -4,
      );
      expect(await offerToConsortium(db, study.studyId)).toBeUndefined();
      const partner = await callerWithRole(db, api, 'radiologist', hub);
      const worklist = (await (await partner.request('/api/worklist')).json()) as Json;
      expect(worklist.items.map((i: Json) => i.studyId)).toContain(study.studyId);
      const openings = await db.select().from(shareOpenings).where(eq(shareOpenings.shareId, offered!.id));
      expect(openings).toEqual([]);
    });
  },
);
