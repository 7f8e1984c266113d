// Worklist and study detail under load (target: p95 <= 50 ms with 100,000 studies and 1,000,000 findings,
// 50 concurrent clients, this 2-core machine). The API runs in its own process; autocannon drives it from this
// one. Side by side, pgbench runs the worklist's own SQL with the same 50 clients: the database's floor.
// Usage: npm run bench:review [-- --studies N --duration S]
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { createUser, issueToken } from '../src/db/repositories/users.js';
import { poissonLoad } from './poisson-load.js';
import { seedScreeningLoad } from './screening-load-seed.js';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    /** Reuse a database a previous run left (BENCH_KEEP=1): no seeding, no drop. */
    database: { type: 'string' },
  },
});
const STUDIES = Number(values.studies);
const DURATION_S = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const here = path.dirname(new URL(import.meta.url).pathname);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

const reuse = values.database;
const databaseName = reuse ?? `nodus_bench_${Date.now()}`;
const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
if (!reuse) await admin`create database ${admin(databaseName)}`;
const url = new URL(SERVER_URL);
url.pathname = `/${databaseName}`;
const databaseUrl = url.toString();
const handle = openDatabase(databaseUrl, { max: 4 });
let server: ReturnType<typeof spawn> | undefined;

try {
  await runMigrations(handle);
  console.log(
    `review API benchmark: ${os.cpus().length} cores, ${CONNECTIONS} concurrent clients, ${DURATION_S} s per scenario`,
  );
  const seeded = reuse
    ? {}
    : await seedScreeningLoad(handle.sql, {
        institutions: 20,
        patients: Math.round(STUDIES * 0.6),
        studies: STUDIES,
        findingsPerStudy: 10,
      });
  await handle.sql`delete from users where email like 'bench-%'`;
  const [counts] = await handle.sql<{ studies: number; findings: number; nodules: number; size: string }[]>`
    select (select count(*)::int from study_reviews) as studies, (select count(*)::int from findings) as findings,
           (select count(*)::int from reviewed_nodules) as nodules, pg_size_pretty(pg_database_size(current_database())) as size`;
  console.log(
    `seeded ${counts!.studies} studies, ${counts!.findings} findings, ${counts!.nodules} reviewed nodules ` +
      `(${counts!.size}) in ${Object.values(seeded).reduce((a, b) => a + b, 0)} ms: ${JSON.stringify(seeded)}`,
  );

  const radiologist = await createUser(handle.db, {
    email: 'bench-radiologist@example.org',
    displayName: 'Bench radiologist',
    role: 'radiologist',
    institutionCodes: ['BENCH-1', 'BENCH-2'],
  });
  const adminUser = await createUser(handle.db, {
    email: 'bench-admin@example.org',
    displayName: 'Bench admin',
    role: 'admin',
    institutionCodes: [],
  });
  const radiologistToken = (await issueToken(handle.db, radiologist.id, { label: 'bench' })).token;
  const adminToken = (await issueToken(handle.db, adminUser.id, { label: 'bench' })).token;
  const visibleStudies = (
    await handle.sql<{ id: string }[]>`
      select study_id as id from study_reviews sr join institutions i on i.id = sr.institution_id
      where i.code in ('BENCH-1', 'BENCH-2') order by random() limit 2000`
  ).map((r) => r.id);

  server = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'review-api-server.ts')], {
    env: { ...process.env, DATABASE_URL: databaseUrl, BENCH_POOL: '10' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    server!.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    server!.once('exit', (code) => reject(new Error(`API server exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  // Cursors deep into the radiologist's worklist, for the paging scenario.
  const cursors: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 40; page += 1) {
    const response = await fetch(`${base}/api/worklist?limit=50${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: auth(radiologistToken),
    });
    cursor = ((await response.json()) as { nextCursor: string | null }).nextCursor;
    if (!cursor) break;
    cursors.push(cursor);
  }

  const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;
  const scenarios: { name: string; token: string; path: () => string }[] = [
    {
      name: 'worklist, first page (radiologist, 2 institutions)',
      token: radiologistToken,
      path: () => '/api/worklist?limit=50',
    },
    {
      name: 'worklist, deep pages by cursor (radiologist)',
      token: radiologistToken,
      path: () => `/api/worklist?limit=50&cursor=${pick(cursors)}`,
    },
    {
      name: 'worklist, filtered (status ready, 4A/4B/4X, dates)',
      token: radiologistToken,
      path: () => '/api/worklist?limit=50&status=ready&category=4A,4B,4X&from=2020-06-01&to=2024-12-31',
    },
    {
      name: 'worklist, all 20 institutions (admin)',
      token: adminToken,
      path: () => '/api/worklist?limit=50',
    },
    {
      name: 'study detail, random study (radiologist)',
      token: radiologistToken,
      path: () => `/api/studies/${pick(visibleStudies)}`,
    },
  ];

  // Open loop: requests from 50 clients arrive at random (a Poisson process) at a set overall rate, the way
  // people reading independently send them; then closed loop: the same 50 connections sending as fast as the
  // API answers (the saturation point of this machine, where latency is queueing).
  const rates = [50, 100, 200];
  console.log('\nscenario | load | requests/s | p50 ms | p95 ms | p99 ms | non-2xx');
  for (const scenario of scenarios) {
    // Warm-up: connections, plans and caches.
    await autocannon({
      url: base,
      connections: 10,
      amount: 200,
      headers: auth(scenario.token),
      requests: [{ setupRequest: (r) => ({ ...r, path: scenario.path() }) }],
    });
    for (const rate of rates) {
      const open = await poissonLoad({
        origin: base,
        path: scenario.path,
        headers: auth(scenario.token),
        ratePerS: rate,
        durationS: DURATION_S,
        clients: CONNECTIONS,
      });
      console.log(
        `${scenario.name} | ${CONNECTIONS} clients, ${rate} req/s at random | ${Math.round(open.latenciesMs.length / DURATION_S)} | ` +
          `${percentile(open.latenciesMs, 0.5).toFixed(1)} | ${percentile(open.latenciesMs, 0.95).toFixed(1)} | ` +
          `${percentile(open.latenciesMs, 0.99).toFixed(1)} | ${open.non2xx}`,
      );
    }
    {
      const load = { label: `${CONNECTIONS} clients, closed loop` };
      const latencies: number[] = [];
      const result = await autocannon({
        url: base,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers: auth(scenario.token),
        requests: [{ setupRequest: (request) => ({ ...request, path: scenario.path() }) }],
        setupClient: (client) => {
          client.on('response', (_status: number, _bytes: number, responseTime: number) =>
            latencies.push(responseTime),
          );
        },
      });
      latencies.sort((a, b) => a - b);
      console.log(
        `${scenario.name} | ${load.label} | ${Math.round(result.requests.average)} | ` +
          `${percentile(latencies, 0.5).toFixed(1)} | ${percentile(latencies, 0.95).toFixed(1)} | ` +
          `${percentile(latencies, 0.99).toFixed(1)} | ${result.non2xx + result.errors}`,
      );
    }
  }

  // Reference: the worklist's SQL straight from pgbench, 50 clients, same database.
  const [institutionIds] = await handle.sql<{ ids: string }[]>`
    select string_agg(quote_literal(id::text), ',') as ids from institutions where code in ('BENCH-1', 'BENCH-2')`;
  const script = path.join(os.tmpdir(), `${databaseName}.sql`);
  fs.writeFileSync(
    script,
    `with page as (
       select p.* from unnest(array[${institutionIds!.ids}]::uuid[]) as inst(id)
       cross join lateral (
         select study_id, triage_rank, waiting_since from study_reviews where institution_id = inst.id
         order by triage_rank desc nulls last, waiting_since, study_id limit 51) p
       order by p.triage_rank desc nulls last, p.waiting_since, p.study_id limit 51)
     select sr.study_id, i.code, sr.status, sr.category, sr.ai_category, sr.final_category, sr.triage_rank,
       sr.waiting_since::text, sr.study_date::text, sr.version,
       sr.nodule_count,
       s.study_instance_uid, s.accession_number, p.patient_id, p.patient_name, p.birth_date::text, p.sex
     from page join study_reviews sr on sr.study_id = page.study_id join institutions i on i.id = sr.institution_id
     join studies s on s.id = sr.study_id join patients p on p.id = s.patient_id
     order by page.triage_rank desc nulls last, page.waiting_since, page.study_id;\n`,
  );
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgbench-'));
  execFileSync(
    'pgbench',
    [
      '-n',
      '-c',
      String(CONNECTIONS),
      '-j',
      '2',
      '-T',
      String(DURATION_S),
      '-f',
      script,
      '-l',
      '--log-prefix',
      path.join(logDir, 'log'),
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      url.username || 'postgres',
      databaseName,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pgLatencies = fs
    .readdirSync(logDir)
    .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').trim().split('\n'))
    .map((line) => Number(line.split(' ')[2]) / 1000)
    .sort((a, b) => a - b);
  console.log(
    `reference: pgbench, the worklist first-page SQL alone (prepared) | 50 clients, closed loop | ${Math.round(pgLatencies.length / DURATION_S)} | ` +
      `${percentile(pgLatencies, 0.5).toFixed(1)} | ${percentile(pgLatencies, 0.95).toFixed(1)} | ${percentile(pgLatencies, 0.99).toFixed(1)} | 0`,
  );
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.rmSync(script, { force: true });
} finally {
  server?.kill('SIGTERM');
  await handle.close();
  if (!process.env.BENCH_KEEP && !reuse)
    await admin`drop database if exists ${admin(databaseName)} with (force)`;
  await admin.end();
}
