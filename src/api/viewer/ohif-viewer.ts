import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { isDicomUid } from '../../shared/dicom-uid.js';

/** The OHIF release scripts/install-ohif.mjs installs (keep the two equal). */
export const OHIF_VERSION = '3.13.2';

/** Where the bootstrap unpacks OHIF's prebuilt dist/ (.tools/ohif/<version>), or undefined when absent. */
export function installedOhifDir(
  root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
): string | undefined {
  const dir = path.join(root, '.tools', 'ohif', OHIF_VERSION);
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined;
}

/**
 * OHIF's app-config.js for nodus: one DICOMweb data source on the viewer's own origin (so metadata
 * BulkDataURIs, frames and thumbnails are same-origin requests), the study list, no tours, no external
 * services. The bearer token comes from the launch URL (`?token=`), which OHIF keeps in memory only.
 */
export function ohifAppConfig(): string {
  const config = {
    routerBasename: '/',
    extensions: [],
    modes: [],
    customizationService: { 'ohif.tours': { $set: [] } },
    investigationalUseDialog: { option: 'never' },
    showStudyList: true,
    maxNumberOfWebWorkers: 2,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: true,
    showLoadingIndicator: true,
    strictZSpacingForVolumeViewport: true,
    defaultDataSourceName: 'dicomweb',
    dataSources: [
      {
        namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
        sourceName: 'dicomweb',
        configuration: {
          friendlyName: 'nodus',
          name: 'nodus',
          wadoUriRoot: '/wado',
          qidoRoot: '/dicomweb',
          wadoRoot: '/dicomweb',
          qidoSupportsIncludeField: true,
          imageRendering: 'wadors',
          thumbnailRendering: 'wadors',
          enableStudyLazyLoad: true,
          supportsFuzzyMatching: false,
          supportsWildcard: true,
          staticWado: false,
          singlepart: false,
          bulkDataURI: { enabled: true },
          omitQuotationForMultipartRequest: true,
        },
      },
    ],
  };
  return `window.config = ${JSON.stringify(config, null, 2)};\n`;
}

/**
 * The OHIF viewer on an origin of its own (OHIF's bundle expects to be served from `/`): its static files,
 * nodus's app-config.js, IHE IID launch (`?requestType=STUDY&studyUID=`), and nodus's DICOMweb routes on
 * the same origin (`dicomweb` is the nodus API's fetch). Cross-origin isolated (COOP/COEP), so the viewer
 * may use SharedArrayBuffer.
 */
export function ohifViewerApp(options: {
  distDir: string;
  dicomweb: (request: Request, env: unknown) => Response | Promise<Response>;
}) {
  const app = new Hono();
  const index = fs.readFileSync(path.join(options.distDir, 'index.html'), 'utf8');
  const config = ohifAppConfig();

  app.use('*', async (c, next) => {
    await next();
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Embedder-Policy', 'require-corp');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
  });
  for (const prefix of ['/dicomweb', '/dicomweb/*', '/wado']) {
    app.all(prefix, (c) => options.dicomweb(c.req.raw, c.env));
  }
  app.use('*', compress());

  // IHE Invoke Image Display (ITI IID): open one study.
  const launch = (c: { req: { query(name: string): string | undefined } }) => {
    const study = c.req.query('studyUID') ?? c.req.query('StudyInstanceUID');
    if (c.req.query('requestType') !== 'STUDY' || study === undefined) return undefined;
    const uids = study.split(/[,\\]/).filter(isDicomUid);
    return uids.length > 0 ? `/viewer?StudyInstanceUIDs=${uids.join(',')}` : undefined;
  };
  for (const route of ['/', '/IHEInvokeImageDisplay']) {
    app.get(route, async (c, next) => {
      const target = launch(c);
      if (!target) return next();
      const token = c.req.query('token');
      return c.redirect(token ? `${target}&token=${encodeURIComponent(token)}` : target, 302);
    });
  }
  app.get('/app-config.js', (c) =>
    c.body(config, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }),
  );
  app.use('*', serveStatic({ root: options.distDir }));
  // Client-side routes (/viewer, /segmentation, ...) are OHIF's: every other GET gets its index.html.
  app.get('*', (c) => c.html(index, 200, { 'Cache-Control': 'no-cache' }));
  return app;
}
