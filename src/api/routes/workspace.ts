import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from '../app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The workspace's browser code: src/web/workspace (also from dist/, which mirrors src/). */
const ENTRY = path.resolve(here, '..', '..', '..', 'src', 'web', 'workspace', 'main.ts');

let bundle: Promise<string> | undefined;
/** The workspace's JavaScript, bundled once per process by esbuild (nothing is fetched from elsewhere). */
function workspaceScript(): Promise<string> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  })();
  bundle.catch(() => (bundle = undefined));
  return bundle;
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #0f1720; color: #e6edf3; }
  header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #16202c; }
  header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
  main { padding: 0 1rem 1rem; }
  form.sign-in { max-width: 28rem; margin: 4rem auto; display: grid; gap: .5rem; }
  form.filters { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: .8rem 0; }
  input, select, button { font: inherit; padding: .3rem .5rem; border-radius: 4px; border: 1px solid #3b4b5c;
    background: #0b1219; color: inherit; }
  button { background: #1f6feb; border-color: #1f6feb; cursor: pointer; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #26313d; }
  thead th { color: #9fb1c2; font-weight: 600; }
  a { color: #58a6ff; }
  .error { color: #ff7b72; min-height: 1.2em; }
  .hint, .status { color: #9fb1c2; }
  #app { padding: 0 1rem 1rem; }
  .study { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 1rem; }
  .side { overflow-x: auto; }
  .side table { font-size: 13px; }
  .side td:last-child { white-space: nowrap; }
  .side select { max-width: 8.5rem; }
  img.slice { width: 100%; max-width: 640px; aspect-ratio: 1; background: #000; display: block; }
  tr[aria-selected='true'] { background: #1f2a38; }
  button[aria-pressed='true'] { outline: 2px solid #58a6ff; }
  .notice { color: #f2cc60; min-height: 1.2em; }
`;

/**
 * The radiologist's workspace at `/`: one HTML page and its bundled script under /workspace/ (public: the
 * page signs in itself, every API call it makes is authenticated). `viewerOrigin` links studies to OHIF.
 */
export function workspaceRoutes(options: { viewerPort?: (() => number | undefined) | undefined } = {}) {
  const app = new Hono<AppEnv>();
  const security = {
    'Content-Security-Policy':
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  app.get('/', (c) => {
    const url = new URL(c.req.url);
    const port = options.viewerPort?.();
    const viewerOrigin = port === undefined ? undefined : `${url.protocol}//${url.hostname}:${port}`;
    const config = JSON.stringify({ viewerOrigin }).replace(/</g, '\\u003c');
    return c.html(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>nodus workspace</title><style>${STYLE}</style></head>` +
        `<body><main id="app"></main><script type="application/json" id="nodus-config">${config}</script>` +
        `<script type="module" src="/workspace/app.js"></script></body></html>`,
      200,
      { ...security, 'Cache-Control': 'no-cache' },
    );
  });
  app.get('/workspace/app.js', async (c) =>
    c.body(await workspaceScript(), 200, {
      ...security,
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  return app;
}
