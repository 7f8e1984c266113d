import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NODUS = fileURLToPath(new URL('../../scripts/nodus.mjs', import.meta.url));

export interface NodusProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far on stdout and stderr. */
  output: () => string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects if the process exits first. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `nodus <args>` as a real child process with the given environment (on top of a clean base). */
export function spawnNodus(args: string[], env: Record<string, string | undefined>): NodusProcess {
  const base = { ...process.env };
  for (const key of Object.keys(base))
    if (key.startsWith('NODUS_') || key === 'DATABASE_URL' || key === 'TEMPORAL_ADDRESS') delete base[key];
  const child = spawn(process.execPath, [NODUS, ...args], { env: { ...base, ...env }, stdio: 'pipe' });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const listener of listeners) listener();
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          cleanup();
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`nodus ${args.join(' ')} exited before printing ${pattern}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`nodus ${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${output}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { child, output: () => output, waitFor, exited };
}
