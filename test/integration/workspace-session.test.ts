import { serve, type ServerType } from '@hono/node-server';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { installedOhifDir, ohifViewerApp } from '../../src/api/viewer/ohif-viewer.js';
import { revokeToken } from '../../src/db/repositories/users.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { encodeNifti1 } from '../../src/volume/nifti.js';
import { luminanceStats, pngLuminance } from '../fixtures/png-pixels.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { launchChromium } from '../fixtures/chromium.js';
import { seedScreenedStudy } from '../fixtures/screened-study.js';
import { connectTestServices, testLogger } from './services.js';

const ARTIFACTS = path.resolve('test-artifacts');

describe('the workspace at /: sign in with a token, a session cookie, the worklist (Chromium)', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let server: ServerType;
  let viewer: ServerType | undefined;
  const origin = (s: ServerType) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  let base: string;
  let browser: Browser;
  let caller: Awaited<ReturnType<typeof callerWithRole>>;
  const institution = `WS-${Date.now().toString(36).toUpperCase()}`;
  let largeStudyId: string;

  beforeAll(async () => {
    services = await connectTestServices();
    const db = services.database.db;
    const blobs = new FilesystemBlobStore(await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-ws-')));
    const app = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: { db, blobs, notifySeries: () => Promise.resolve() },
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    // Two studies of the institution: a 4B (22 mm solid) and a 2 (4 mm), so the 4B comes first.
    await seedScreenedStudy(db, {
      institutionCode: institution,
      studyDate: '2026-01-10',
      nodules: [{ centreLps: [10, 10, 10], longAxisMm: 4, shortAxisMm: 4, type: 'solid' }],
    });
    const large = await seedScreenedStudy(db, {
      institutionCode: institution,
      studyDate: '2026-01-11',
      nodules: [
        { centreLps: [10, 10, -180], longAxisMm: 22, shortAxisMm: 20, type: 'solid' },
        { centreLps: [-60, 20, -200], longAxisMm: 5, shortAxisMm: 4, type: 'solid' },
      ],
    });
    largeStudyId = large.studyId;
    // Its volume (the fixture names the blob): a body with two lungs, so a slice is a picture, not a blank.
    const [nx, ny, nz] = [512, 512, 100];
    const hu = new Int16Array(nx * ny * nz).fill(-1000);
    for (let k = 0; k < nz; k += 1)
      for (let j = 0; j < ny; j += 1)
        for (let i = 0; i < nx; i += 1) {
          const body = ((i - 256) / 220) ** 2 + ((j - 256) / 170) ** 2 < 1;
          const lung = ((Math.abs(i - 256) - 100) / 70) ** 2 + ((j - 250) / 110) ** 2 < 1;
          if (body) hu[i + nx * (j + ny * k)] = lung ? -850 : 40;
        }
    await blobs.put(
      `volumes/${large.seriesInstanceUid}/test.nii`,
      encodeNifti1({
        dimensions: [nx, ny, nz],
        spacingMm: [0.7, 0.7, 2.5],
        originLps: [-180, -180, -300],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        hu,
        paddingVoxels: 0,
      }),
    );
    caller = await callerWithRole(db, app, 'radiologist', institution);
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const ohif = installedOhifDir();
    if (ohif) {
      viewer = await new Promise((resolve) => {
        const s = serve(
          {
            fetch: ohifViewerApp({ distDir: ohif, dicomweb: app.fetch }).fetch,
            hostname: '127.0.0.1',
            port: 0,
          },
          () => resolve(s),
        );
      });
    }
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await launchChromium();
    await fs.mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await new Promise((resolve) => (viewer ? viewer.close(resolve) : resolve(undefined)));
    await services?.close();
  });

  it('signs in, shows the worklist highest category first, keeps the token out of reach, signs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Sign-in failed/);

    await page.getByLabel('Token').fill(caller.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const table = page.getByRole('table', { name: 'Worklist' });
    await table.waitFor();
    const rows = table.getByRole('row');
    await expect.poll(() => rows.count()).toBe(3); // the header and two studies
    const ai = await table.locator('tbody tr td:nth-child(4)').allTextContents();
    expect(ai).toEqual(['4B', '2']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-worklist.png') });

    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === 'nodus_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true });
    expect(session.value).not.toContain(caller.token);
    expect(
      await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie),
    ).not.toContain('nodus_session');
    expect(
      await page.evaluate(() =>
        JSON.stringify((globalThis as unknown as { localStorage: unknown }).localStorage),
      ),
    ).not.toContain(caller.token);

    // Filters: category 2 alone.
    await page.getByLabel('Lung-RADS', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(2);

    // zh-CN
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('table', { name: '工作列表' }).waitFor();
    await page.getByLabel('语言').selectOption('en');
    await table.waitFor();

    // The session also signs the OHIF viewer's DICOMweb requests (same host, another port: the same site).
    if (viewer) {
      const viewerPage = await context.newPage();
      await viewerPage.goto(`${origin(viewer)}/app-config.js`);
      expect(await viewerPage.evaluate(async () => (await fetch('/dicomweb/studies?limit=1')).status)).toBe(
        200,
      );
      await viewerPage.close();
    }

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    const after = await page.evaluate(async () => (await fetch('/api/worklist')).status);
    expect(after).toBe(401);
    await context.close();
  });

  it('opens a study: the CT slice shows, nodules jump to their slice, accept / reject / 409 / sign off', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.getByLabel('Token').fill(caller.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const worklist = page.getByRole('table', { name: 'Worklist' });
    await worklist.getByRole('row').nth(1).getByRole('link', { name: 'Open' }).click();
    const nodules = page.getByRole('table', { name: 'Nodules' });
    await nodules.waitFor();
    await expect.poll(() => nodules.locator('tbody tr').count()).toBe(2);
    // The first nodule is selected and its slice shown: z -180 is slice (−180 − −300) / 2.5 = 48 (1-based 49).
    const image = page.locator('img.slice');
    await expect.poll(() => image.getAttribute('alt')).toBe('Slice 49 / 100');
    await expect
      .poll(() =>
        image.evaluate(
          (img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth,
        ),
      )
      .toBe(512);
    const stats = luminanceStats(pngLuminance(await image.screenshot()).luminance);
    expect(stats.sd).toBeGreaterThan(20);
    await nodules.locator('tbody tr').nth(1).click();
    await expect.poll(() => image.getAttribute('alt')).toBe('Slice 41 / 100');
    await page.getByRole('button', { name: 'Mediastinum window' }).click();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => image.getAttribute('alt')).toBe('Slice 42 / 100');
    expect(await page.getByRole('img', { name: 'Slice 42 / 100' }).count()).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-study.png') });

    const row = (n: number) => nodules.locator('tbody tr').nth(n);
    await row(0).getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => row(0).locator('td').nth(6).textContent()).toBe('accepted');
    await row(1).getByRole('combobox', { name: 'Reason' }).selectOption('vessel');
    // Another reader acts first (through the API): the page's next write is a 409, said plainly, reloaded.
    const detail = (await (await caller.request(`/api/studies/${largeStudyId}`)).json()) as {
      review: { version: number };
    };
    const other = await caller.request(`/api/studies/${largeStudyId}/review-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: detail.review.version,
        action: 'accept',
        noduleId: await row(1).getAttribute('data-nodule-id'),
      }),
    });
    expect(other.status).toBe(201);
    await row(1).getByRole('button', { name: 'Reject' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toMatch(/Another reader changed this study first/);
    await expect.poll(() => row(1).locator('td').nth(6).textContent()).toBe('accepted');
    await row(1).getByRole('combobox', { name: 'Reason' }).selectOption('vessel');
    await row(1).getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => row(1).locator('td').nth(6).textContent()).toBe('rejected (vessel)');

    // Edit the first nodule's long axis.
    await row(0).getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Long axis (mm)', { exact: true }).fill('23.5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => row(0).locator('td').nth(0).textContent()).toBe('23.5');

    // Add a nodule by clicking on the image; another reader acts first, the typed values survive the 409.
    await page.getByRole('button', { name: 'Add nodule' }).click();
    await page.locator('img.slice').click({ position: { x: 100, y: 120 } });
    await page.getByLabel('Long axis (mm)', { exact: true }).fill('6.5');
    await page.getByLabel('Short axis (mm)', { exact: true }).fill('5');
    const now = (await (await caller.request(`/api/studies/${largeStudyId}`)).json()) as {
      review: { version: number };
    };
    const edited = await caller.request(`/api/studies/${largeStudyId}/review-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: now.review.version,
        action: 'edit',
        noduleId: await row(0).getAttribute('data-nodule-id'),
        changes: { shortAxisMm: 19 },
      }),
    });
    expect(edited.status).toBe(201);
    await page.getByRole('button', { name: 'Save nodule' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toMatch(/what you typed is still here/);
    expect(await page.getByLabel('Long axis (mm)', { exact: true }).inputValue()).toBe('6.5');
    await page.getByRole('button', { name: 'Save nodule' }).click();
    await expect.poll(() => nodules.locator('tbody tr').count()).toBe(3);
    expect(await row(2).locator('td').nth(0).textContent()).toBe('6.5');
    expect(await row(2).locator('td').nth(4).textContent()).toBe('reader');

    await page.getByLabel('Final category').selectOption('4B');
    await page.getByRole('button', { name: 'Sign off' }).click();
    await expect.poll(() => page.getByText('Signed off: 4B').count()).toBe(1);
    const after = (await (await caller.request(`/api/studies/${largeStudyId}`)).json()) as {
      review: { status: string; finalCategory: string };
    };
    expect(after.review).toMatchObject({ status: 'signed-off', finalCategory: '4B' });
    const log = (await (await caller.request(`/api/studies/${largeStudyId}/review-actions`)).json()) as {
      actions: { action: string }[];
    };
    expect(errors).toEqual([]);
    expect(log.actions.map((a) => a.action)).toEqual([
      'accept',
      'accept',
      'reject',
      'edit',
      'edit',
      'add',
      'sign-off',
    ]);
    await context.close();
  });

  it('the session cookie authenticates reads; writes need the CSRF token; revoking the token ends it', async () => {
    const opened = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
    });
    expect(opened.status).toBe(201);
    const { csrfToken } = (await opened.json()) as { csrfToken: string };
    const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    expect(opened.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    const worklist = await fetch(`${base}/api/worklist`, { headers: { cookie } });
    expect(worklist.status).toBe(200);
    expect((await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie } })).status).toBe(403);
    const dicomweb = await fetch(`${base}/dicomweb/studies?limit=1`, { headers: { cookie } });
    expect(dicomweb.status).toBe(200);

    // With its CSRF token, sign-out works and the cookie is dead at once.
    const second = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${caller.token}` },
    });
    const secondCookie = second.headers.get('set-cookie')!.split(';')[0]!;
    const secondCsrf = ((await second.json()) as { csrfToken: string }).csrfToken;
    const out = await fetch(`${base}/api/session`, {
      method: 'DELETE',
      headers: { cookie: secondCookie, 'x-csrf-token': secondCsrf },
    });
    expect(out.status).toBe(204);
    expect((await fetch(`${base}/api/worklist`, { headers: { cookie: secondCookie } })).status).toBe(401);
    expect(csrfToken).not.toBe(secondCsrf);

    // Revoking the token ends the first session too.
    const [token] = await services.database.sql<{ id: string }[]>`
      select id from api_tokens where user_id = ${caller.userId}::uuid`;
    await revokeToken(services.database.db, token!.id);
    expect((await fetch(`${base}/api/worklist`, { headers: { cookie } })).status).toBe(401);
  });
});
