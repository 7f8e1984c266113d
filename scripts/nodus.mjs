#!/usr/bin/env node
// The `nodus` command: runs the compiled JavaScript in dist/ (scripts/build.mjs; the bootstrap builds
// it). A source edited since the last build is compiled first (tens of milliseconds), so the code that
// runs is always the code in src/.
import { describeBuild, ensureBuilt } from './build.mjs';

// Stack traces name src/*.ts lines, as they did under tsx.
process.setSourceMapsEnabled(true);
try {
  const built = await ensureBuilt();
  if (built && built.compiled + built.copied + built.removed > 0 && process.stderr.isTTY) {
    process.stderr.write(`nodus: src/ changed since the last build; ${describeBuild(built)}\n`);
  }
} catch {
  process.stderr.write('nodus: compiling src/ into dist/ failed (see above)\n');
  process.exit(1);
}
/** @type {typeof import('../src/main/cli.ts')} */
const { main, describeFailure } = await import('../dist/main/cli.js');
try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  const { line, exitCode } = describeFailure(error);
  process.stderr.write(`nodus: ${line}\n`);
  process.exit(exitCode);
}
