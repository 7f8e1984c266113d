import { serve, type ServerType } from '@hono/node-server';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import type { CaliperAxes } from '../../src/shared/caliper-axes.js';
import { seriesWorkflows } from '../../src/temporal/series-workflows.js';
import { createSeriesWorker, type SeriesWorkerHandle } from '../../src/temporal/worker.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { launchChromium } from '../fixtures/chromium.js';
import { readNaturalized } from '../fixtures/nodule-outputs.js';
import { luminanceStats, pngLuminance, pngPixels } from '../fixtures/png-pixels.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger, uniqueTaskQueue } from './services.js';

const ARTIFACTS = path.resolve('test-artifacts');
/** LIDC-IDRI-0001: 133 axial slices of 2.5 mm. */
const SLICES = 133;

interface Detail {
  review: { version: number; status: string; finalCategory: string | null };
  nodules: {
    noduleId: string;
    origin: string;
    decision: string;
    longAxisMm: number | null;
    axesLps: CaliperAxes | null;
  }[];
}

/** Every content item of a naturalized SR content tree, depth first. */
function contentItems(node: Record<string, unknown>, out: Record<string, unknown>[] = []) {
  for (const child of (node.ContentSequence as Record<string, unknown>[] | undefined) ?? []) {
    out.push(child);
    contentItems(child, out);
  }
  return out;
}

/** Every NumericValue in a naturalized SR content tree (TID 1500 measurements). */
function numericValues(node: unknown, out: number[] = []): number[] {
  if (Array.isArray(node)) for (const item of node) numericValues(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'NumericValue') out.push(Number(value));
      else numericValues(value, out);
    }
  }
  return out;
}

/** Pixels of an element's screenshot that are coloured (not grey): the mask outline, not the CT. */
async function colouredPixels(locator: Locator): Promise<number> {
  const { rgba } = pngPixels(await locator.screenshot());
  let count = 0;
  for (let p = 0; p < rgba.length; p += 4) {
    const [r, g, b] = [rgba[p]!, rgba[p + 1]!, rgba[p + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) count += 1;
  }
  return count;
}

describe.skipIf(!sampleDir)('the study view on real CT (LIDC-IDRI-0001 through Temporal, Chromium)', () => {
  let services: Awaited<ReturnType<typeof connectTestServices>>;
  let worker: SeriesWorkerHandle;
  let server: ServerType;
  let browser: Browser;
  let base: string;
  let caller: Awaited<ReturnType<typeof callerWithRole>>;
  let studyId: string;

  beforeAll(async () => {
    services = await connectTestServices();
    const db = services.database.db;
    const blobs = new FilesystemBlobStore(await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-study-view-')));
    const taskQueue = uniqueTaskQueue('study-view');
    worker = await createSeriesWorker({
      address: services.temporalAddress,
      namespace: 'default',
      taskQueue,
      deps: { db, blobs, detector: await loadDetector(undefined) },
    });
    void worker.run();
    const workflows = seriesWorkflows(services.client, { taskQueue, quietPeriodMs: 300 });
    const ingest: IngestDeps = { db, blobs, notifySeries: () => Promise.resolve() };
    const tag = Date.now().toString(36).toUpperCase();
    const hospital = `Reading Hospital ${tag}`;
    // The same CT twice, a year apart, for one patient: the later study has the earlier as its prior.
    const slices = await lidcSlices(0, SLICES);
    for (const studyDate of ['20230303', '20240303']) {
      const [study, seriesUid] = [testUid(), testUid()];
      for (const [n, slice] of slices.entries()) {
        const bytes = relabelledInstance(slice, {
          studyInstanceUid: study,
          seriesInstanceUid: seriesUid,
          sopInstanceUid: testUid(),
          patientId: `${tag}-1`,
          patientName: 'Reader^Patient',
          studyDate,
          accessionNumber: `ACC-${tag}-${studyDate}`,
          institutionName: hospital,
          instanceNumber: n + 1,
        });
        await storeInstance(ingest, bytes, 'test');
      }
      await workflows.start(seriesUid);
      const result = await workflows.result(seriesUid);
      expect(result.status).toBe('done');
    }
    const app = createApp({
      db,
      seriesWorkflows: workflows,
      ingest,
      logger: testLogger,
      readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
    });
    caller = await callerWithRole(db, app, 'radiologist', institutionCode(hospital));
    const worklist = (await (await caller.request('/api/worklist')).json()) as {
      items: { studyId: string; studyDate: string }[];
    };
    studyId = worklist.items.find((item) => item.studyDate === '2024-03-03')!.studyId;
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await launchChromium();
    await fs.mkdir(ARTIFACTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await worker?.shutdown();
    await services?.close();
  });

  const detail = async () => (await (await caller.request(`/api/studies/${studyId}`)).json()) as Detail;

  /** A fresh 1280x800 page, signed in, with the study opened from the worklist; page errors are collected. */
  async function openStudy() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(base);
    await page.getByLabel('Token').fill(caller.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const worklist = page.getByRole('table', { name: 'Worklist' });
    await worklist.locator(`tr[data-study-id="${studyId}"]`).getByRole('link', { name: 'Open' }).click();
    await page.getByRole('table', { name: 'Nodules' }).waitFor();
    return { context, page, errors };
  }

  it('shows the CT in three planes from WADO-RS, windows it, jumps to a nodule with its mask outlined', async () => {
    const { context, page, errors } = await openStudy();
    const axial = page.getByRole('img', { name: 'Axial' });
    for (const plane of ['Axial', 'Coronal', 'Sagittal']) {
      await expect.poll(() => page.getByText(new RegExp(`^${plane} \\d+ / \\d+$`)).count()).toBe(1);
    }
    // The axial plane has the series' slices; the CT is on screen, not a blank canvas.
    await expect
      .poll(async () => (await page.getByText(/^Axial \d+ \/ \d+$/).textContent())?.split(' / ')[1])
      .toBe(String(SLICES));
    await expect
      .poll(async () => luminanceStats(pngLuminance(await axial.screenshot()).luminance).sd, {
        timeout: 20_000,
      })
      .toBeGreaterThan(20);
    // The first image was the axial slice drawn in 2D over the pane, gone once the volume was drawn.
    expect(await page.evaluate(() => performance.getEntriesByName('nodus:first-slice').length)).toBe(1);
    await expect.poll(() => axial.locator(':scope > canvas').count()).toBe(0);
    for (const plane of ['Coronal', 'Sagittal']) {
      const stats = luminanceStats(
        pngLuminance(await page.getByRole('img', { name: plane }).screenshot()).luminance,
      );
      expect(stats.sd, plane).toBeGreaterThan(20);
    }

    // The AI's first nodule is selected: the planes are centred on it and its mask is outlined.
    const nodules = page.getByRole('table', { name: 'Nodules' });
    expect(await nodules.locator('tbody tr').count()).toBeGreaterThan(0);
    await expect.poll(() => nodules.locator('tbody tr').first().getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => colouredPixels(axial), { timeout: 10_000 }).toBeGreaterThan(10);
    // Against the prior (the same CT a year before): matched, stable, no change in size.
    expect(await nodules.locator('tbody tr').first().locator('td').nth(7).textContent()).toBe(
      'stable +0.0 mm',
    );
    await expect.poll(() => page.getByText(/^Prior 2023-03-03 \d+ \/ 133$/).count()).toBe(1);
    const priorPane = page.getByRole('img', { name: 'Prior' });
    await expect
      .poll(async () => luminanceStats(pngLuminance(await priorPane.screenshot()).luminance).sd, {
        timeout: 20_000,
      })
      .toBeGreaterThan(20);
    // Centred on the matched prior nodule: the two axial planes show the same slice of the same CT.
    const slice = async (name: string) =>
      (await page.getByText(new RegExp(`^${name}.* (\\d+) / 133$`)).textContent())?.match(
        /(\d+) \/ 133$/,
      )?.[1];
    await expect.poll(() => slice('Prior')).toBe(await slice('Axial'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-study.png') });

    // Window presets change what is shown; the keyboard scrolls the axial plane.
    const lung = luminanceStats(pngLuminance(await axial.screenshot()).luminance).mean;
    await page.getByRole('button', { name: 'Mediastinum window' }).click();
    await expect
      .poll(async () =>
        Math.abs(luminanceStats(pngLuminance(await axial.screenshot()).luminance).mean - lung),
      )
      .toBeGreaterThan(5);
    const caption = page.getByText(/^Axial \d+ \/ \d+$/);
    const before = await caption.textContent();
    await page.locator('main').press('ArrowDown');
    await expect.poll(() => caption.textContent()).not.toBe(before);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('accepts, rejects, edits with the caliper, adds by a click, signs off: the API, SR and audit agree', async () => {
    const { context, page, errors } = await openStudy();
    const nodules = page.getByRole('table', { name: 'Nodules' });
    const row = (n: number) => nodules.locator('tbody tr').nth(n);
    const aiCount = await nodules.locator('tbody tr').count();
    await page.getByText(/^Axial \d+ \/ 133$/).waitFor();

    await row(0).getByRole('button', { name: 'Accept' }).click();
    await expect.poll(() => row(0).locator('td').nth(6).textContent()).toBe('accepted');
    // The reader changes their mind: rejected, with the reason.
    await row(0).getByRole('combobox', { name: 'Reason' }).selectOption('vessel');
    await row(0).getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => row(0).locator('td').nth(6).textContent()).toBe('rejected (vessel)');

    // Edit: the caliper drawn on the axial image fills the long and short axes.
    await row(0).getByRole('button', { name: 'Edit' }).click();
    const axial = page.getByRole('img', { name: 'Axial' });
    const box = (await axial.boundingBox())!;
    const [x, y] = [box.x + box.width * 0.45, box.y + box.height * 0.5];
    const long = page.getByLabel('Long axis (mm)', { exact: true });
    const aiLong = await long.inputValue();
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + box.width * 0.05, y, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => long.inputValue()).not.toBe(aiLong);
    // 5 % of the axial pane's width, at the zoom that fits 512 columns of 0.7 mm: a few centimetres at most.
    const measured = Number(await long.inputValue());
    expect(measured).toBeGreaterThan(3);
    expect(measured).toBeLessThan(60);
    expect(Number(await page.getByLabel('Short axis (mm)', { exact: true }).inputValue())).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'workspace-caliper.png') });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => row(0).locator('td').nth(0).textContent()).toBe(measured.toFixed(1));

    // Add: a click on the coronal image places a reader's nodule; another reader acts first, nothing is lost.
    await page.getByRole('button', { name: 'Add nodule' }).click();
    const coronal = page.getByRole('img', { name: 'Coronal' });
    await coronal.click({ position: { x: 60, y: 80 } });
    await page.getByLabel('Long axis (mm)', { exact: true }).fill('6.5');
    await page.getByLabel('Short axis (mm)', { exact: true }).fill('5');
    const other = await caller.request(`/api/studies/${studyId}/review-actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: (await detail()).review.version,
        action: 'edit',
        noduleId: await row(0).getAttribute('data-nodule-id'),
        // Not a length: the caliper's end points stay with the nodule.
        changes: { suspiciousFeatures: false },
      }),
    });
    expect(other.status).toBe(201);
    await page.getByRole('button', { name: 'Save nodule' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toMatch(/Another reader changed this study first/);
    expect(await page.getByLabel('Long axis (mm)', { exact: true }).inputValue()).toBe('6.5');
    await page.getByRole('button', { name: 'Save nodule' }).click();
    await expect.poll(() => nodules.locator('tbody tr').count()).toBe(aiCount + 1);

    await page.getByLabel('Final category').selectOption('4B');
    await page.getByRole('button', { name: 'Sign off' }).click();
    // Sign-off also writes the SR and SEG as series of the study: allow a loaded machine its time.
    await expect.poll(() => page.getByText('Signed off: 4B').count(), { timeout: 30_000 }).toBe(1);
    expect(errors).toEqual([]);
    await context.close();

    // The API, the audit log of review actions and the SR say the same.
    const after = await detail();
    expect(after.review).toMatchObject({ status: 'signed-off', finalCategory: '4B' });
    const added = after.nodules.find((n) => n.origin === 'reader')!;
    expect(added.longAxisMm).toBe(6.5);
    const log = (await (await caller.request(`/api/studies/${studyId}/review-actions`)).json()) as {
      actions: { action: string }[];
    };
    expect(log.actions.map((a) => a.action)).toEqual(['accept', 'reject', 'edit', 'edit', 'add', 'sign-off']);
    const sr = await caller.request(`/api/studies/${studyId}/sr`);
    expect(sr.status).toBe(200);
    const report = readNaturalized(new Uint8Array(await sr.arrayBuffer()));
    const values = numericValues(report);
    expect(values).toContain(6.5);
    expect(values).toContain(measured);
    // The caliper's end points were kept (they span its length) and the SR draws them on the axial image
    // (what OHIF loads as a tracked measurement); the typed nodule has none.
    const edited = after.nodules.find((n) => n.origin === 'ai')!;
    const [a, b] = edited.axesLps!.long;
    expect(Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2])).toBeCloseTo(measured, 0);
    expect(added.axesLps).toBeNull();
    const items = contentItems(report);
    expect(items.filter((i) => i.TextValue === 'Cornerstone3DTools@^0.1.0:Bidirectional')).toHaveLength(1);
    expect(items.filter((i) => i.ValueType === 'SCOORD' && i.GraphicType === 'POLYLINE')).toHaveLength(2);
  });
});
