#!/usr/bin/env node
// Compiles src/**/*.ts into dist/, one JavaScript module per source (esbuild, no bundling and no type
// check: `npm run typecheck` does that), and copies src/'s other files (the SQL migrations and their
// meta). dist/ mirrors src/, so every path a module resolves from import.meta.url (../../models,
// ../../workflows, ../../package.json, ./migrations) points where it does from src/. The workflows are
// not compiled: the worker bundles them from workflows/*.ts at start (or NODUS_WORKFLOW_BUNDLE).
//
// Incremental: dist/.build.json records each source's size, mtime and SHA-256; a file whose size or
// mtime changed is hashed, and only files whose content changed are compiled again; outputs of deleted
// sources are removed. Each file is written to a temporary name and renamed, so concurrent builds (two
// `nodus` starts) and running processes never see a half-written module.
//
// `node scripts/build.mjs [--force] [--quiet]` (--quiet: silent when nothing changed) is run by
// scripts/bootstrap.mjs; scripts/nodus.mjs calls ensureBuilt() before each run. Uses only Node
// built-ins until something needs compiling.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE_DIR = path.join(root, 'src');
export const DIST_DIR = path.join(root, 'dist');
const MANIFEST = path.join(DIST_DIR, '.build.json');

/** esbuild options; a change here, or another esbuild version, recompiles everything. */
const ESBUILD_OPTIONS = {
  bundle: false,
  format: 'esm',
  platform: 'node',
  // Node 20.19 keeps `with { type: 'json' }` (esbuild drops import attributes for plain node20).
  target: 'node20.19',
  sourcemap: 'linked',
  // Types are erased per file, exactly as tsx did; tsconfig.json's verbatimModuleSyntax applies.
  tsconfig: path.join(root, 'tsconfig.json'),
};

/** What a source becomes in dist/: a module (+ its source map) or a copy. */
function outputsOf(relative) {
  if (isModule(relative)) {
    const js = path.join(DIST_DIR, relative.replace(/\.ts$/, '.js'));
    return [js, `${js}.map`];
  }
  return [path.join(DIST_DIR, relative)];
}

const isModule = (relative) => relative.endsWith('.ts');

function recipe() {
  const esbuild = createRequire(import.meta.url)('esbuild/package.json').version;
  return JSON.stringify({ esbuild, options: ESBUILD_OPTIONS });
}

/** src/'s files, relative, with their stat; declaration files (.d.ts) produce nothing. */
function sourceFiles() {
  const files = new Map();
  for (const entry of fs.readdirSync(SOURCE_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.d.ts')) continue;
    const absolute = path.join(entry.parentPath ?? entry.path, entry.name);
    const { size, mtimeMs } = fs.statSync(absolute);
    files.set(path.relative(SOURCE_DIR, absolute), { size, mtimeMs });
  }
  return files;
}

function readManifest() {
  try {
    return JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
}

const sha256 = (relative) =>
  createHash('sha256')
    .update(fs.readFileSync(path.join(SOURCE_DIR, relative)))
    .digest('hex');

/**
 * What differs between src/ and dist/: sources to compile or copy, sources removed, and sources touched
 * without a change of content (only their recorded stat is out of date). Cheap when nothing changed:
 * one directory walk and a stat per file.
 */
export function plan({ force = false } = {}) {
  const manifest = readManifest();
  // Another recipe (options, esbuild version) or --force: every source counts as changed.
  const previous = !force && manifest?.recipe === recipe() ? manifest.files : {};
  const current = sourceFiles();
  const changed = [];
  const touched = [];
  const files = {};
  for (const [relative, stat] of current) {
    const known = previous[relative];
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) {
      files[relative] = known;
      continue;
    }
    const hash = sha256(relative);
    files[relative] = { ...stat, sha256: hash };
    (known?.sha256 === hash ? touched : changed).push(relative);
  }
  // Outputs of sources gone since the last build, whatever its recipe.
  const removed = Object.keys(manifest?.files ?? {}).filter((relative) => !current.has(relative));
  return { changed, touched, removed, files };
}

/** True when dist/ holds what src/ holds now. */
export function upToDate(p) {
  return p.changed.length === 0 && p.removed.length === 0 && p.touched.length === 0;
}

function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/**
 * Brings dist/ up to date with src/ and returns what it did. Throws when esbuild reports an error (it
 * prints the error with its file and line first).
 */
export async function build({ force = false } = {}) {
  const started = performance.now();
  const p = plan({ force });
  if (upToDate(p)) return { compiled: 0, copied: 0, removed: 0, ms: performance.now() - started };
  const modules = p.changed.filter(isModule);
  const assets = p.changed.filter((relative) => !isModule(relative));
  if (modules.length > 0) {
    const esbuild = await import('esbuild');
    try {
      const result = await esbuild.build({
        ...ESBUILD_OPTIONS,
        entryPoints: modules.map((relative) => path.join(SOURCE_DIR, relative)),
        outbase: SOURCE_DIR,
        outdir: DIST_DIR,
        write: false,
        logLevel: 'error',
      });
      for (const output of result.outputFiles) writeAtomically(output.path, output.contents);
    } finally {
      // esbuild's service process would otherwise live as long as the nodus process that built.
      await esbuild.stop();
    }
  }
  for (const relative of assets) {
    writeAtomically(path.join(DIST_DIR, relative), fs.readFileSync(path.join(SOURCE_DIR, relative)));
  }
  for (const relative of p.removed) {
    for (const output of outputsOf(relative)) fs.rmSync(output, { force: true });
  }
  writeAtomically(MANIFEST, `${JSON.stringify({ recipe: recipe(), files: p.files })}\n`);
  return {
    compiled: modules.length,
    copied: assets.length,
    removed: p.removed.length,
    ms: performance.now() - started,
  };
}

/** What a build did, e.g. `dist/: compiled 3 files, removed 1 (41 ms)`. */
export function describeBuild({ compiled, copied, removed, ms }) {
  const parts = [
    compiled > 0 && `compiled ${compiled} file${compiled === 1 ? '' : 's'}`,
    copied > 0 && `copied ${copied}`,
    removed > 0 && `removed ${removed}`,
  ].filter(Boolean);
  return `dist/: ${parts.length > 0 ? parts.join(', ') : 'recorded touched files'} (${Math.round(ms)} ms)`;
}

/**
 * Before running dist/: compiles what changed in src/ since the last build, so an edited source never
 * runs as its old compiled self. Returns undefined when nothing had to be done, else what was done.
 */
export async function ensureBuilt() {
  if (upToDate(plan())) return undefined;
  return build();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  try {
    const done = await build({ force });
    if (done.compiled + done.copied + done.removed > 0 || force) {
      process.stderr.write(`build: ${describeBuild(done)}\n`);
    } else if (!process.argv.includes('--quiet')) {
      process.stderr.write('build: dist/ is up to date\n');
    }
  } catch {
    process.stderr.write('build: compiling src/ into dist/ failed (see above)\n');
    process.exit(1);
  }
}
