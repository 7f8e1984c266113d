import { serve, type ServerType } from '@hono/node-server';
import dicomParser from 'dicom-parser';
import { eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/api/app.js';
import { installedOhifDir, ohifViewerApp } from '../../src/api/viewer/ohif-viewer.js';
import { institutionCode } from '../../src/db/repositories/instances.js';
import { writeNoduleStructuredReport } from '../../src/dicom/nodule-sr.js';
import { sourceSeriesReferencesFromBytes } from '../../src/dicom/source-series-references.js';
import type { CaliperAxes } from '../../src/shared/caliper-axes.js';
import { storeInstance, type IngestDeps } from '../../src/ingest/store-instance.js';
import { storeDerivedObject } from '../../src/ingest/store-signed-off-objects.js';
import { institutions } from '../../src/db/schema/index.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { callerWithRole } from '../fixtures/authorized.js';
import { luminanceStats, pngLuminance } from '../fixtures/png-pixels.js';
import { relabelledInstance } from '../fixtures/relabelled-instance.js';
import { lidcSlices, sampleDir } from '../fixtures/sample-data.js';
import { storedPixelData } from '../fixtures/stored-pixel-data.js';
import { launchChromium } from '../fixtures/chromium.js';
import { imagePointLps } from '../fixtures/image-point.js';
import { testUid } from '../fixtures/synthetic-instance.js';
import { connectTestServices, testLogger } from './services.js';

const ARTIFACTS = path.resolve('test-artifacts');
const SLICES = 24;
const ohifDir = installedOhifDir();

function listen(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}
const origin = (server: ServerType) => `http://127.0.0.1:${(server.address() as { port: number }).port}`;

function pixelSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(storedPixelData(bytes)).digest('hex');
}

describe.skipIf(!sampleDir || !ohifDir)(
  'DICOMweb from real browser clients: dicomweb-client and OHIF v3 in Chromium',
  () => {
    let services: Awaited<ReturnType<typeof connectTestServices>>;
    let apiServer: ServerType;
    let viewerServer: ServerType;
    let browser: Browser;
    let token: string;
    const tag = `BR${Date.now().toString(36)}`;
    const study = testUid();
    const series = testUid();
    const sent: Uint8Array[] = [];
    /** The SR's nodule: a bidirectional caliper on the 13th image, 20.4 x 12.2 mm. */
    let caliperImageNumber = 0;
    const reported = { longAxisMm: 20.4, shortAxisMm: 12.2, meanDiameterMm: 16.3, type: 'solid' as const };

    beforeAll(async () => {
      services = await connectTestServices();
      const ingest: IngestDeps = {
        db: services.database.db,
        blobs: new FilesystemBlobStore(await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-browser-'))),
        notifySeries: () => Promise.resolve(),
      };
      const hospital = `Browser Hospital ${tag}`;
      for (const [n, slice] of (await lidcSlices(50, SLICES)).entries()) {
        const bytes = relabelledInstance(slice, {
          studyInstanceUid: study,
          seriesInstanceUid: series,
          sopInstanceUid: testUid(),
          patientId: `${tag}-1`,
          patientName: 'Browser^Patient',
          studyDate: '20240202',
          accessionNumber: `ACC-${tag}`,
          institutionName: hospital,
          instanceNumber: n + 1,
        });
        sent.push(bytes);
        await storeInstance(ingest, bytes, 'test');
      }
      // An SR as nodus writes it, its nodule's axes on one image: OHIF must load it as tracked measurements.
      const source = sourceSeriesReferencesFromBytes(sent);
      const image = source.images[12]!;
      caliperImageNumber =
        sent.findIndex(
          (bytes) => dicomParser.parseDicom(bytes).string('x00080018') === image.sopInstanceUid,
        ) + 1;
      const [ps] = image.plane!.pixelSpacingMm;
      const [c, r] = [180, 300];
      const axesLps: CaliperAxes = {
        long: [imagePointLps(image, c - 10.2 / ps, r), imagePointLps(image, c + 10.2 / ps, r)],
        short: [imagePointLps(image, c, r - 6.1 / ps), imagePointLps(image, c, r + 6.1 / ps)],
      };
      const sr = writeNoduleStructuredReport(source, [{ ...reported, axesLps }], {
        algorithmName: 'nodus-detector',
        algorithmVersion: '2.0.0',
        seriesDescription: 'nodus nodule report',
      });
      const [institution] = await services.database.db
        .select({ id: institutions.id })
        .from(institutions)
        .where(eq(institutions.code, institutionCode(hospital)));
      await storeDerivedObject(ingest, institution!.id, sr, 'test');
      const api = createApp({
        db: services.database.db,
        seriesWorkflows: {} as AppDeps['seriesWorkflows'],
        ingest,
        logger: testLogger,
        readiness: { postgres: () => Promise.resolve(), temporal: () => Promise.resolve() },
      });
      const caller = await callerWithRole(
        services.database.db,
        api,
        'radiologist',
        institutionCode(hospital),
      );
      token = caller.token;
      apiServer = await listen(api.fetch);
      viewerServer = await listen(ohifViewerApp({ distDir: ohifDir!, dicomweb: api.fetch }).fetch);
      browser = await launchChromium();
      await fs.mkdir(ARTIFACTS, { recursive: true });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => apiServer?.close(resolve));
      await new Promise((resolve) => viewerServer?.close(resolve));
      await services?.close();
    });

    it('dicomweb-client (the library OHIF uses) lists and loads a series; frames equal the stored pixel data', async () => {
      const page = await browser.newPage();
      await page.goto(`${origin(apiServer)}/healthz`);
      const script = createRequire(import.meta.url).resolve('dicomweb-client/build/dicomweb-client.js');
      await page.addScriptTag({ path: script });
      const firstSop = dicomParser.parseDicom(sent[0]!).string('x00080018')!;
      const result = await page.evaluate(
        async ({ base, bearer, patientId, studyUid, seriesUid, sopUid }) => {
          const { api } = (
            globalThis as unknown as {
              DICOMwebClient: {
                api: { DICOMwebClient: new (o: object) => Record<string, (o: object) => Promise<unknown>> };
              };
            }
          ).DICOMwebClient;
          const client = new api.DICOMwebClient({
            url: `${base}/dicomweb`,
            headers: { Authorization: `Bearer ${bearer}` },
          });
          const studies = (await client.searchForStudies!({
            queryParams: { PatientID: patientId },
          })) as unknown[];
          const seriesList = (await client.searchForSeries!({ studyInstanceUID: studyUid })) as unknown[];
          const metadata = (await client.retrieveSeriesMetadata!({
            studyInstanceUID: studyUid,
            seriesInstanceUID: seriesUid,
          })) as unknown[];
          const frames = (await client.retrieveInstanceFrames!({
            studyInstanceUID: studyUid,
            seriesInstanceUID: seriesUid,
            sopInstanceUID: sopUid,
            frameNumbers: [1],
          })) as ArrayBuffer[];
          const instance = (await client.retrieveInstance!({
            studyInstanceUID: studyUid,
            seriesInstanceUID: seriesUid,
            sopInstanceUID: sopUid,
          })) as ArrayBuffer;
          const digest = await crypto.subtle.digest('SHA-256', frames[0]!);
          const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
          return {
            studies: studies.length,
            series: seriesList.length,
            instances: metadata.length,
            frameSha256: hex,
            instanceBytes: instance.byteLength,
          };
        },
        {
          base: origin(apiServer),
          bearer: token,
          patientId: `${tag}-1`,
          studyUid: study,
          seriesUid: series,
          sopUid: firstSop,
        },
      );
      expect(result).toEqual({
        studies: 1,
        // The CT and the SR.
        series: 2,
        instances: SLICES,
        frameSha256: pixelSha256(sent[0]!),
        instanceBytes: sent[0]!.byteLength,
      });
      await page.close();
    });

    it('OHIF opens the study from nodus (IHE IID launch): the viewport renders the CT, nothing leaves the machine', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const offMachine: string[] = [];
      const failed: string[] = [];
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(origin(viewerServer)) && !url.startsWith('data:') && !url.startsWith('blob:'))
          offMachine.push(url);
      });
      page.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${origin(viewerServer)}/?requestType=STUDY&studyUID=${study}&token=${token}`);
      await page.waitForURL(/\/viewer\?StudyInstanceUIDs=/);
      const canvas = page.locator('.cornerstone-canvas').first();
      await canvas.waitFor({ state: 'visible', timeout: 90_000 });
      let stats = { mean: 0, sd: 0, brightShare: 0 };
      for (let attempt = 0; attempt < 60 && stats.sd < 20; attempt += 1) {
        await page.waitForTimeout(1000);
        const shot = await canvas.screenshot();
        stats = luminanceStats(pngLuminance(shot).luminance);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-study.png') });
      // A CT slice in a viewport: body and lungs, not a blank or uniform canvas.
      expect(stats.sd, JSON.stringify(stats)).toBeGreaterThan(20);
      expect(stats.brightShare).toBeGreaterThan(0.1);
      expect(offMachine).toEqual([]);
      expect(failed).toEqual([]);
      expect(
        await page.evaluate(() => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated),
      ).toBe(true);
      await page.close();
    });

    it("OHIF loads nodus's SR as tracked measurements: the bidirectional caliper is on its image", async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${origin(viewerServer)}/?requestType=STUDY&studyUID=${study}&token=${token}`);
      await page.waitForURL(/\/viewer\?StudyInstanceUIDs=/);
      await page.locator('.cornerstone-canvas').first().waitFor({ state: 'visible', timeout: 90_000 });
      // The SR's thumbnail in the study browser; opened, OHIF reads it and offers nothing to confirm.
      await page.getByText('nodus nodule report', { exact: true }).dblclick({ timeout: 30_000 });
      const row = page.locator('[data-cy="measurement-table-row-0"]');
      // OHIF asks whether to track this study's measurements: the reader says yes, and they are loaded.
      await page.getByRole('button', { name: 'Yes' }).click({ timeout: 30_000 });
      await page.locator('[data-cy="trackedMeasurements-btn"]').click();
      await row.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-sr-tracked.png') });
      // One tracked measurement: the nodule (the SR's Finding), its two axes, on the image the SR names.
      expect(await page.locator('[data-cy^="measurement-table-row-"]').count()).toBe(1);
      const text = (await row.textContent()) ?? '';
      expect(text).toMatch(/Nodule/);
      expect(text).toMatch(/L: 20\.4 mm/);
      expect(text).toMatch(/W: 12\.2 mm/);
      expect(text).toMatch(new RegExp(`I: ?${caliperImageNumber}$`));
      expect(errors).toEqual([]);
      await page.close();
    });

    it('the viewer origin answers app-config.js pointing at its own DICOMweb, and DICOMweb needs the token there too', async () => {
      const config = await (await fetch(`${origin(viewerServer)}/app-config.js`)).text();
      expect(config).toContain('"qidoRoot": "/dicomweb"');
      expect(config).not.toMatch(/https?:\/\//);
      expect((await fetch(`${origin(viewerServer)}/dicomweb/studies`)).status).toBe(401);
      const listed = await fetch(`${origin(viewerServer)}/dicomweb/studies?PatientID=${tag}-1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await listed.json()) as unknown[]).length).toBe(1);
    });
  },
);
