import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginBuild } from 'esbuild';
import { browserBundle } from './browser-bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
/** The workspace's browser code: src/web/workspace (also from dist/, which mirrors src/). */
const APP_ENTRY = path.resolve(here, '..', '..', '..', 'src', 'web', 'workspace', 'main.ts');
/** cornerstone's decoding worker: its loader starts it from `./decodeImageFrameWorker.js` beside app.js. */
const WORKER_ENTRY = path.join(
  path.dirname(require.resolve('@cornerstonejs/dicom-image-loader')),
  'decodeImageFrameWorker.js',
);

/**
 * The WebAssembly codecs cornerstone's worker asks for (under the wasmBasePath /workspace/wasm/), by the file
 * name it asks for: JPEG baseline, JPEG-LS, JPEG 2000, HTJ2K and JPEG XL.
 */
const CODECS: Record<string, string> = {
  'libjpegturbowasm_decode.wasm': '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
  'charlswasm_decode.wasm': '@cornerstonejs/codec-charls/decodewasm',
  'openjpegwasm_decode.wasm': '@cornerstonejs/codec-openjpeg/decodewasm',
  'openjphjs.wasm': '@cornerstonejs/codec-openjph/wasm',
  'jpegxlwasm_decode.wasm': '@cornerstonejs/codec-libjxl/decodewasm',
};

/** The file of codec `name`, or undefined when the worker has no such codec. */
export function codecFile(name: string): string | undefined {
  const specifier = Object.hasOwn(CODECS, name) ? CODECS[name] : undefined;
  return specifier === undefined ? undefined : require.resolve(specifier);
}

/**
 * The emscripten codecs ask for Node's modules only when they run under Node; in the browser bundle each is
 * an empty module, so the test for them fails quietly instead of the page.
 */
const nodeBuiltinsAsEmpty = {
  name: 'node-builtins-as-empty',
  setup(build: PluginBuild) {
    build.onResolve({ filter: /^(node:)?(fs|path|crypto|module|url|worker_threads)$/ }, (args) => ({
      path: args.path,
      namespace: 'node-builtin',
    }));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, () => ({ contents: 'module.exports = {};' }));
  },
};

export type WorkspaceBundle = 'app' | 'worker';

/**
 * A bundle of the workspace's JavaScript, built once per process by esbuild from the installed packages
 * (nothing is fetched from elsewhere): `app` (the page, with cornerstone3D) or `worker` (image decoding).
 */
export function workspaceBundle(name: WorkspaceBundle): Promise<string> {
  return browserBundle(name === 'app' ? APP_ENTRY : WORKER_ENTRY, {
    plugins: [nodeBuiltinsAsEmpty],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}
