import { dicomVisibility, type DicomRead } from '../dicomweb/dicom-visibility.js';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Database } from '../../db/client.js';
import {
  instancesToRetrieve,
  type InstanceRow,
  type RetrieveTarget,
} from '../../db/repositories/dicomweb-query.js';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  isNativeLittleEndian,
  storedFrames,
  toExplicitLittleEndian,
  uncompressedFrames,
} from '../../dicom/instance-frames.js';
import { decodeInstance } from '../../dicom/pixel-data.js';
import { parseViewport, parseWindow, renderFrame } from '../../dicom/rendered-frame.js';
import { DomainError } from '../../shared/errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import type { AppEnv } from '../app.js';
import { audit } from '../audit.js';
import { acceptsDicomJson } from '../dicomweb/accept.js';
import { multipartStream, newBoundary, type ResponsePart } from '../dicomweb/multipart-response.js';
import { honoPath, uidParam } from '../dicomweb/path-params.js';
import { negotiateFrames, negotiateInstances, negotiateRendered } from '../dicomweb/retrieve-negotiation.js';
import { dicomwebUrls, publicBaseUrl } from '../dicomweb/retrieve-urls.js';
import { fillMissingMetadata } from '../dicomweb/stored-metadata.js';
import { dicomUidParam, errorResponse } from '../schemas.js';

const security = [{ bearer: [] }];
const PIXEL_DATA = '7FE00010';
/** Most frames one frames request may list. */
const MAX_FRAMES_PER_REQUEST = 4096;

const errors = {
  400: errorResponse('A malformed UID, frame list, window or viewport (named)'),
  401: errorResponse('No valid bearer token'),
  403: errorResponse('Researchers (identifying data)'),
  404: errorResponse('No such study, series, instance or frame among those the caller may see'),
  406: errorResponse('Accept allows no representation nodus can send'),
};
const binary = (mediaType: string, description: string) => ({
  200: { content: { [mediaType]: { schema: z.string().openapi({ format: 'binary' }) } }, description },
  ...errors,
});
const json = (description: string) => ({
  200: {
    content: { 'application/dicom+json': { schema: z.array(z.record(z.string(), z.unknown())) } },
    description,
  },
  ...errors,
});

const uid = dicomUidParam;
const studyParams = z.object({ studyInstanceUid: uid('studyInstanceUid') });
const seriesParams = studyParams.extend({ seriesInstanceUid: uid('seriesInstanceUid') });
const instanceParams = seriesParams.extend({ sopInstanceUid: uid('sopInstanceUid') });
const framesParams = instanceParams.extend({
  frames: z.string().openapi({ param: { name: 'frames', in: 'path' }, example: '1,2,3' }),
});
const bulkParams = instanceParams.extend({
  tag: z.string().openapi({ param: { name: 'tag', in: 'path' }, example: PIXEL_DATA }),
});
const multipartDicom = 'multipart/related; type="application/dicom"';
const multipartFrames = 'multipart/related; type="application/octet-stream"';

type Level = 'study' | 'series' | 'instance';
const paramsOf = { study: studyParams, series: seriesParams, instance: instanceParams } as const;
const pathOf = {
  study: '/dicomweb/studies/{studyInstanceUid}',
  series: '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}',
  instance: '/dicomweb/studies/{studyInstanceUid}/series/{seriesInstanceUid}/instances/{sopInstanceUid}',
} as const;

export interface DicomwebRetrieveDeps {
  db: Database;
  blobs: BlobStore;
  publicUrl?: string | undefined;
}

/** Instances read ahead of the one being sent. */
const READ_AHEAD = 4;

/**
 * DICOMweb WADO-RS (PS3.18 §10.4): instances, metadata, frames, bulk data, rendered images and
 * thumbnails, for the caller's institutions only; every retrieve is audited.
 */
export function dicomwebRetrieveRoutes(deps: DicomwebRetrieveDeps) {
  const app = new OpenAPIHono<AppEnv>();

  const targetOf = (c: Context<AppEnv>, level: Level): RetrieveTarget => ({
    studyInstanceUid: uidParam(c, 'studyInstanceUid'),
    ...(level !== 'study' && { seriesInstanceUid: uidParam(c, 'seriesInstanceUid') }),
    ...(level === 'instance' && { sopInstanceUid: uidParam(c, 'sopInstanceUid') }),
  });

  /** The visible instances of the target; NOT_FOUND when there are none (unknown and foreign alike). */
  const resolve = async (c: Context<AppEnv>, level: Level, what: string) => {
    const read: DicomRead =
      what === 'metadata'
        ? 'metadata'
        : what.startsWith('rendered') || what === 'thumbnail'
          ? 'picture'
          : 'files';
    const visibility = dicomVisibility(c, read, 'retrieve DICOM objects');
    const target = targetOf(c, level);
    const rows = await instancesToRetrieve(deps.db, target, visibility);
    if (rows.length === 0) {
      throw new DomainError(
        'NOT_FOUND',
        `no ${level} ${target.sopInstanceUid ?? target.seriesInstanceUid ?? target.studyInstanceUid}`,
      );
    }
    await audit(c, deps.db, {
      action: 'dicomweb.retrieve',
      resourceType: level,
      resourceId: target.sopInstanceUid ?? target.seriesInstanceUid ?? target.studyInstanceUid,
      details: { what, instances: rows.length, study: target.studyInstanceUid },
    });
    return rows;
  };

  const base = (c: Context<AppEnv>) => publicBaseUrl(c.req.url, deps.publicUrl);

  const serve = (
    route: ReturnType<typeof createRoute>,
    handler: (c: Context<AppEnv>) => Promise<Response>,
  ) => {
    app.openAPIRegistry.registerPath(route);
    app.get(honoPath(route.path), handler);
  };

  for (const level of ['study', 'series', 'instance'] as const) {
    serve(
      createRoute({
        method: 'get',
        path: pathOf[level],
        summary: `WADO-RS Retrieve ${level === 'study' ? 'Study' : level === 'series' ? 'Series' : 'Instance'}`,
        description:
          'Accept: multipart/related; type="application/dicom"; transfer-syntax=* (as stored) or ' +
          '1.2.840.10008.1.2.1 (Explicit VR Little Endian, the default: compressed instances are decoded).',
        security,
        request: { params: paramsOf[level] },
        responses: binary(multipartDicom, 'One part per instance'),
      }),
      async (c) => {
        const rows = await resolve(c, level, 'instances');
        const syntax = negotiateInstances(
          c.req.header('accept'),
          new Set(rows.map((r) => r.transfer_syntax_uid)),
        );
        const urls = dicomwebUrls(base(c));
        const boundary = newBoundary();
        const parts = readAhead(rows, async (row): Promise<ResponsePart> => {
          const stored = await deps.blobs.get(row.blob_key);
          const asStored = syntax === '*' || syntax === row.transfer_syntax_uid;
          const bytes = asStored ? stored : await toExplicitLittleEndian(stored, row.transfer_syntax_uid);
          const sent = asStored ? row.transfer_syntax_uid : EXPLICIT_VR_LITTLE_ENDIAN;
          return {
            contentType: `application/dicom; transfer-syntax=${sent}`,
            location: urls.instance(row.study_instance_uid, row.series_instance_uid, row.sop_instance_uid),
            bytes,
          };
        });
        return new Response(multipartStream(parts, boundary), {
          headers: {
            'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
            'Cache-Control': 'private, no-store',
          },
        });
      },
    );

    serve(
      createRoute({
        method: 'get',
        path: `${pathOf[level]}/metadata`,
        summary: `WADO-RS Retrieve ${level} metadata`,
        description:
          'Every instance as DICOM JSON; pixel data as a BulkDataURI that resolves from the browser.',
        security,
        request: { params: paramsOf[level] },
        responses: json('One DICOM JSON data set per instance'),
      }),
      async (c) => {
        if (!acceptsDicomJson(c.req.header('accept'))) {
          throw new DomainError('NOT_ACCEPTABLE', 'metadata is sent as application/dicom+json only');
        }
        const rows = await resolve(c, level, 'metadata');
        await fillMissingMetadata(deps, rows);
        const urls = dicomwebUrls(base(c));
        const body = rows.map((row) => withBulkDataUri(row, urls));
        return c.body(JSON.stringify(body), 200, {
          'Content-Type': 'application/dicom+json',
          'Cache-Control': 'private, no-store',
        });
      },
    );

    serve(
      createRoute({
        method: 'get',
        path: `${pathOf[level]}/thumbnail`,
        summary: `WADO-RS ${level} thumbnail (PNG or JPEG of the middle instance)`,
        security,
        request: { params: paramsOf[level] },
        responses: binary(
          'image/png',
          'PNG, lung window unless the instance names one; viewport default 128,128',
        ),
      }),
      async (c) => {
        const mediaType = negotiateRendered(c.req.header('accept'));
        const rows = (await resolve(c, level, 'thumbnail')).filter(
          (r) => r.rows !== null || r.metadata === null,
        );
        const row = rows[Math.floor(rows.length / 2)];
        if (!row) throw new DomainError('NOT_FOUND', 'no image to make a thumbnail of');
        return renderedResponse(
          c,
          row,
          0,
          parseViewport(c.req.query('viewport')) ?? { width: 128, height: 128 },
          mediaType,
        );
      },
    );
  }

  serve(
    createRoute({
      method: 'get',
      path: `${pathOf.instance}/rendered`,
      summary: 'WADO-RS Retrieve Rendered Instance (first frame), PNG or JPEG',
      description: 'Query: window=center,width[,linear] (HU for CT), viewport=width,height.',
      security,
      request: { params: instanceParams },
      responses: binary('image/png', 'PNG'),
    }),
    async (c) => {
      const mediaType = negotiateRendered(c.req.header('accept'));
      const [row] = await resolve(c, 'instance', 'rendered');
      return renderedResponse(c, row!, 0, parseViewport(c.req.query('viewport')), mediaType);
    },
  );

  serve(
    createRoute({
      method: 'get',
      path: `${pathOf.instance}/frames/{frames}/rendered`,
      summary: 'WADO-RS Retrieve Rendered Frame, PNG or JPEG',
      security,
      request: { params: framesParams },
      responses: binary('image/png', 'PNG of the first listed frame'),
    }),
    async (c) => {
      const mediaType = negotiateRendered(c.req.header('accept'));
      const [row] = await resolve(c, 'instance', 'rendered frame');
      const [frame] = frameList(c.req.param('frames') ?? '', frameCount(row!));
      return renderedResponse(c, row!, frame! - 1, parseViewport(c.req.query('viewport')), mediaType);
    },
  );

  serve(
    createRoute({
      method: 'get',
      path: `${pathOf.instance}/frames/{frames}`,
      summary: 'WADO-RS Retrieve Frames',
      description:
        'Accept: multipart/related; type="application/octet-stream" (uncompressed, the default), with ' +
        'transfer-syntax=* for the stored bitstream, or type="image/jls" | "image/jp2" | "image/jpeg" | ' +
        '"image/dicom-rle" when stored so. Each part carries its transfer-syntax.',
      security,
      request: { params: framesParams },
      responses: binary(multipartFrames, 'One part per listed frame, in the order listed'),
    }),
    async (c) => {
      const [row] = await resolve(c, 'instance', 'frames');
      const numbers = frameList(c.req.param('frames') ?? '', frameCount(row!));
      return framesResponse(c, row!, numbers);
    },
  );

  serve(
    createRoute({
      method: 'get',
      path: `${pathOf.instance}/bulkdata/{tag}`,
      summary: 'WADO-RS Retrieve Bulk Data (the pixel data, 7FE00010, of the metadata BulkDataURI)',
      security,
      request: { params: bulkParams },
      responses: binary(multipartFrames, 'The pixel data, frame by frame'),
    }),
    async (c) => {
      const tag = (c.req.param('tag') ?? '').toUpperCase();
      if (tag !== PIXEL_DATA)
        throw new DomainError(
          'NOT_FOUND',
          `no bulk data ${tag}: only ${PIXEL_DATA} (PixelData) is sent as bulk data`,
        );
      const [row] = await resolve(c, 'instance', 'bulkdata');
      const count = frameCount(row!);
      return framesResponse(
        c,
        row!,
        Array.from({ length: count }, (_, i) => i + 1),
      );
    },
  );

  const framesResponse = async (c: Context<AppEnv>, row: InstanceRow, numbers: number[]) => {
    const representation = negotiateFrames(
      c.req.header('accept'),
      row.transfer_syntax_uid,
      isNativeLittleEndian(row.transfer_syntax_uid),
    );
    const bytes = await deps.blobs.get(row.blob_key);
    const count = frameCount(row);
    const all =
      representation.kind === 'stored'
        ? storedFrames(bytes, row.transfer_syntax_uid, count)
        : await uncompressedFrames(bytes, row.transfer_syntax_uid, count);
    if (!all)
      throw new DomainError(
        'NOT_ACCEPTABLE',
        `frames stored as ${row.transfer_syntax_uid} are sent uncompressed only`,
      );
    const syntax = representation.kind === 'stored' ? row.transfer_syntax_uid : EXPLICIT_VR_LITTLE_ENDIAN;
    const mediaType =
      representation.kind === 'stored' ? representation.mediaType : 'application/octet-stream';
    const contentType = `${mediaType}; transfer-syntax=${syntax}`;
    if (!representation.multipart) {
      if (numbers.length !== 1)
        throw new DomainError('NOT_ACCEPTABLE', 'more than one frame needs a multipart/related Accept');
      return new Response(new Uint8Array(all[numbers[0]! - 1]!), {
        headers: { 'Content-Type': contentType },
      });
    }
    const boundary = newBoundary();
    const parts = readAhead(numbers, (n) => Promise.resolve({ contentType, bytes: all[n - 1]! }));
    return new Response(multipartStream(parts, boundary), {
      headers: {
        'Content-Type': `multipart/related; type="${mediaType}"; boundary=${boundary}`,
        'Cache-Control': 'private, no-store',
      },
    });
  };

  const renderedResponse = async (
    c: Context<AppEnv>,
    row: InstanceRow,
    frameIndex: number,
    viewport: { width: number; height: number } | undefined,
    mediaType: 'image/png' | 'image/jpeg',
  ) => {
    const window = parseWindow(c.req.query('window'));
    const stored = await deps.blobs.get(row.blob_key);
    if (row.metadata === null) await fillMissingMetadata(deps, [row]);
    const decoded = await decodeInstance(stored);
    const image = await renderFrame(decoded.pixels, frameIndex, row.metadata, {
      window,
      viewport,
      mediaType,
    });
    return new Response(new Uint8Array(image), {
      headers: { 'Content-Type': mediaType, 'Cache-Control': 'private, no-store' },
    });
  };

  return app;
}

function frameCount(row: InstanceRow): number {
  if (row.rows === null && row.metadata !== null && row.metadata['00280010'] === undefined) {
    throw new DomainError('NOT_FOUND', `instance ${row.sop_instance_uid} has no pixel data`);
  }
  return row.number_of_frames ?? 1;
}

/** A frame list (`1,3,5`, 1-based, PS3.18 §8.3.3.1.3); 400 when malformed, 404 beyond the last frame. */
export function frameList(value: string, count: number): number[] {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (
    parts.length === 0 ||
    parts.length > MAX_FRAMES_PER_REQUEST ||
    !parts.every((p) => /^\d{1,9}$/.test(p))
  ) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `frames must be a comma-separated list of frame numbers from 1, not ${JSON.stringify(value.slice(0, 80))}`,
      {
        context: { attribute: 'frames' },
      },
    );
  }
  const numbers = parts.map(Number);
  const bad = numbers.find((n) => n < 1 || n > count);
  if (bad !== undefined)
    throw new DomainError('NOT_FOUND', `frame ${bad} does not exist: the instance has ${count}`);
  return numbers;
}

/** The stored metadata with the pixel data's BulkDataURI (and the UIDs a viewer needs), keys sorted. */
function withBulkDataUri(row: InstanceRow, urls: ReturnType<typeof dicomwebUrls>): DicomJsonDataset {
  const metadata: DicomJsonDataset = { ...(row.metadata ?? {}) };
  if (row.rows !== null || metadata['00280010'] !== undefined) {
    const native = isNativeLittleEndian(row.transfer_syntax_uid);
    metadata[PIXEL_DATA] = {
      vr: native && (row.bits_allocated ?? 16) > 8 ? 'OW' : 'OB',
      BulkDataURI: urls.bulkdata(
        row.study_instance_uid,
        row.series_instance_uid,
        row.sop_instance_uid,
        PIXEL_DATA,
      ),
    };
  }
  // AvailableTransferSyntaxUID (0008,3002): the syntax the stored object (and `transfer-syntax=*`) has.
  metadata['00083002'] = { vr: 'UI', Value: [row.transfer_syntax_uid] };
  return Object.fromEntries(
    Object.keys(metadata)
      .sort()
      .map((tag) => [tag, metadata[tag]!]),
  );
}

/** Maps rows to parts in order, with up to READ_AHEAD reads running ahead of the consumer. */
async function* readAhead<T, R>(items: readonly T[], read: (item: T) => Promise<R>): AsyncGenerator<R> {
  const pending: Promise<R>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length < READ_AHEAD && next < items.length) {
      const promise = read(items[next++]!);
      promise.catch(() => {}); // observed when awaited below
      pending.push(promise);
    }
  };
  fill();
  while (pending.length > 0) {
    const value = await pending.shift()!;
    fill();
    yield value;
  }
}
