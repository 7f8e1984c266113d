// Each command imports its modules when it runs (`await import`), so `nodus --help` or `nodus lungrads`
// loads neither onnxruntime nor Temporal, drizzle or dcmjs.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/env.js';
import type { Logger } from '../logging/logger.js';
import { DomainError } from '../shared/errors.js';
import type { Platform } from './platform.js';

const USAGE = `usage: nodus <command> [options]

commands:
  up                     embedded services (unless configured) + worker + API; Ctrl-C stops all
  demo                   'up' plus the real sample CT imported and processed; prints where to look
  api                    the HTTP API only
  worker                 the Temporal worker only
  migrate                apply database migrations and exit
  import <path>...       import DICOM files and folders (recursive)
  user add --email E --role admin|radiologist|programme|researcher [--name N] [--institution CODE]...
                         create an API user who sees the studies of the given institutions
  token create --email E [--label L] [--expires-days N]
                         issue a bearer token for a user (printed once; only its hash is stored)
  ae add --ae-title T --address IP|CIDR --institution CODE [--description D] | ae list | ae remove <id>
                         the DICOM senders allowed to C-STORE, each into its institution
  quarantine list        instances kept aside (conflicts, other institutions', unknown callers')
  phantom --out <folder> [--matrix N] [--slice-mm S]
                         write a synthetic chest CT series with nodules of known size (phantom.json)
  volume <series-folder> --out <file.nii[.gz]>
                         reconstruct a series offline and write NIfTI-1 (RAS affine)
  detect <series-folder> --json [--threshold P] [--detector ID] [--sr <out.dcm>] [--seg <out.dcm>]
                         reconstruct and detect nodules offline; prints the nodules as JSON, and
                         optionally writes them as DICOM SR (TID 1500) and SEG
  eval --lidc|--lung-dx <case-folder>... | --synthetic [--phantom] <case-folder>... [--json]
                         score the detector against LIDC readers (LUNA16 FROC, CPM, per nodule) or
                         Lung_Dx boxes, or against synthetic nodules inserted into real CT
  lungrads --json <file>  assign the Lung-RADS v2022 category to the nodules described in <file> (JSON) and
                         print the category, modifiers, management, follow-up and the rules that fired
  deidentify <in-folder> <out-folder> --project <name>
                         write a de-identified copy of every DICOM file (PS3.15 Basic Profile, modified
                         dates); the key comes from NODUS_DEID_KEY (>= 32 characters)
  export <snapshot-id> --out <folder>
                         write a frozen cohort snapshot's de-identified export (tables, NIfTI, masks,
                         LUNA16, MONAI datalist, DICOM with SR/SEG), checked against its manifest;
                         run again to resume
  bundle-workflows --out <file>
                         bundle the workflows for production (NODUS_WORKFLOW_BUNDLE)

Configuration comes from environment variables; see README.md.`;

/** Wraps an async function so that every call after the first returns the first call's promise. */
function once(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= run());
}

/** Runs until SIGINT/SIGTERM, then calls `stop` once. */
function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      void stop().finally(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

async function withPlatform<T>(
  config: Config,
  logger: Logger,
  run: (platform: Platform) => Promise<T>,
  ui = false,
) {
  const { openPlatform } = await import('./platform.js');
  const platform = await openPlatform(config, logger, { temporalUi: ui });
  try {
    return await run(platform);
  } finally {
    await platform.close();
  }
}

/** What a killed process left in the blob store: unfinished writes, unregistered blobs, spool files. */
const LITTER_AGE_MS = 60 * 60 * 1000;

/** Sweeps the blob store's litter in the background (a process that receives instances does it at start). */
async function sweepLitterInBackground(platform: Platform): Promise<void> {
  const [{ sweepFilesystemLitter }, { referencedBlobKeys }] = await Promise.all([
    import('../storage/filesystem-litter.js'),
    import('../db/repositories/instances.js'),
  ]);
  const { dataDir } = platform.config;
  void sweepFilesystemLitter({
    blobRoot: path.join(dataDir, 'blobs'),
    spoolDir: path.join(dataDir, 'spool'),
    referencedKeys: (prefix) => referencedBlobKeys(platform.database.db, prefix),
    olderThanMs: LITTER_AGE_MS,
  }).then(
    (swept) => {
      if (swept.partial + swept.unreferenced + swept.spool > 0) {
        platform.logger.info(swept, 'removed what an earlier, killed process left in the blob store');
      }
    },
    (error: unknown) => platform.logger.warn({ err: error }, 'could not sweep the blob store'),
  );
}

/** The DICOM C-STORE receiver on NODUS_DICOM_AE_TITLE / NODUS_DICOM_PORT, next to the API. */
async function startScp(platform: Platform) {
  const [{ startDicomScp }, { knownCallersIn }] = await Promise.all([
    import('../ingest/dicom-scp.js'),
    import('../ingest/dimse/known-callers.js'),
    sweepLitterInBackground(platform),
  ]);
  const { config } = platform;
  return startDicomScp({
    aeTitle: config.dicom.aeTitle,
    host: config.api.host,
    port: config.dicom.port,
    ingest: platform.ingest,
    logger: platform.logger.child({ component: 'dicom-scp' }),
    callers: knownCallersIn(platform.database.db),
    unknownCallers: config.dicom.unknownCallers,
    maxAssociations: config.dicom.maxAssociations,
    peers: config.dicom.peers,
  });
}

function describe(platform: Platform, apiUrl?: string, dicomPort?: number, viewerUrl?: string): string {
  const { aeTitle } = platform.config.dicom;
  const lines = [
    apiUrl && `  API          ${apiUrl}  (try ${apiUrl}/readyz, ${apiUrl}/openapi.json)`,
    apiUrl && `  DICOMweb     ${apiUrl}/dicomweb  (QIDO-RS, WADO-RS, STOW-RS; WADO-URI at ${apiUrl}/wado)`,
    viewerUrl &&
      `  OHIF viewer  ${viewerUrl}  (open a study: ${viewerUrl}/viewer?StudyInstanceUIDs=<uid>&token=<token>)`,
    dicomPort !== undefined &&
      `  DICOM        AE ${aeTitle} on ${platform.config.api.host}:${dicomPort}  (C-STORE, C-FIND, C-MOVE, C-GET; storescu/findscu -aec ${aeTitle} ${platform.config.api.host} ${dicomPort}; allow an AE with nodus ae add)`,
    `  PostgreSQL   ${platform.embedded.postgres ? `embedded, data in ${path.join(platform.config.dataDir, 'postgres')}` : 'external (DATABASE_URL)'}`,
    `  Temporal     ${platform.temporalAddress}${platform.embedded.temporal ? ' (embedded dev server)' : ''}`,
    platform.temporalUiUrl && `  Temporal UI  ${platform.temporalUiUrl}`,
    `  Blob store   ${path.join(platform.config.dataDir, 'blobs')}`,
  ];
  return lines.filter(Boolean).join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'phantom') {
    const { values } = parseArgs({
      args: rest,
      options: { out: { type: 'string' }, matrix: { type: 'string' }, 'slice-mm': { type: 'string' } },
    });
    if (!values.out) throw new DomainError('VALIDATION_FAILED', 'usage: nodus phantom --out <folder>');
    const matrix = values.matrix === undefined ? undefined : Number(values.matrix);
    const slice = values['slice-mm'] === undefined ? undefined : Number(values['slice-mm']);
    if (
      (matrix !== undefined && !(Number.isInteger(matrix) && matrix >= 64 && matrix <= 1024)) ||
      (slice !== undefined && !(slice > 0 && slice <= 10))
    ) {
      throw new DomainError(
        'VALIDATION_FAILED',
        '--matrix must be an integer 64-1024 and --slice-mm a number in (0, 10]',
      );
    }
    const { phantomCommand } = await import('./phantom-command.js');
    return phantomCommand(values.out, {
      ...(matrix !== undefined && { matrix, pixelSpacingMm: (256 * 1.4) / matrix }),
      ...(slice !== undefined && { sliceSpacingMm: slice }),
    });
  }
  if (command === 'lungrads') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { json: { type: 'boolean' } },
    });
    const [file] = positionals;
    if (!values.json || file === undefined || positionals.length !== 1) {
      throw new DomainError('VALIDATION_FAILED', 'usage: nodus lungrads --json <file>');
    }
    const { lungRadsCommand } = await import('./lungrads-command.js');
    return lungRadsCommand(file);
  }
  if (command === 'deidentify') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { project: { type: 'string' } },
    });
    const [input, output] = positionals;
    if (input === undefined || output === undefined || positionals.length !== 2 || !values.project) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'usage: nodus deidentify <in-folder> <out-folder> --project <name>',
      );
    }
    const { deidentificationKey, deidentifyCommand } = await import('./deidentify-command.js');
    return deidentifyCommand(input, output, values.project, deidentificationKey());
  }
  if (command === 'volume') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { out: { type: 'string' } },
    });
    if (positionals.length === 0 || !values.out) {
      throw new DomainError('VALIDATION_FAILED', 'usage: nodus volume <series-folder> --out <file.nii[.gz]>');
    }
    const { volumeCommand } = await import('./volume-command.js');
    return volumeCommand(positionals, values.out);
  }
  if (command === 'detect') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        threshold: { type: 'string' },
        detector: { type: 'string' },
        sr: { type: 'string' },
        seg: { type: 'string' },
      },
    });
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    if (
      positionals.length === 0 ||
      // The JSON goes to stdout in any case; --json may be left out when --sr or --seg says what to write.
      (!values.json && !values.sr && !values.seg) ||
      (threshold !== undefined && !(threshold >= 0 && threshold <= 1))
    ) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'usage: nodus detect <series-folder> [--json] [--sr <out.dcm>] [--seg <out.dcm>] [--threshold 0..1] [--detector ID]',
      );
    }
    const [{ loadConfig }, { detectCommand }] = await Promise.all([
      import('../config/env.js'),
      import('./detect-command.js'),
    ]);
    const { inference } = loadConfig();
    return detectCommand(positionals, {
      detector: values.detector ?? inference.detector,
      modelsDir: inference.modelsDir,
      threads: inference.threads,
      threshold,
      srPath: values.sr,
      segPath: values.seg,
    });
  }
  if (command === 'eval') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        lidc: { type: 'boolean' },
        'lung-dx': { type: 'boolean' },
        synthetic: { type: 'boolean' },
        phantom: { type: 'boolean' },
        copies: { type: 'string' },
        json: { type: 'boolean' },
        detector: { type: 'string' },
      },
    });
    const copies = values.copies === undefined ? undefined : Number(values.copies);
    const annotated = values.lidc || values['lung-dx'];
    if (
      (positionals.length === 0 && !values.phantom) ||
      (!annotated && !values.synthetic && !values.phantom) ||
      (copies !== undefined && !(Number.isInteger(copies) && copies >= 1 && copies <= 50))
    ) {
      throw new DomainError(
        'VALIDATION_FAILED',
        'usage: nodus eval --lidc <case-folder>... | --synthetic [--phantom] <case-folder>... [--copies N] [--json] [--detector ID]',
      );
    }
    const [{ loadConfig }, { evalCommand }] = await Promise.all([
      import('../config/env.js'),
      import('./eval-command.js'),
    ]);
    const { inference } = loadConfig();
    return evalCommand({
      cases: annotated ? positionals : [],
      synthetic: values.synthetic ? positionals : [],
      phantom: values.phantom === true,
      copies,
      json: values.json === true,
      detector: values.detector ?? inference.detector,
      modelsDir: inference.modelsDir,
      threads: inference.threads,
    });
  }
  const [{ loadConfig }, { createLogger }, { installTemporalRuntime }] = await Promise.all([
    import('../config/env.js'),
    import('../logging/logger.js'),
    import('../temporal/runtime.js'),
  ]);
  const config = loadConfig();
  // The demo's terminal is for a person: its logs go to a file unless NODUS_LOG_LEVEL asks for them.
  const demoLogging =
    command === 'demo'
      ? (await import('./demo-logging.js')).demoLogger(config.dataDir, config.logLevel)
      : undefined;
  const logger = demoLogging?.logger ?? createLogger(config.logLevel);
  installTemporalRuntime(logger);

  switch (command) {
    case 'up':
    case 'api':
    case 'worker': {
      const [{ openPlatform }, { startWorker }, { startApi }] = await Promise.all([
        import('./platform.js'),
        import('./worker.js'),
        import('./api.js'),
      ]);
      const platform = await openPlatform(config, logger, { temporalUi: command === 'up' });
      const worker = command === 'api' ? undefined : await startWorker(platform);
      const api = command === 'worker' ? undefined : await startApi(platform);
      const scp = command === 'worker' ? undefined : await startScp(platform);
      process.stdout.write(
        `nodus ${command} is running (Ctrl-C to stop)\n${describe(platform, api?.url, scp?.port, api?.viewerUrl)}\n`,
      );
      const stop = once(async () => {
        await scp?.close();
        await api?.close();
        await worker?.handle.shutdown();
        await platform.close();
      });
      await Promise.race([untilSignal(logger, stop), worker?.done.then(stop) ?? new Promise(() => {})]);
      return 0;
    }
    case 'demo': {
      const [{ randomBytes }, { newApiToken }, { openPlatform }, { startWorker }, { startApi }, { runDemo }] =
        await Promise.all([
          import('node:crypto'),
          import('../access/api-token.js'),
          import('./platform.js'),
          import('./worker.js'),
          import('./api.js'),
          import('./demo.js'),
        ]);
      const startedAt = performance.now();
      const seconds = () => `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
      process.stdout.write(
        demoLogging?.logFile
          ? `nodus demo: logs in ${demoLogging.logFile} (NODUS_LOG_LEVEL=info shows them here)\n`
          : 'nodus demo\n',
      );
      process.stdout.write('Starting PostgreSQL and Temporal (embedded unless configured) ...\n');
      // The demo needs a token to show the API: NODUS_ADMIN_TOKEN, or one made for this run (printed).
      const platform = await openPlatform(
        {
          ...config,
          adminToken: config.adminToken ?? newApiToken(),
          deidentificationKey: config.deidentificationKey ?? randomBytes(32).toString('hex'),
        },
        logger,
        {
          temporalUi: true,
        },
      );
      process.stdout.write(
        `  up after ${seconds()}; starting the worker (bundles the workflows), API and DICOM receiver ...\n`,
      );
      const worker = await startWorker(platform);
      const api = await startApi(platform);
      const scp = await startScp(platform);
      process.stdout.write(`  up after ${seconds()}\n\n`);
      const stop = once(async () => {
        await scp.close();
        await api.close();
        await worker.handle.shutdown();
        await platform.close();
      });
      const stopped = untilSignal(logger, stop);
      const { values } = parseArgs({ args: rest, options: { exit: { type: 'boolean', default: false } } });
      await runDemo(platform, api.url, describe(platform, api.url, scp.port, api.viewerUrl), api.viewerUrl);
      if (values.exit) {
        await stop();
        return 0;
      }
      process.stdout.write('\nnodus keeps running so you can look around; Ctrl-C stops everything.\n');
      await stopped;
      return 0;
    }
    case 'migrate': {
      const [{ openPostgres }, { runMigrations }] = await Promise.all([
        import('./platform.js'),
        import('../db/migrate.js'),
      ]);
      const postgres = await openPostgres(config, logger);
      try {
        await runMigrations(postgres.database);
        process.stdout.write('migrations applied\n');
      } finally {
        await postgres.close();
      }
      return 0;
    }
    case 'ae':
    case 'quarantine': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          'ae-title': { type: 'string' },
          address: { type: 'string' },
          institution: { type: 'string' },
          description: { type: 'string' },
        },
      });
      const sub = positionals[0];
      const usage =
        'usage: nodus ae add --ae-title T --address IP|CIDR --institution CODE [--description D] | nodus ae list | nodus ae remove <id> | nodus quarantine list';
      const valid =
        command === 'quarantine'
          ? sub === 'list'
          : (sub === 'add' && values['ae-title'] && values.address && values.institution) ||
            sub === 'list' ||
            (sub === 'remove' && positionals[1]);
      if (!valid) throw new DomainError('VALIDATION_FAILED', usage);
      const [
        { openPostgres },
        { runMigrations },
        { aeAddCommand, aeListCommand, aeRemoveCommand, quarantineListCommand },
      ] = await Promise.all([
        import('./platform.js'),
        import('../db/migrate.js'),
        import('./ae-commands.js'),
      ]);
      const postgres = await openPostgres(config, logger);
      try {
        await runMigrations(postgres.database);
        const db = postgres.database.db;
        if (command === 'quarantine') return await quarantineListCommand(db);
        if (sub === 'list') return await aeListCommand(db);
        if (sub === 'remove') return await aeRemoveCommand(db, positionals[1]!);
        return await aeAddCommand(db, {
          aeTitle: values['ae-title']!,
          address: values.address!,
          institution: values.institution!,
          description: values.description,
        });
      } finally {
        await postgres.close();
      }
    }
    case 'user':
    case 'token': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          email: { type: 'string' },
          name: { type: 'string' },
          role: { type: 'string' },
          institution: { type: 'string', multiple: true },
          label: { type: 'string' },
          'expires-days': { type: 'string' },
        },
      });
      const sub = positionals[0];
      const expires = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
      if (
        !values.email ||
        (command === 'user' && (sub !== 'add' || !values.role)) ||
        (command === 'token' && sub !== 'create') ||
        (expires !== undefined && !(Number.isInteger(expires) && expires >= 1))
      ) {
        throw new DomainError(
          'VALIDATION_FAILED',
          'usage: nodus user add --email E --role R [--name N] [--institution CODE]... | nodus token create --email E [--label L] [--expires-days N]',
        );
      }
      const [{ openPostgres }, { runMigrations }, { tokenCreateCommand, userAddCommand }] = await Promise.all(
        [import('./platform.js'), import('../db/migrate.js'), import('./user-commands.js')],
      );
      const postgres = await openPostgres(config, logger);
      try {
        await runMigrations(postgres.database);
        return command === 'user'
          ? await userAddCommand(postgres.database.db, {
              email: values.email,
              name: values.name ?? values.email,
              role: values.role ?? '',
              institutions: values.institution ?? [],
            })
          : await tokenCreateCommand(postgres.database.db, {
              email: values.email,
              label: values.label ?? 'created with nodus token create',
              expiresInDays: expires,
            });
      } finally {
        await postgres.close();
      }
    }
    case 'export': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { out: { type: 'string' } },
      });
      if (positionals.length !== 1 || !values.out) {
        throw new DomainError('VALIDATION_FAILED', 'usage: nodus export <snapshot-id> --out <folder>');
      }
      const [{ openPostgres }, { runMigrations }, { exportCommand }, { FilesystemBlobStore }] =
        await Promise.all([
          import('./platform.js'),
          import('../db/migrate.js'),
          import('./export-command.js'),
          import('../storage/filesystem-blob-store.js'),
        ]);
      const postgres = await openPostgres(config, logger);
      try {
        await runMigrations(postgres.database);
        return await exportCommand(
          {
            db: postgres.database.db,
            blobs: new FilesystemBlobStore(path.join(config.dataDir, 'blobs')),
            deidentificationKey: config.deidentificationKey,
          },
          positionals[0]!,
          values.out,
          progressBar('exporting'),
        );
      } finally {
        await postgres.close();
      }
    }
    case 'import': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true });
      if (positionals.length === 0)
        throw new DomainError('VALIDATION_FAILED', 'import needs at least one file or folder');
      const { importFiles } = await import('../ingest/import-files.js');
      const summary = await withPlatform(config, logger, (platform) =>
        importFiles(platform.ingest, positionals, progressBar('importing')),
      );
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return summary.rejected.length > 0 || summary.conflicts.length > 0 ? 1 : 0;
    }
    case 'bundle-workflows': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      if (!values.out) throw new DomainError('VALIDATION_FAILED', 'bundle-workflows needs --out <file>');
      const { bundleWorkflows } = await import('../temporal/worker.js');
      const bundle = await bundleWorkflows();
      await fs.mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
      await fs.writeFile(values.out, bundle.code);
      process.stdout.write(
        `workflow bundle written to ${values.out} (set NODUS_WORKFLOW_BUNDLE to use it)\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`nodus: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
      return 2;
  }
}

/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
export function progressBar(label: string): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done === total) process.stderr.write('\n');
  };
}

/** One clear line for expected failures (bad config, unreachable services); a stack only for bugs. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  if (error instanceof ConfigError) return { line: error.message, exitCode: 2 };
  if (error instanceof DomainError)
    return { line: error.message, exitCode: error.code === 'VALIDATION_FAILED' ? 2 : 1 };
  if (error instanceof Error && /embedded PostgreSQL|Temporal (CLI|dev server)/.test(error.message)) {
    return { line: error.message, exitCode: 1 };
  }
  return { line: error instanceof Error ? (error.stack ?? error.message) : String(error), exitCode: 1 };
}
