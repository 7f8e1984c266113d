import { parseDicomPeer, type DicomPeer } from '../shared/dicom-peer.js';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUES } from '../shared/task-queues.js';
import { ConfigError } from './config-error.js';

export { ConfigError };

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const postgresUrl = optionalString.refine(
  (value) => value === undefined || /^postgres(ql)?:\/\/.+/.test(value),
  'must be a postgres:// or postgresql:// URL',
);

const hostPort = optionalString.refine(
  (value) => value === undefined || /^[^\s:/]+:\d{1,5}$/.test(value),
  'must be host:port, e.g. temporal.example.org:7233',
);

const MiB = 1024 * 1024;
/** A size in bytes; a suffix K, M or G (binary) may follow the number. */
const byteCount = (fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?\s*[KMG]?i?B?$/i, 'must be a number of bytes, optionally with K, M or G (e.g. 512M)')
    .transform((value) => {
      const match = /^(\d+(?:\.\d+)?)\s*([KMG]?)/i.exec(value)!;
      const scale = { '': 1, K: 1024, M: MiB, G: 1024 * MiB }[
        match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'
      ];
      return Math.round(Number(match[1]) * scale);
    })
    .pipe(z.number().int().min(1024, 'must be at least 1K'))
    .default(fallback);

/** A DICOM AE title: 1-16 characters of the default character repertoire, no backslash, not all spaces. */
const aeTitle = z
  .string()
  .regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'must be 1-16 printable ASCII characters without backslash')
  .refine((value) => value.trim() !== '', 'must not be blank')
  .default('NODUS');

const schema = z.object({
  DATABASE_URL: postgresUrl,
  TEMPORAL_ADDRESS: hostPort,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  NODUS_SERIES_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUES.series),
  NODUS_INFERENCE_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUES.inference),
  NODUS_DATA_DIR: z.string().min(1).default('.nodus'),
  NODUS_API_HOST: z.string().min(1).default('127.0.0.1'),
  NODUS_API_PORT: port(8080),
  /** The OHIF viewer's own origin (OHIF is served from `/`), with nodus's DICOMweb on it too. */
  NODUS_VIEWER_PORT: port(8081),
  NODUS_DICOM_AE_TITLE: aeTitle,
  NODUS_DICOM_PORT: port(11112),
  NODUS_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODUS_SERIES_QUIET_PERIOD_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  NODUS_TEMPORAL_CLI: optionalString,
  NODUS_WORKFLOW_BUNDLE: optionalString,
  NODUS_SAMPLE_DIR: optionalString,
  NODUS_MODELS_DIR: optionalString,
  /** Seeds an administrator's bearer token at start (demo, first set-up); at least 32 characters. */
  NODUS_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  NODUS_DEID_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  NODUS_AUTH_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(10),
  NODUS_AUTH_FAILURE_WINDOW_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
  /** DICOM nodes reports may be sent to: comma-separated AETITLE@host:port. */
  NODUS_DICOM_PEERS: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v.trim() === '' || v.split(',').every((e) => parseDicomPeer(e) !== undefined),
      'must be comma-separated AETITLE@host:port entries',
    ),
  /** C-STORE from a calling AE that is not configured (nodus ae add): refuse, or keep aside. */
  NODUS_DICOM_UNKNOWN_CALLERS: z.enum(['refuse', 'quarantine']).default('refuse'),
  NODUS_DICOM_MAX_ASSOCIATIONS: z.coerce.number().int().min(1).max(10_000).default(32),
  NODUS_MAX_INSTANCE_BYTES: byteCount(512 * MiB),
  NODUS_INGEST_MEMORY_BYTES: byteCount(1024 * MiB),
  NODUS_STOW_MAX_REQUEST_BYTES: byteCount(8 * 1024 * MiB),
  NODUS_API_MAX_JSON_BYTES: byteCount(1 * MiB),
  NODUS_QUARANTINE_MAX_BYTES: byteCount(2 * 1024 * MiB),
  NODUS_DETECTOR: optionalString,
  /** The origin (and path prefix) clients reach nodus at, for the URLs in DICOMweb answers. */
  NODUS_PUBLIC_URL: optionalString.refine(
    (value) => value === undefined || /^https?:\/\/[^\s/]+(\/[^\s?#]*)?$/.test(value),
    'must be an http:// or https:// URL without query, e.g. https://pacs.example.org/nodus',
  ),
  /** Browser origins (a viewer served elsewhere) allowed to call the API and DICOMweb: comma-separated. */
  NODUS_CORS_ORIGINS: optionalString.refine(
    (value) =>
      value === undefined ||
      value.split(',').every((origin) => /^(\*|https?:\/\/[^\s/]+)$/.test(origin.trim())),
    'must be comma-separated origins such as https://viewer.example.org, or *',
  ),
  NODUS_INFERENCE_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  NODUS_INFERENCE_MAX_TILE_VOXELS: z.coerce
    .number()
    .int()
    .min(100_000)
    .max(2_000_000_000)
    .default(12_000_000),
});

/** The typed configuration of every nodus process, parsed once at start. */
export interface Config {
  /** External PostgreSQL; undefined means nodus starts an embedded server under `dataDir`. */
  databaseUrl: string | undefined;
  temporal: {
    /** External Temporal frontend (host:port); undefined means nodus starts a dev server under `dataDir`. */
    address: string | undefined;
    namespace: string;
    taskQueues: { series: string; inference: string };
    /** The Temporal CLI used for the embedded dev server. */
    cliPath: string | undefined;
    /** A workflow bundle produced by `nodus bundle-workflows`; undefined loads workflows from source. */
    workflowBundlePath: string | undefined;
  };
  /** Absolute path holding the blob store and the state of embedded services. */
  dataDir: string;
  api: { host: string; port: number };
  /** The C-STORE receiver, and the peers reports may be sent to (NODUS_DICOM_PEERS). */
  dicom: {
    aeTitle: string;
    port: number;
    peers: DicomPeer[];
    /** C-STORE from a calling AE that is not configured: refused, or every instance kept aside. */
    unknownCallers: 'refuse' | 'quarantine';
    maxAssociations: number;
  };
  /** Limits of receiving instances and request bodies, bytes. */
  limits: {
    /** One C-STORE data set or STOW-RS part. */
    maxInstanceBytes: number;
    /** Received instances loaded into memory at once, across all routes. */
    ingestMemoryBytes: number;
    stowMaxRequestBytes: number;
    /** A JSON (or any non-STOW) request body. */
    apiMaxJsonBytes: number;
    /** Instances kept aside (conflicts, other institutions', unknown callers'). */
    quarantineMaxBytes: number;
  };
  logLevel: LogLevel;
  /** How long a series must stay quiet (no new instance) before processing starts, in milliseconds. */
  seriesQuietPeriodMs: number;
  /** Folder of real sample CT (the shared data set); undefined means `../shared/data` next to the checkout. */
  sampleDir: string | undefined;
  /** NODUS_ADMIN_TOKEN: an administrator's bearer token seeded at API start. */
  adminToken: string | undefined;
  /** NODUS_DEID_KEY: the secret keying research exports' pseudonyms; research snapshots need it. */
  deidentificationKey: string | undefined;
  /** NODUS_PUBLIC_URL (no trailing slash) and NODUS_CORS_ORIGINS: how browsers and viewers reach nodus. */
  web: { publicUrl: string | undefined; corsOrigins: string[]; viewerPort: number };
  /** Brute-force protection: failed authentications a client address may have per window (ms). */
  auth: { maxFailures: number; failureWindowMs: number };
  inference: {
    /** Folder with manifest.json and the .onnx files; undefined means the repository's models/. */
    modelsDir: string | undefined;
    /** Detector id (or id@version) from the manifest; undefined means its default detector. */
    detector: string | undefined;
    /** onnxruntime intra-op threads per inference; undefined means all cores. */
    threads: number | undefined;
    /** Voxels per inference call: the memory budget of sliding-window inference. */
    maxTileVoxels: number;
  };
}

/**
 * Parses the environment into a Config. Throws a ConfigError whose message names every invalid variable.
 * @param cwd resolves a relative NODUS_DATA_DIR
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = issue.path.join('.');
        const value = env[variable];
        return `${variable}=${JSON.stringify(value ?? '')}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueues: { series: e.NODUS_SERIES_TASK_QUEUE, inference: e.NODUS_INFERENCE_TASK_QUEUE },
      cliPath: e.NODUS_TEMPORAL_CLI,
      workflowBundlePath: e.NODUS_WORKFLOW_BUNDLE ? path.resolve(cwd, e.NODUS_WORKFLOW_BUNDLE) : undefined,
    },
    dataDir: path.resolve(cwd, e.NODUS_DATA_DIR),
    api: { host: e.NODUS_API_HOST, port: e.NODUS_API_PORT },
    dicom: {
      aeTitle: e.NODUS_DICOM_AE_TITLE,
      port: e.NODUS_DICOM_PORT,
      peers: (e.NODUS_DICOM_PEERS ?? '')
        .split(',')
        .filter((entry) => entry.trim() !== '')
        .map((entry) => parseDicomPeer(entry)!),
      unknownCallers: e.NODUS_DICOM_UNKNOWN_CALLERS,
      maxAssociations: e.NODUS_DICOM_MAX_ASSOCIATIONS,
    },
    limits: {
      maxInstanceBytes: e.NODUS_MAX_INSTANCE_BYTES,
      ingestMemoryBytes: e.NODUS_INGEST_MEMORY_BYTES,
      stowMaxRequestBytes: e.NODUS_STOW_MAX_REQUEST_BYTES,
      apiMaxJsonBytes: e.NODUS_API_MAX_JSON_BYTES,
      quarantineMaxBytes: e.NODUS_QUARANTINE_MAX_BYTES,
    },
    logLevel: e.NODUS_LOG_LEVEL,
    seriesQuietPeriodMs: e.NODUS_SERIES_QUIET_PERIOD_MS,
    sampleDir: e.NODUS_SAMPLE_DIR ? path.resolve(cwd, e.NODUS_SAMPLE_DIR) : undefined,
    adminToken: e.NODUS_ADMIN_TOKEN,
    deidentificationKey: e.NODUS_DEID_KEY,
    web: {
      publicUrl: e.NODUS_PUBLIC_URL?.replace(/\/+$/, ''),
      corsOrigins: (e.NODUS_CORS_ORIGINS ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
      viewerPort: e.NODUS_VIEWER_PORT,
    },
    auth: { maxFailures: e.NODUS_AUTH_MAX_FAILURES, failureWindowMs: e.NODUS_AUTH_FAILURE_WINDOW_MS },
    inference: {
      modelsDir: e.NODUS_MODELS_DIR ? path.resolve(cwd, e.NODUS_MODELS_DIR) : undefined,
      detector: e.NODUS_DETECTOR,
      threads: e.NODUS_INFERENCE_THREADS,
      maxTileVoxels: e.NODUS_INFERENCE_MAX_TILE_VOXELS,
    },
  };
}
