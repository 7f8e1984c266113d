import { serve, type ServerType } from '@hono/node-server';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { series, studies } from '../../src/db/schema/index.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { launchChromium } from '../fixtures/chromium.js';
import { decodeQrDataUrl } from '../fixtures/qr-code.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { seedAiRun } from '../fixtures/screened-study.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

const ARTIFACTS = path.resolve('test-artifacts');
/** 20 slices of LIDC-IDRI-0001 (2.5 mm apart): enough to scroll through, quick to store. */
const SLICES = 20;
/** The slice (of the stored ones, head first) the reported nodule lies on. */
const NODULE_SLICE = 12;
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'en-US',
} as const;

interface CreatedShare {
  id: string;
  url: string;
  qrCode: string;
  expiresAt: string;
}

/** Two fingers on the element's centre moving apart (a pinch to zoom in), by Chrome's touch input (CDP). */
async function pinchOut(page: Page, selector: string): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const fingers = (spread: number) => [
    { x: x - spread, y, id: 0 },
    { x: x + spread, y, id: 1 },
  ];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: fingers(20) });
  for (let step = 1; step <= 8; step += 1) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: fingers(20 + step * 10) });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** A one-finger vertical swipe on the element's centre, by Chrome's touch input (CDP), `dy` CSS px. */
async function swipe(page: Page, selector: string, dy: number): Promise<void> {
  const box = (await page.locator(selector).boundingBox())!;
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2 - dy / 2];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
  for (let step = 1; step <= 10; step += 1) {
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchMove',
      touchPoints: [{ x, y: y + (dy * step) / 10 }],
    });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

// The test has no DOM types: what the page functions read is typed where they read it.
const canvasPixels = (page: Page) =>
  page
    .locator('canvas.stack')
    .evaluate((canvas) => (canvas as unknown as { toDataURL(type: string): string }).toDataURL('image/png'));
const scrollWidth = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
        .documentElement.scrollWidth,
  );
/** Buttons, selects and button-like links (visible ones) less than 44 CSS px high: too small to touch. */
const smallTargets = (page: Page) =>
  page.evaluate(() => {
    type Target = { textContent: string | null; getBoundingClientRect(): { height: number } };
    const { document } = globalThis as unknown as {
      document: { querySelectorAll(selector: string): Iterable<Target> };
    };
    return [...document.querySelectorAll('button, select, .button')]
      .map((e) => [e.textContent, e.getBoundingClientRect().height] as const)
      .filter(([, height]) => height > 0 && height < 44);
  });
const sliceCaption = (page: Page) => page.locator('.slice-caption').textContent();

describe.skipIf(!sampleDir)('the patient’s digital film on a phone (real CT, Chromium)', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let server: ServerType;
  let browser: Browser;
  let base: string;
  let token: string;
  let studyId: string;
  let patient: { context: BrowserContext; page: Page; errors: string[] };
  let film: CreatedShare;

  /** A share of the study made by its radiologist, through the server (its link names the server). */
  async function share(body: Record<string, unknown>): Promise<CreatedShare> {
    const response = await fetch(`${base}/api/studies/${studyId}/shares`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as CreatedShare;
  }

  async function phone(url?: string) {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    if (url) await page.goto(url);
    return { context, page, errors };
  }

  beforeAll(async () => {
    services = await connectTestServices();
    const db = services.database.db;
    const ingest: IngestDeps = {
      db,
      blobs: new FilesystemBlobStore(await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-film-'))),
      notifySeries: () => Promise.resolve(),
    };
    const tag = `FILM${Date.now().toString(36).toUpperCase()}`;
    const hospital = `Film Hospital ${tag}`;
    const [studyUid, seriesUid] = [testUid(), testUid()];
    for (const [n, slice] of (await lidcSlices(60, SLICES)).entries()) {
      const bytes = relabelledInstance(slice, {
        studyInstanceUid: studyUid,
        seriesInstanceUid: seriesUid,
        sopInstanceUid: testUid(),
        patientId: `${tag}-1`,
        patientName: 'Doe^Jane',
        studyDate: '20240303',
        accessionNumber: `ACC-${tag}`,
        institutionName: hospital,
        instanceNumber: n + 1,
      });
      await storeInstance(ingest, bytes, 'test');
    }
    // What processing would leave (no detector run here): a volume, an AI run and one small solid nodule on
    // the stored slice NODULE_SLICE (head first), so the study can be reviewed and signed off.
    const [ct] = await db.select().from(series).where(eq(series.seriesInstanceUid, seriesUid));
    const zs = await db.execute<{ z: number }>(sql`
      select (metadata->'00200032'->'Value'->>2)::float8 as z from instances
      where series_id = ${ct!.id}::uuid order by 1 desc`);
    const noduleZ = zs[NODULE_SLICE]!.z;
    await seedAiRun(db, {
      seriesId: ct!.id,
      seriesInstanceUid: seriesUid,
      volume: { dimensions: [512, 512, SLICES], originLps: [-180, -180, zs[SLICES - 1]!.z] },
      nodules: [{ centreLps: [60, 20, noduleZ], longAxisMm: 5, shortAxisMm: 4, type: 'solid' }],
    });
    const [study] = await db.select().from(studies).where(eq(studies.studyInstanceUid, studyUid));
    studyId = study!.id;

    const app = createApp({
      db,
      seriesWorkflows: {} as AppDeps['seriesWorkflows'],
      ingest,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    const radiologist = await callerWithRole(db, app, 'radiologist', institutionCode(hospital));
    token = radiologist.token;
    // The radiologist accepts the nodule and signs the study off: the film has a report.
    const review = async (body: Record<string, unknown>) => {
      const response = await radiologist.request(`/api/studies/${studyId}/review-actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.clone().text()).toBe(201);
    };
    const detail = (await (await radiologist.request(`/api/studies/${studyId}`)).json()) as {
      review: { version: number };
      nodules: { noduleId: string }[];
    };
    await review({ action: 'accept', version: detail.review.version, noduleId: detail.nodules[0]!.noduleId });
    await review({ action: 'sign-off', version: detail.review.version + 1, finalCategory: '2' });

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

  it('makes a patient link whose QR code reads back as the link', async () => {
    film = await share({ audience: 'patient', allowDownload: true });
    expect(film.url).toMatch(new RegExp(`^${base}/s/[A-Za-z0-9_-]{43}$`));
    expect(await decodeQrDataUrl(film.qrCode)).toBe(film.url);
  });

  it('shows the report and scrolls the CT by slider, buttons and a swipe on a 390 px phone, in English and Chinese', async () => {
    patient = await phone();
    const { page } = patient;
    // Rendered slices are fetched a few at a time (the viewer's 4 and a key image), not all at once.
    let [inFlight, mostInFlight] = [0, 0];
    const rendered = (url: string) => url.includes('/rendered?');
    page.on('request', (request) => {
      if (rendered(request.url())) mostInFlight = Math.max(mostInFlight, (inFlight += 1));
    });
    const settled = (request: Request) => {
      if (rendered(request.url())) inFlight -= 1;
    };
    page.on('requestfinished', settled);
    page.on('requestfailed', settled);
    await page.goto(film.url);
    await page.getByRole('heading', { name: 'Report' }).waitFor();
    expect(page.url()).toBe(film.url);
    await expect.poll(() => page.getByText('Lung-RADS 2', { exact: true }).count()).toBe(1);
    expect(await page.getByText('Nodules that are almost certainly benign.').count()).toBe(1);
    expect(await page.getByText('Next low-dose CT in 12 months').count()).toBe(1);
    expect(await page.getByText('Nodule 1: solid, 5 × 4 mm').count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Your CT scan' }).count()).toBe(1);
    expect(await page.getByText('Jane Doe').count()).toBe(1);
    const keyImage = page.getByRole('img', { name: 'Key image of nodule 1' });
    await expect
      .poll(
        () =>
          keyImage.evaluate((img) => {
            const image = img as unknown as { complete: boolean; naturalWidth: number };
            return image.complete ? image.naturalWidth : 0;
          }),
        { timeout: 15_000 },
      )
      .toBe(512);
    expect(await page.getByRole('link', { name: 'Download images' }).getAttribute('href')).toBe(
      '/api/film/download',
    );

    // The viewer opens on the nodule's key image; the CT is drawn.
    const caption = page.locator('.slice-caption');
    await expect.poll(() => caption.textContent()).toBe(`Slice ${NODULE_SLICE + 1} of ${SLICES}`);
    await expect.poll(() => page.locator('.viewer-status').isHidden(), { timeout: 15_000 }).toBe(true);
    expect(mostInFlight).toBeGreaterThan(0);
    expect(mostInFlight).toBeLessThanOrEqual(5);
    const slider = page.getByLabel('Slice', { exact: true });
    expect(await slider.getAttribute('max')).toBe(String(SLICES));

    let before = await canvasPixels(page);
    await slider.fill('3');
    await expect.poll(() => sliceCaption(page)).toBe(`Slice 3 of ${SLICES}`);
    await expect.poll(() => canvasPixels(page), { timeout: 15_000 }).not.toBe(before);

    before = await canvasPixels(page);
    await page.getByRole('button', { name: 'Next slice' }).click();
    await expect.poll(() => sliceCaption(page)).toBe(`Slice 4 of ${SLICES}`);
    await expect.poll(() => canvasPixels(page), { timeout: 15_000 }).not.toBe(before);

    // A finger moving up the image brings the next slices.
    before = await canvasPixels(page);
    await swipe(page, 'canvas.stack', -160);
    await expect
      .poll(async () => Number(/^Slice (\d+) of/.exec((await sliceCaption(page)) ?? '')?.[1]))
      .toBeGreaterThan(6);
    await expect.poll(() => canvasPixels(page), { timeout: 15_000 }).not.toBe(before);
    const afterSwipe = await sliceCaption(page);
    await swipe(page, 'canvas.stack', 80);
    await expect.poll(() => sliceCaption(page)).not.toBe(afterSwipe);

    // Two fingers zoom in on the same slice; a double tap shows the whole slice again.
    const whole = await canvasPixels(page);
    const slice = await sliceCaption(page);
    await pinchOut(page, 'canvas.stack');
    await expect.poll(() => canvasPixels(page)).not.toBe(whole);
    expect(await sliceCaption(page)).toBe(slice);
    const canvasBox = (await page.locator('canvas.stack').boundingBox())!;
    for (let tap = 0; tap < 2; tap += 1) {
      await page.touchscreen.tap(canvasBox.x + canvasBox.width / 2, canvasBox.y + canvasBox.height / 2);
    }
    await expect.poll(() => canvasPixels(page)).toBe(whole);
    expect(await sliceCaption(page)).toBe(slice);

    // Soft tissue window: another picture of the same slice.
    before = await canvasPixels(page);
    await page.getByRole('button', { name: 'Soft tissue' }).click();
    await expect.poll(() => canvasPixels(page), { timeout: 15_000 }).not.toBe(before);
    await page.getByRole('button', { name: 'Lung' }).click();

    // Nothing wider than the phone; touch targets are large enough.
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    expect(await smallTargets(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'film-phone-en.png'), fullPage: true });

    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '报告' }).waitFor();
    for (const heading of ['您的 CT 影像', '影像', '分享给医生', '您的链接']) {
      expect(await page.getByRole('heading', { name: heading, exact: true }).count(), heading).toBe(1);
    }
    expect(await page.getByText('结节几乎可以确定为良性。').count()).toBe(1);
    expect(await page.getByRole('link', { name: '下载影像' }).count()).toBe(1);
    expect(await page.getByLabel('层面').count()).toBe(1);
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'film-phone-zh.png'), fullPage: true });
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Report' }).waitFor();
    expect(patient.errors).toEqual([]);
  });

  it('passes the film on to a doctor, lists the link with its openings and revokes it', async () => {
    const { page } = patient;
    await page.getByLabel('Valid for').selectOption('24');
    await page.getByLabel('Allow download').check();
    await page.getByRole('button', { name: 'Create link' }).click();
    const qr = page.getByRole('img', { name: 'QR code of the link' });
    await qr.waitFor();
    const doctorUrl = (await page.locator('#new-link-url').textContent())!;
    expect(doctorUrl).toMatch(new RegExp(`^${base}/s/[A-Za-z0-9_-]{43}$`));
    expect(await decodeQrDataUrl((await qr.getAttribute('src'))!)).toBe(doctorUrl);

    // The doctor sees the film (report and images) but cannot pass it on.
    const doctor = await phone(doctorUrl);
    await doctor.page.getByRole('heading', { name: 'Report' }).waitFor();
    await expect.poll(() => doctor.page.locator('.slice-caption').textContent()).toMatch(/^Slice \d+ of 20$/);
    expect(await doctor.page.getByRole('heading', { name: 'Share with a doctor' }).count()).toBe(0);
    expect(await doctor.page.getByRole('link', { name: 'Download images' }).count()).toBe(1);

    // The patient's links: the film itself and the doctor's link, opened once. The list already shows both
    // links from before the doctor opened one, so wait for a refresh that has the opening, not for the rows.
    const rows = page.locator('table.links tbody tr[data-link-id]');
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return rows.nth(1).locator('td.count').textContent();
      })
      .toBe('1');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).locator('th').textContent()).toMatch(/^This film/);
    expect(await rows.nth(1).locator('th').textContent()).toMatch(/^Link for a doctor/);
    expect(await rows.nth(1).locator('td').nth(0).textContent()).toBe('Active');
    expect(await rows.nth(1).locator('td.count').textContent()).toBe('1');
    const doctorId = await rows.nth(1).getAttribute('data-link-id');
    const openings = page.locator(`tr[data-openings-of="${doctorId}"] li`);
    expect(await openings.count()).toBeGreaterThanOrEqual(1);
    expect(await openings.allTextContents()).toContainEqual(expect.stringContaining('opened the images'));
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'film-phone-links.png'), fullPage: true });

    // Only the doctor's link can be revoked from here (the film itself is the hospital's to withdraw).
    expect(await page.getByRole('button', { name: 'Revoke link' }).count()).toBe(1);
    await page
      .locator(`tr[data-openings-of="${doctorId}"]`)
      .getByRole('button', { name: 'Revoke link' })
      .click();
    await expect.poll(() => rows.nth(1).getAttribute('data-status')).toBe('revoked');
    expect(await page.getByRole('button', { name: 'Revoke link' }).count()).toBe(0);

    // The doctor's session ends with the link; the link now says it was withdrawn.
    expect(await doctor.page.evaluate(() => fetch('/api/film').then((r) => r.status))).toBe(401);
    const reload = await doctor.page.reload();
    expect(reload?.status()).toBe(410);
    await doctor.page.getByRole('heading', { name: 'Link withdrawn' }).waitFor();
    await doctor.page.screenshot({ path: path.join(ARTIFACTS, 'film-phone-revoked.png') });
    // The patient's own film still opens.
    expect(await page.evaluate(() => fetch('/api/film').then((r) => r.status))).toBe(200);
    expect([...patient.errors, ...doctor.errors]).toEqual([]);
    await doctor.context.close();
    await patient.context.close();
  });

  it('asks for the PIN of a protected link: a wrong one is refused on the form, the right one opens', async () => {
    const protectedShare = await share({ audience: 'patient', pin: '4821' });
    const { context, page, errors } = await phone(protectedShare.url);
    const pin = page.getByLabel('PIN', { exact: true });
    await pin.fill('0000');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByText('That PIN or date of birth is not right.').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'film-phone-pin.png') });
    expect(page.url()).toBe(protectedShare.url);
    await page.getByLabel('PIN', { exact: true }).fill('4821');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'Report' }).waitFor();
    expect(page.url()).toBe(protectedShare.url);
    // This film allows no download.
    expect(await page.getByRole('link', { name: 'Download images' }).count()).toBe(0);
    expect(await page.getByLabel('Allow download').isDisabled()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says plainly when a link is unknown, and calls no API', async () => {
    const { context, page, errors } = await phone();
    const calls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/')) calls.push(request.url());
    });
    const response = await page.goto(`${base}/s/${'x'.repeat(43)}`);
    expect(response?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Link not found' }).waitFor();
    expect(calls).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
