import { serve, type ServerType } from '@hono/node-server';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { decodeQrDataUrl } from '../fixtures/qr-code.js';
import { launchChromium } from '../fixtures/chromium.js';
import { seedScreenedStudy } from '../fixtures/screened-study.js';
import { connectTestServices, testLogger } from './services.js';

const ARTIFACTS = path.resolve('test-artifacts');
const PHONE = 'nodus-test-phone/1.0 (Android)';

describe("the workspace's sharing: a patient's link and QR code, a partner's second read (Chromium)", () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let server: ServerType;
  let base: string;
  let browser: Browser;
  const tag = Date.now().toString(36).toUpperCase();
  /** The sending institution (C) and the partner asked for a second read (H). */
  const sender = `WSS-C-${tag}`;
  const partner = `WSS-H-${tag}`;
  let studyId: string;
  let readerC: Awaited<ReturnType<typeof callerWithRole>>;
  let readerH: Awaited<ReturnType<typeof callerWithRole>>;
  let contextC: BrowserContext;
  let pageC: Page;

  beforeAll(async () => {
    services = await connectTestServices();
    const db = services.database.db;
    const blobs = new FilesystemBlobStore(await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-ws-sharing-')));
    const app = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest: { db, blobs, notifySeries: () => Promise.resolve() },
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    ({ studyId } = await seedScreenedStudy(db, {
      institutionCode: sender,
      studyDate: '2026-02-01',
      nodules: [{ centreLps: [10, 10, -180], longAxisMm: 22, shortAxisMm: 20, type: 'solid' }],
    }));
    readerC = await callerWithRole(db, app, 'radiologist', sender);
    readerH = await callerWithRole(db, app, 'radiologist', partner);
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await launchChromium();
    await fs.mkdir(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await services?.close();
  });

  const signIn = async (token: string) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: 'Worklist' }).waitFor();
    return { context, page };
  };
  const worklistRow = (page: Page) =>
    page.getByRole('table', { name: 'Worklist' }).locator(`tr[data-study-id="${studyId}"]`);

  it("C's radiologist creates a patient link (its QR code reads as the link), asks H for a second read, revokes the link", async () => {
    ({ context: contextC, page: pageC } = await signIn(readerC.token));
    const page = pageC;
    await expect.poll(() => worklistRow(page).count()).toBe(1);
    await expect.poll(() => worklistRow(page).locator('.badge').count()).toBe(0);
    await worklistRow(page).getByRole('link', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'Sharing' }).waitFor();
    const shares = page.getByRole('table', { name: 'Shares' });
    await expect.poll(() => shares.textContent()).toContain('Not shared yet.');

    // A patient's link: 30 days unless chosen, downloads allowed; its QR code and link appear.
    expect(await page.getByLabel('Valid for').inputValue()).toBe('720');
    await page.getByLabel('Allow download').check();
    await page.getByRole('button', { name: 'Create patient link' }).click();
    const qr = page.getByRole('img', { name: 'QR code for the patient' });
    await qr.waitFor();
    const box = (await qr.boundingBox())!;
    expect(Math.min(box.width, box.height)).toBeGreaterThanOrEqual(200);
    const url = (await page.locator('.share-url').textContent())!.trim();
    expect(url).toMatch(new RegExp(`^${base}/s/[A-Za-z0-9_-]{43}$`));
    await page.getByText('Give this to the patient; it opens their images and report on a phone').waitFor();
    const src = (await qr.getAttribute('src'))!;
    expect(src).toMatch(/^data:image\/png;base64,/);
    expect(await decodeQrDataUrl(src)).toBe(url);

    // The patient opens it on a phone: the opening is audited and shown to the sender.
    const secret = new URL(url).pathname.split('/').pop()!;
    const opened = await fetch(`${base}/api/film/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': PHONE },
      body: JSON.stringify({ secret }),
    });
    expect(opened.status).toBe(201);

    // A second read from H, due in 72 hours unless chosen; an unknown code is refused and said.
    await page.getByLabel('Institution code').fill(`NO-SUCH-${tag}`);
    await page.getByRole('button', { name: 'Request second read' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/no institution NO-SUCH/);
    expect(await page.getByLabel('Due in').inputValue()).toBe('72');
    await page.getByLabel('Institution code').fill(partner);
    await page.getByRole('button', { name: 'Request second read' }).click();
    const body = shares.locator('tbody tr');
    await expect.poll(() => body.count()).toBe(2);
    const patientRow = body.filter({ hasText: /^Patient/ });
    const partnerRow = body.filter({ hasText: partner });
    await expect.poll(() => partnerRow.count()).toBe(1);
    const cells = async (row: typeof body) =>
      (await row.locator('th, td').allTextContents()).map((s) => s.trim());
    const [who, status, , openedCount, lastOpened] = await cells(patientRow);
    expect(who).toBe('Patientdownload');
    expect(status).toBe('active');
    expect(openedCount).toBe('1');
    expect(lastOpened).not.toBe('-');
    const partnerCells = await cells(partnerRow);
    expect(partnerCells[0]).toBe(partner);
    expect(partnerCells[1]).toBe('active');
    expect(partnerCells[5]).toMatch(/^due /);
    const openings = page.getByRole('table', { name: 'Openings' });
    await expect.poll(() => openings.textContent()).toContain(PHONE);
    expect(await openings.locator('tbody tr').first().textContent()).toContain('opened');
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-sharing.png'), fullPage: true });

    // Revoking the patient's link: its row says so, it has no Revoke button left, its QR code is gone and the
    // link no longer opens.
    await patientRow.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(async () => (await cells(patientRow))[1]).toBe('revoked');
    await expect.poll(() => qr.count()).toBe(0);
    expect(await patientRow.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect(await partnerRow.getByRole('button', { name: 'Revoke' }).count()).toBe(1);
    const again = await fetch(`${base}/api/film/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret }),
    });
    expect(again.status).toBe(410);
  });

  it("H's radiologist sees the study marked for a second read, without review actions, and records one", async () => {
    const { context, page } = await signIn(readerH.token);
    await expect.poll(() => worklistRow(page).count()).toBe(1);
    expect((await worklistRow(page).locator('.badge').textContent())?.trim()).toBe('Second read');
    expect(await worklistRow(page).locator('td').nth(1).textContent()).toContain(sender);
    await worklistRow(page).getByRole('link', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'Second read' }).waitFor();
    // The first read is the sender's: nothing here would be refused.
    for (const name of ['Accept', 'Reject', 'Edit', 'Add nodule', 'Sign off']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    expect(await page.getByRole('heading', { name: 'Sharing' }).count()).toBe(0);
    expect(await page.getByRole('table', { name: 'Shares' }).count()).toBe(0);

    await page.getByLabel('Disagree with the first read').check();
    await page.getByRole('combobox', { name: 'Lung-RADS' }).selectOption('4A');
    await page.getByLabel('Comment').fill('Perifissural: I would follow up at 3 months.');
    await page.getByRole('button', { name: 'Submit second read' }).click();
    const reads = page.getByRole('table', { name: 'Second reads' });
    const read = reads.locator('tbody tr[data-second-read-id]');
    await expect.poll(() => read.count()).toBe(1);
    const text = await read.textContent();
    expect(text).toContain(partner);
    expect(text).toContain('disagrees');
    expect(text).toContain('4A');
    expect(text).toContain('Perifissural: I would follow up at 3 months.');
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Second read recorded.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-second-read.png'), fullPage: true });

    // Opened by its address alone (no worklist before it), the study is still a second read.
    await page.reload();
    await page.getByRole('button', { name: 'Submit second read' }).waitFor();
    await expect.poll(() => read.count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Accept', exact: true }).count()).toBe(0);

    // zh-CN: the worklist's badge.
    await page.getByRole('link', { name: 'Worklist' }).click();
    await page.getByLabel('Language').selectOption('zh-CN');
    const zhRow = page.getByRole('table', { name: '工作列表' }).locator(`tr[data-study-id="${studyId}"]`);
    await expect.poll(() => zhRow.locator('.badge').textContent()).toBe('第二意见');
    await context.close();
  });

  it("back at C, the study view lists H's second read and marks H's share as answered", async () => {
    const page = pageC;
    await page.reload();
    const reads = page.getByRole('table', { name: 'Second reads' });
    const read = reads.locator('tbody tr[data-second-read-id]');
    await expect.poll(() => read.count()).toBe(1);
    const text = await read.textContent();
    expect(text).toContain(partner);
    expect(text).toContain('disagrees');
    expect(text).toContain('4A');
    const partnerRow = page
      .getByRole('table', { name: 'Shares' })
      .locator('tbody tr')
      .filter({ hasText: partner });
    expect(await partnerRow.locator('td').nth(4).textContent()).toMatch(/^received /);

    // zh-CN: the same sections in Chinese.
    await page.evaluate(() =>
      (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage.setItem('nodus.locale', 'zh-CN'),
    );
    await page.reload();
    await page.getByRole('heading', { name: '分享' }).waitFor();
    expect(await page.getByRole('table', { name: '分享记录' }).locator('tbody tr').count()).toBe(2);
    expect(await page.getByRole('table', { name: '第二意见记录' }).textContent()).toContain('不同意');
    await page.getByRole('button', { name: '生成患者链接' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-sharing-zh.png'), fullPage: true });
    await contextC.close();
  });
});
