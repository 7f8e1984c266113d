import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodus-bin-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// An import hook that appends every module URL the process resolves to a file (it runs in the hooks
// thread, so it sees the imports of dist/ and of the packages it imports, before they load).
const importsLog = path.join(work, 'imports.log');
fs.writeFileSync(
  path.join(work, 'hooks.mjs'),
  `import fs from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`,
);
fs.writeFileSync(
  path.join(work, 'record-imports.mjs'),
  `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(path.join(work, 'hooks.mjs')).href)}, { data: { log: ${JSON.stringify(importsLog)} } });
`,
);

/** Runs the `nodus` bin with the import hook; returns its output and every module URL it resolved. */
function nodus(args: string[]) {
  fs.rmSync(importsLog, { force: true });
  const run = spawnSync(
    process.execPath,
    ['--import', path.join(work, 'record-imports.mjs'), path.join(root, 'scripts', 'nodus.mjs'), ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, NODUS_LOG_LEVEL: 'error' } },
  );
  const imports = fs.existsSync(importsLog) ? fs.readFileSync(importsLog, 'utf8').trim().split('\n') : [];
  return { ...run, imports };
}

// What only the commands that need them may load.
const HEAVY =
  /\/node_modules\/(onnxruntime-node|@temporalio|drizzle-orm|postgres|dcmjs|hono|@hono|pino|tsx)\//;

describe('the nodus bin', () => {
  it('prints the usage from the compiled dist/ without loading TypeScript or the heavy packages', () => {
    const run = nodus(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: nodus <command>/);
    expect(run.imports).toContain(pathToFileURL(path.join(root, 'dist', 'main', 'cli.js')).href);
    expect(run.imports.filter((url) => url.endsWith('.ts'))).toEqual([]);
    expect(run.imports.filter((url) => HEAVY.test(url) || url.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('runs lungrads with zod and the Lung-RADS rules only', () => {
    const input = path.join(work, 'exam.json');
    fs.writeFileSync(
      input,
      JSON.stringify({
        priorExam: false,
        nodules: [{ type: 'solid', meanDiameterMm: 9, status: 'baseline' }],
      }),
    );
    const run = nodus(['lungrads', '--json', input]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ category: '4A' });
    expect(run.imports.filter((url) => HEAVY.test(url))).toEqual([]);
  });
});

describe('scripts/build.mjs', () => {
  // A checkout of its own: the build script, a tiny src/ and the repository's node_modules (esbuild).
  const checkout = path.join(work, 'checkout');
  const source = (relative: string) => path.join(checkout, 'src', relative);
  const output = (relative: string) => path.join(checkout, 'dist', relative);
  beforeAll(() => {
    fs.mkdirSync(path.join(checkout, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(checkout, 'src', 'db', 'migrations'), { recursive: true });
    fs.copyFileSync(path.join(root, 'scripts', 'build.mjs'), path.join(checkout, 'scripts', 'build.mjs'));
    fs.copyFileSync(path.join(root, 'tsconfig.json'), path.join(checkout, 'tsconfig.json'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(checkout, 'node_modules'));
    fs.writeFileSync(source('greeting.ts'), `export const greeting: string = 'hello';\n`);
    fs.writeFileSync(
      source('main.ts'),
      `import { greeting } from './greeting.js';\nconsole.log(greeting);\n`,
    );
    fs.writeFileSync(source('db/migrations/0000_initial.sql'), 'create table t (id int);\n');
    fs.writeFileSync(source('ambient.d.ts'), 'declare const x: number;\n');
  });

  const build = () => {
    const run = spawnSync(process.execPath, [path.join(checkout, 'scripts', 'build.mjs')], {
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    return run.stderr.trim();
  };
  const runMain = () => spawnSync(process.execPath, [output('main.js')], { encoding: 'utf8' }).stdout.trim();

  it('compiles every module, copies the other files and skips declarations', () => {
    expect(build()).toMatch(/^build: dist\/: compiled 2 files, copied 1 \(\d+ ms\)$/);
    expect(runMain()).toBe('hello');
    expect(fs.readFileSync(output('db/migrations/0000_initial.sql'), 'utf8')).toContain('create table');
    expect(fs.existsSync(output('main.js.map'))).toBe(true);
    expect(fs.existsSync(output('ambient.d.js'))).toBe(false);
  });

  it('does nothing when nothing changed, even when a file was only touched', () => {
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(source('main.ts'), later, later);
    const compiled = fs.statSync(output('main.js')).mtimeMs;
    expect(build()).toBe('build: dist/ is up to date');
    expect(build()).toBe('build: dist/ is up to date');
    expect(fs.statSync(output('main.js')).mtimeMs).toBe(compiled);
  });

  it('compiles only what changed and removes the outputs of deleted sources', () => {
    fs.writeFileSync(source('greeting.ts'), `export const greeting: string = 'hello again';\n`);
    fs.rmSync(source('db/migrations/0000_initial.sql'));
    expect(build()).toMatch(/^build: dist\/: compiled 1 file, removed 1 /);
    expect(runMain()).toBe('hello again');
    expect(fs.existsSync(output('db/migrations/0000_initial.sql'))).toBe(false);
  });

  it('compiles everything with --force', () => {
    const run = spawnSync(process.execPath, [path.join(checkout, 'scripts', 'build.mjs'), '--force'], {
      encoding: 'utf8',
    });
    expect(run.stderr).toMatch(/^build: dist\/: compiled 2 files \(\d+ ms\)$/m);
  });

  it('is run by the bin before it starts dist/, so an edited source never runs as its old self', () => {
    fs.copyFileSync(path.join(root, 'scripts', 'nodus.mjs'), path.join(checkout, 'scripts', 'nodus.mjs'));
    fs.mkdirSync(source('main'));
    const cli = (says: string) =>
      fs.writeFileSync(
        source('main/cli.ts'),
        `export async function main(argv: readonly string[]): Promise<number> {\n` +
          `  console.log('${says}', argv.join(' '));\n  return 3;\n}\n` +
          `export const describeFailure = (error: unknown) => ({ line: String(error), exitCode: 1 });\n`,
      );
    const bin = () =>
      spawnSync(process.execPath, [path.join(checkout, 'scripts', 'nodus.mjs'), 'x'], { encoding: 'utf8' });
    cli('first');
    expect(bin()).toMatchObject({ status: 3, stdout: 'first x\n', stderr: '' });
    cli('second');
    expect(bin()).toMatchObject({ status: 3, stdout: 'second x\n' });
  });
});
