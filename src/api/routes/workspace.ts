import fs from 'node:fs/promises';
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../app.js';
import { codecFile, workspaceBundle, type WorkspaceBundle } from './workspace-assets.js';

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
  .side table { font-size: 12.5px; }
  .side th, .side td { padding: .3rem .3rem; }
  .side td:last-child { min-width: 9rem; }
  .side td:last-child button, .side td:last-child select { margin: 1px 0; }
  .side select { max-width: 8.5rem; }
  .planes { display: grid; grid-template-columns: 2fr 1fr; grid-template-rows: 1fr 1fr; gap: 4px; }
  .planes figure { margin: 0; position: relative; background: #000; }
  .planes figure:first-child { grid-row: span 2; }
  .planes.with-prior { grid-template-columns: 1fr 1fr; grid-template-rows: auto auto; }
  .planes.with-prior figure:first-child { grid-row: auto; }
  .planes.with-prior figure .plane { aspect-ratio: 1; height: auto; min-height: 0; }
  .planes figcaption { position: absolute; left: .3rem; top: .2rem; font-size: 12px; color: #f2cc60;
    background: rgb(0 0 0 / 60%); padding: 0 .3rem; border-radius: 3px; pointer-events: none; z-index: 1; }
  .plane { width: 100%; aspect-ratio: 1; }
  .planes figure:not(:first-child) .plane { aspect-ratio: auto; height: 100%; min-height: 12rem; }
  .tools { display: flex; gap: .4rem; margin: .4rem 0; }
  tr[aria-selected='true'] { background: #1f2a38; }
  button[aria-pressed='true'] { outline: 2px solid #58a6ff; }
  .notice { color: #f2cc60; min-height: 1.2em; }
  .badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: #3b2a66; color: #e2c5ff;
    font-size: 12px; font-weight: 600; white-space: nowrap; }
  textarea { font: inherit; padding: .3rem .5rem; border-radius: 4px; border: 1px solid #3b4b5c;
    background: #0b1219; color: inherit; }
  button:disabled { opacity: .6; cursor: default; }
  caption { text-align: left; font-weight: 600; padding: .5rem 0 .3rem; color: #c9d6e2; }
  .sharing, .second-read { margin-top: 1rem; padding-top: .4rem; border-top: 1px solid #26313d; }
  .sharing h2, .second-read h2 { font-size: 1.05rem; margin: .3rem 0 .5rem; }
  .share-forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: .6rem 1.2rem; }
  .share-form { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; align-content: flex-start; }
  .share-form h3 { flex-basis: 100%; font-size: .95rem; margin: 0; color: #c9d6e2; }
  .share-form button { flex-basis: 100%; max-width: 14rem; }
  label.check, .field { display: inline-flex; gap: .3rem; align-items: center; white-space: nowrap; }
  .patient-qr { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; margin: .8rem 0;
    padding: .6rem; border: 1px solid #26313d; border-radius: 6px; }
  .patient-qr img { max-width: 100%; flex: none; background: #fff; image-rendering: pixelated; }
  .patient-qr figcaption { flex: 1; min-width: 14rem; }
  .patient-qr p { margin: 0 0 .5rem; }
  .qr-hint { font-weight: 600; }
  .share-url { user-select: all; word-break: break-all; background: #0b1219; padding: .1rem .3rem;
    border-radius: 3px; }
  .share-status, .opinion { white-space: nowrap; }
  .share-status.active { color: #3fb950; }
  .share-status.revoked, .share-status.expired { color: #ff7b72; }
  .side td.user-agent { word-break: break-all; min-width: 12rem; font-size: 11.5px; color: #9fb1c2; }
  .second-read-form { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .45rem .7rem;
    align-items: center; max-width: 40rem; margin: .5rem 0; }
  .second-read-form fieldset { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem;
    border: 1px solid #26313d; border-radius: 4px; margin: 0; }
  .second-read-form select { justify-self: start; }
  .second-read-form button { grid-column: 2; justify-self: start; }
  .second-reads .comment { white-space: pre-wrap; }
  .opinion.disagree { color: #f2cc60; }
`;

/**
 * The radiologist's workspace at `/`: one HTML page and its bundled script under /workspace/ (public: the
 * page signs in itself, every API call it makes is authenticated). `viewerOrigin` links studies to OHIF.
 */
export function workspaceRoutes(options: { viewerPort?: (() => number | undefined) | undefined } = {}) {
  const app = new Hono<AppEnv>();
  const security = {
    'Content-Security-Policy':
      // WebAssembly (cornerstone's codecs) compiles under 'wasm-unsafe-eval'; nothing else is evaluated.
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' data: blob:; " +
      "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
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
  const script = (name: WorkspaceBundle) => async (c: Context<AppEnv>) =>
    c.body(await workspaceBundle(name), 200, {
      ...security,
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
  app.get('/workspace/app.js', script('app'));
  app.get('/workspace/decodeImageFrameWorker.js', script('worker'));
  app.get('/workspace/wasm/:name', async (c) => {
    const file = codecFile(c.req.param('name'));
    if (!file) return c.json({ error: { code: 'NOT_FOUND', message: 'no such codec' } }, 404);
    return c.body(new Uint8Array(await fs.readFile(file)), 200, {
      'Content-Type': 'application/wasm',
      'Cache-Control': 'public, max-age=86400',
    });
  });
  return app;
}
