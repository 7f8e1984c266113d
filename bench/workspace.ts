// The workspace in a real browser (Debian's Chromium, headless, software WebGL): LIDC-IDRI-0001 (133 slices)
// stored through the ingest path and reconstructed, then opened in nodus's study view and, side by side in
// the same run, in OHIF 3.13 (served by nodus, reading the same WADO-RS). Goals (issue 16): a 133-slice study
// to first image < 1 s, scrolling >= 20 images/s, the whole series loaded < 5 s. Measured, median of 3 opens:
//   - first image: from the click on the worklist's Open to a canvas showing the CT (nodus's page is already
//     loaded, as a reader's is); for OHIF, which has no worklist of ours, from its page load (cold). nodus's
//     first image is the axial slice drawn in 2D over its pane; "planes" is when the volume is first drawn
//     in the three planes (the reader can window, scroll and measure from then);
//   - series loaded: from the same click until every frame is in the volume (the planes' aria-busy ends);
//   - scrolling: 60 ArrowDown presses on the axial plane, each waited until cornerstone has rendered it.
// Usage: npm run bench:workspace
import { serve, type ServerType } from '@hono/node-server';
import { MockActivityEnvironment } from '@temporalio/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import postgres from 'postgres';
import { createApp, type AppDeps } from '../src/api/app.js';
import { installedOhifDir, ohifViewerApp } from '../src/api/viewer/ohif-viewer.js';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createUser, issueToken } from '../src/db/repositories/users.js';
import { readInstanceHeader } from '../src/dicom/read-instance.js';
import { storeInstance } from '../src/ingest/store-instance.js';
import { createLogger } from '../src/logging/logger.js';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.js';
import {
  createReconstructActivities,
  type ReconstructionOutcome,
} from '../src/temporal/activities/reconstruct.js';
import { createReviewActivities } from '../src/temporal/activities/review.js';
import { launchChromium } from '../test/fixtures/chromium.js';
import { lidcSlices } from '../test/fixtures/sample-data.js';

const RUNS = 3;
/**
 * What the page measures of itself (performance.now(), ms), installed before its scripts run:
 *   firstImage(css): when a canvas matching `css` first shows the CT: its middle row lit and with at least
 *     MIN_GREY_LEVELS grey levels (an empty volume, 0 HU, is a uniform bright slab: not counted);
 *   loaded(): when the study view's planes are no longer aria-busy (every frame in the volume);
 *   scroll(count): images per second over `count` arrow presses, each waited until the axial plane rendered.
 */
const PROBES = `
const MIN_GREY_LEVELS = 32;
window.__bench = {
  firstImage: (css) => new Promise((resolve, reject) => {
    const until = performance.now() + 30000;
    const look = () => {
      if (performance.now() > until) {
        const found = [...document.querySelectorAll(css)].map((c) => c.width + 'x' + c.height);
        return reject(new Error('no CT on a canvas under ' + css + ' within 30 s; canvases: ' + found));
      }
      for (const canvas of document.querySelectorAll(css)) {
        const context = canvas.getContext('2d', { willReadFrequently: true });
        if (!context || canvas.width < 64) continue;
        const row = context.getImageData(0, canvas.height >> 1, canvas.width, 1).data;
        let lit = 0;
        const levels = new Set();
        for (let p = 0; p < row.length; p += 4) {
          if (row[p] > 40) lit += 1;
          levels.add(row[p]);
        }
        // CT, not an empty volume (0 HU everywhere is a uniform bright slab in the lung window): a lit row
        // with the many grey levels of real anatomy.
        if (lit > canvas.width / 8 && levels.size >= MIN_GREY_LEVELS) return resolve(performance.now());
      }
      requestAnimationFrame(look);
    };
    look();
  }),
  loaded: () => new Promise((resolve) => {
    const check = () => {
      if (document.querySelector('.planes')?.getAttribute('aria-busy') === 'false') resolve(performance.now());
      else setTimeout(check, 10);
    };
    check();
  }),
  marks: (since) => {
    const frames = performance.getEntriesByType('resource').filter((r) => r.name.includes('/frames/'));
    const first = (key) => Math.round(Math.min(...frames.map((r) => r[key])) - since);
    return performance.getEntriesByType('mark')
      .filter((m) => m.name.startsWith('nodus:'))
      .map((m) => m.name.slice(6) + ' ' + Math.round(m.startTime - since))
      .concat(frames.length ? ['frame requested ' + first('startTime'), 'frame answered ' + first('responseEnd')] : [])
      .join(', ');
  },
  open: () => {
    const at = performance.now();
    document.querySelector('table a[href^="#/studies/"]').click();
    return at;
  },
  scroll: async (count) => {
    const axial = document.querySelector('[aria-label="Axial"]');
    const root = document.getElementById('app');
    const at = performance.now();
    for (let n = 0; n < count; n += 1) {
      const done = new Promise((resolve) =>
        axial.addEventListener('CORNERSTONE_IMAGE_RENDERED', resolve, { once: true }));
      root.dispatchEvent(new KeyboardEvent('keydown', { key: n < count / 2 ? 'ArrowDown' : 'ArrowUp' }));
      await done;
    }
    return (count / (performance.now() - at)) * 1000;
  },
};`;
const probe = (page: Page, call: string) => page.evaluate<number>(`window.__bench.${call}`);
const SCROLLS = 60;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const files = await lidcSlices(0, 133);
const header = readInstanceHeader(files[0]!);

const databaseName = `nodus_bench_workspace_${Date.now()}`;
const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
await admin`create database ${admin(databaseName)}`;
const url = new URL(SERVER_URL);
url.pathname = `/${databaseName}`;
const database = openDatabase(url.toString(), { max: 4 });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-bench-workspace-'));
const servers: ServerType[] = [];
const browser = await launchChromium();

try {
  await runMigrations(database);
  const blobs = new FilesystemBlobStore(path.join(work, 'blobs'));
  const ingest = { db: database.db, blobs, notifySeries: () => Promise.resolve() };
  for (const file of files) await storeInstance(ingest, file, 'bench');
  // Reconstruction and the worklist entry as the workflow's activities make them (no detection needed here).
  const activity = new MockActivityEnvironment();
  const reconstruct = createReconstructActivities({ db: database.db, blobs });
  const review = createReviewActivities({ db: database.db });
  const seriesInstanceUid = header.seriesInstanceUid;
  const reconstructed: ReconstructionOutcome = await activity.run(
    (input: { seriesInstanceUid: string }) => reconstruct.reconstructSeriesVolume(input),
    { seriesInstanceUid },
  );
  if (!reconstructed.volumeKey) throw new Error('LIDC-IDRI-0001 did not reconstruct');
  await activity.run(() => review.assessStudyForReview({ seriesInstanceUid }));
  const user = await createUser(database.db, {
    email: 'reader@bench.example',
    displayName: 'Bench Reader',
    role: 'radiologist',
    institutionCodes: ['UNKNOWN'],
  });
  const { token } = await issueToken(database.db, user.id, { label: 'bench' });
  const app = createApp({
    db: database.db,
    seriesWorkflows: {} as AppDeps['seriesWorkflows'],
    ingest,
    logger: createLogger('warn'),
    readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
  });
  const listen = (fetch: (request: Request) => Response | Promise<Response>) =>
    new Promise<string>((resolve) => {
      const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      );
      servers.push(server);
    });
  const base = await listen(app.fetch);
  const ohifDir = installedOhifDir();
  const ohif = ohifDir
    ? await listen(ohifViewerApp({ distDir: ohifDir, dicomweb: app.fetch }).fetch)
    : undefined;
  console.log(
    `workspace benchmark: ${os.cpus().length} cores, Chromium headless (software WebGL), ` +
      `LIDC-IDRI-0001 ${files.length} slices ${header.rows}x${header.columns}, median of ${RUNS}`,
  );

  const rows: [string, string, string, string][] = [];
  const signedIn = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript({ content: PROBES });
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: 'Worklist' }).getByRole('link', { name: 'Open' }).first().waitFor();
    return { context, page };
  };

  // nodus: sign in, then each run opens the study from the worklist in a fresh page (nothing cached).
  const nodus = {
    first: [] as number[],
    planes: [] as number[],
    loaded: [] as number[],
    scroll: [] as number[],
  };
  for (let run = 0; run < RUNS; run += 1) {
    const { context, page } = await signedIn();
    const started = await probe(page, 'open()');
    const shown = await probe(page, `firstImage('[aria-label="Axial"] canvas')`);
    const loaded = await probe(page, 'loaded()');
    const rate = await probe(page, `scroll(${SCROLLS})`);
    console.log(
      `  nodus run ${run + 1} stages (ms after the click): ${await page.evaluate<string>(`window.__bench.marks(${started})`)}`,
    );
    nodus.first.push(shown - started);
    // The volume's first drawing in the three planes (until then the first image is the 2D slice).
    nodus.planes.push(
      (await page.evaluate<number>(
        `performance.getEntriesByName('nodus:first-render')[0]?.startTime ?? NaN`,
      )) - started,
    );
    nodus.loaded.push(loaded - started);
    nodus.scroll.push(rate);
    console.log(
      `  nodus run ${run + 1}: first image ${(shown - started).toFixed(0)} ms, loaded ${(loaded - started).toFixed(0)} ms, ` +
        `scrolling ${rate.toFixed(1)} images/s`,
    );
    await context.close();
  }
  rows.push([
    'nodus study view',
    `${median(nodus.first).toFixed(0)} ms (planes ${median(nodus.planes).toFixed(0)} ms)`,
    `${median(nodus.loaded).toFixed(0)} ms`,
    `${median(nodus.scroll).toFixed(1)} images/s`,
  ]);

  // OHIF 3.13 on the same WADO-RS (the session cookie signs its requests): its first image and full load.
  if (ohif) {
    const first: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const { context } = await signedIn();
      const page = await context.newPage();
      const started = Date.now();
      await page.goto(`${ohif}/viewer?StudyInstanceUIDs=${header.studyInstanceUid}`, { waitUntil: 'commit' });
      const navigationStart = await page.evaluate<number>('performance.timeOrigin');
      const shown = await probe(page, `firstImage('.cornerstone-canvas')`);
      first.push(navigationStart + shown - started);
      await context.close();
    }
    rows.push(['OHIF 3.13 (cold page)', `${median(first).toFixed(0)} ms`, '-', '-']);
  } else rows.push(['OHIF 3.13 (reference)', 'not installed (node scripts/bootstrap.mjs)', '-', '-']);

  const widths = [24, 28, 16, 16];
  const line = (cells: string[]) => cells.map((cell, n) => cell.padEnd(widths[n]!)).join(' ');
  console.log(line(['viewer', 'first image', 'series loaded', 'scrolling']));
  for (const row of rows) console.log(line(row));
  console.log('goals: first image < 1000 ms, series loaded < 5000 ms, scrolling >= 20 images/s');
} finally {
  await browser.close();
  for (const server of servers) server.close();
  await database.close();
  await admin`drop database if exists ${admin(databaseName)} with (force)`;
  await admin.end();
  fs.rmSync(work, { recursive: true, force: true });
}
