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
    await seedScreenedStudy(db, {
      institutionCode: institution,
      studyDate: '2026-01-11',
      nodules: [
        { centreLps: [10, 10, -180], longAxisMm: 22, shortAxisMm: 20, type: 'solid' },
        { centreLps: [-60, 20, -200], longAxisMm: 5, shortAxisMm: 4, type: 'solid' },
      ],
    });
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
