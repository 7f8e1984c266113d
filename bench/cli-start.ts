// Start-up time of the nodus command (whole process, as a shell runs it), side by side with `node -e 0`
// and with the sources run through tsx (how the bin ran before it ran dist/).
// Usage: npm run bench:cli [-- --runs N]  (default 20 runs each, after 3 warm-up runs)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);
const WARMUP = 3;
const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'scripts', 'nodus.mjs');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
const exam = path.join(work, 'exam.json');
fs.writeFileSync(
  exam,
  JSON.stringify({
    priorExam: true,
    significantOtherFindings: true,
    nodules: [
      { id: 'a', type: 'solid', meanDiameterMm: 9.2, status: 'stable' },
      { id: 'b', type: 'part-solid', meanDiameterMm: 7, solidComponentMm: 3, status: 'growing' },
    ],
  }),
);
// src/main/cli.ts under tsx, transpiled at start: what `nodus` cost before dist/.
const fromSources = (...args: string[]) => [
  '--import',
  'tsx',
  '--input-type=module',
  '-e',
  `const { main } = await import(${JSON.stringify(path.join(root, 'src', 'main', 'cli.ts'))});` +
    'process.exit(await main(process.argv.slice(1)));',
  '--',
  ...args,
];

const cases: [label: string, args: string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['nodus --help', [bin, '--help']],
  ['nodus lungrads --json <file>', [bin, 'lungrads', '--json', exam]],
  ['tsx src/main/cli.ts --help', fromSources('--help')],
  ['tsx src/main/cli.ts lungrads --json', fromSources('lungrads', '--json', exam)],
];

function once(args: string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${String(run.stderr)}`);
  return ms;
}

// The bin compiles what changed first; measure the runs, not a first build.
spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'ignore' });

const rows = cases.map(([label, args]) => {
  for (let i = 0; i < WARMUP; i++) once(args);
  const times = Array.from({ length: RUNS }, () => once(args)).sort((a, b) => a - b);
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  return { label, mean, median: times[times.length >> 1]!, min: times[0]!, max: times.at(-1)! };
});
fs.rmSync(work, { recursive: true, force: true });

const baseline = rows[0]!.mean;
const header = ['command', 'mean ms', 'median', 'min', 'max', 'x node -e 0'];
const table = rows.map((row) => [
  row.label,
  row.mean.toFixed(1),
  row.median.toFixed(1),
  row.min.toFixed(1),
  row.max.toFixed(1),
  (row.mean / baseline).toFixed(2),
]);
const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => cells[i]!.length)));
const line = (cells: string[]) =>
  `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${RUNS} runs each (whole process)`);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const cells of table) console.log(line(cells));
