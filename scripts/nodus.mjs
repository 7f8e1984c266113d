#!/usr/bin/env node
// The `nodus` command: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main, describeFailure } = await import('../src/main/cli.ts');
try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  const { line, exitCode } = describeFailure(error);
  process.stderr.write(`nodus: ${line}\n`);
  process.exit(exitCode);
}
