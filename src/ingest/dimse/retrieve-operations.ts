import dcmjsDimse from 'dcmjs-dimse';
import type { association as dimseAssociation, requests, responses } from 'dcmjs-dimse';
import type { Database } from '../../db/client.js';
import { recordAuditEvent } from '../../db/repositories/audit-events.js';
import type { InstanceRow } from '../../db/repositories/dicomweb-query.js';
import { toExplicitLittleEndian } from '../../dicom/instance-frames.js';
import type { Logger } from '../../logging/logger.js';
import type { DicomPeer } from '../../shared/dicom-peer.js';
import { DomainError } from '../../shared/errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { COMPRESSED_TRANSFER_SYNTAXES } from './negotiation.js';
import { findMatches, instancesToSend } from './query-retrieve.js';
import { Part10Dataset, splitPart10 } from './store-to-peer.js';

const { Client, Dataset } = dcmjsDimse;
const { Status } = dcmjsDimse.constants;
const { CStoreRequest } = dcmjsDimse.requests;
const { CFindResponse, CGetResponse, CMoveResponse } = dcmjsDimse.responses;

type Association = dimseAssociation.Association;
type CFindRequest = requests.CFindRequest;
type CMoveRequest = requests.CMoveRequest;
type CGetRequest = requests.CGetRequest;
type CStoreRequestType = requests.CStoreRequest;
type CStoreResponse = responses.CStoreResponse;
type Response = responses.CFindResponse | responses.CMoveResponse | responses.CGetResponse;

/** PS3.4 C.4.2.1.5: some sub-operations failed or gave warnings. */
const SUB_OPERATIONS_FAILED_OR_WARNED = 0xb000;
/** PS3.4 C.4.1.1.4 "Identifier does not match SOP Class" / "Unable to process". */
const IDENTIFIER_DOES_NOT_MATCH = 0xa900;
const UNABLE_TO_PROCESS = 0xc000;
/** C-MOVE sub-operations sent per association to the destination (bounds the files held in memory). */
const MOVE_BATCH = 64;

/** What a query/retrieve operation needs of the association it runs on. */
export interface QueryRetrieveContext {
  db: Database;
  blobs: BlobStore;
  logger: Logger;
  /** nodus's AE title (RetrieveAETitle, and the calling AE of C-MOVE associations). */
  aeTitle: string;
  /** NODUS_DICOM_PEERS: the destinations C-MOVE may send to, by AE title. */
  peers: readonly DicomPeer[];
  /** The institution the calling AE is bound to: all it may query or retrieve. */
  institutionId: string;
  callingAeTitle: string;
  address: string;
  association: Association;
  sendResponse(request: CFindRequest | CMoveRequest | CGetRequest, response: Response): void;
  sendRequests(request: CStoreRequestType): void;
  /** Called while an operation runs, so the association's PDU timer does not take silence for death. */
  keepAlive(): void;
  /** Whether the SCU sent C-CANCEL for this message id. */
  cancelled(messageId: number): boolean;
}

function audit(
  context: QueryRetrieveContext,
  action: string,
  level: string,
  resourceId: string,
  details: Record<string, unknown>,
) {
  return recordAuditEvent(context.db, {
    action,
    resourceType: level,
    resourceId,
    actorUserId: null,
    sourceIp: context.address,
    details: { callingAe: context.callingAeTitle, ...details },
  }).catch((error: unknown) => context.logger.error({ err: error }, 'audit event not stored'));
}

function failureStatus(error: unknown): { status: number; comment: string } {
  if (error instanceof DomainError && error.code === 'VALIDATION_FAILED') {
    return { status: IDENTIFIER_DOES_NOT_MATCH, comment: error.message.slice(0, 64) };
  }
  return { status: UNABLE_TO_PROCESS, comment: 'unable to process' };
}

/** C-FIND (Study Root): one pending response per match, then Success (or Cancel). */
export function runFind(
  context: QueryRetrieveContext,
  request: CFindRequest,
  callback: (response: responses.CFindResponse) => void,
) {
  void (async () => {
    const elements = request.getDataset()?.getElements() ?? {};
    let matches = 0;
    try {
      for await (const identifier of findMatches(
        context.db,
        elements,
        [context.institutionId],
        context.aeTitle,
      )) {
        if (context.cancelled(request.getMessageId())) {
          const cancel = CFindResponse.fromRequest(request);
          cancel.setStatus(Status.Cancel);
          return callback(cancel);
        }
        const pending = CFindResponse.fromRequest(request);
        pending.setDataset(new Dataset(identifier));
        pending.setStatus(Status.Pending);
        context.sendResponse(request, pending);
        context.keepAlive();
        matches += 1;
      }
      const done = CFindResponse.fromRequest(request);
      done.setStatus(Status.Success);
      callback(done);
    } catch (error) {
      const { status, comment } = failureStatus(error);
      context.logger.warn({ err: error }, 'C-FIND failed');
      const failed = CFindResponse.fromRequest(request);
      failed.setStatus(status);
      failed.setErrorComment(comment);
      callback(failed);
    } finally {
      await audit(context, 'dimse.find', levelOf(elements), '*', { matches });
    }
  })();
}

/** The data set to send for a stored instance in `acceptedSyntax` (decoded when the peer takes no compression). */
async function datasetFor(
  context: QueryRetrieveContext,
  row: InstanceRow,
  acceptedSyntax: string | undefined,
) {
  let file = await context.blobs.get(row.blob_key);
  if (
    COMPRESSED_TRANSFER_SYNTAXES.has(row.transfer_syntax_uid) &&
    acceptedSyntax !== row.transfer_syntax_uid
  ) {
    file = await toExplicitLittleEndian(file, row.transfer_syntax_uid);
  }
  const { dataset, transferSyntaxUid } = splitPart10(file);
  return new Part10Dataset(dataset, transferSyntaxUid);
}

interface Counts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
  failedUids: string[];
}

function tally(counts: Counts, row: InstanceRow, status: number | undefined) {
  counts.remaining -= 1;
  if (status === 0) counts.completed += 1;
  else if (status !== undefined && (status === 1 || (status & 0xf000) === 0xb000)) counts.warning += 1;
  else {
    counts.failed += 1;
    counts.failedUids.push(row.sop_instance_uid);
  }
}

function withCounts<T extends responses.CMoveResponse | responses.CGetResponse>(
  response: T,
  counts: Counts,
  final: boolean,
): T {
  if (!final) response.setRemaining(counts.remaining);
  response.setCompleted(counts.completed);
  response.setFailures(counts.failed);
  response.setWarnings(counts.warning);
  if (final) {
    response.setStatus(
      counts.failed + counts.warning === 0 ? Status.Success : SUB_OPERATIONS_FAILED_OR_WARNED,
    );
    if (counts.failedUids.length > 0)
      response.setDataset(new Dataset({ FailedSOPInstanceUIDList: counts.failedUids }));
  } else response.setStatus(Status.Pending);
  return response;
}

/** Whether the SCU took the storage SCP role for a SOP class on this association (C-GET, PS3.7 D.3.3.4). */
function acceptsStoreFor(association: Association, sopClassUid: string): string | undefined {
  const found = association
    .getPresentationContexts()
    .map(({ context }) => context)
    .find(
      (c) =>
        c.getAbstractSyntaxUid() === sopClassUid &&
        c.getResult() === dcmjsDimse.constants.PresentationContextResult.Accept &&
        c.getProviderRole() === true,
    );
  return found?.getAcceptedTransferSyntaxUid();
}

/** C-GET: the matching instances C-STOREd back on this association, one at a time, with pending counts. */
export function runGet(
  context: QueryRetrieveContext,
  request: CGetRequest,
  callback: (response: responses.CGetResponse) => void,
) {
  void (async () => {
    const elements = request.getDataset()?.getElements() ?? {};
    const counts: Counts = { remaining: 0, completed: 0, failed: 0, warning: 0, failedUids: [] };
    try {
      const rows = await instancesToSend(context.db, elements, [context.institutionId]);
      counts.remaining = rows.length;
      for (const row of rows) {
        if (context.cancelled(request.getMessageId())) {
          const cancel = withCounts(CGetResponse.fromRequest(request), counts, false);
          cancel.setStatus(Status.Cancel);
          return callback(cancel);
        }
        const accepted = acceptsStoreFor(context.association, row.sop_class_uid);
        let status: number | undefined;
        if (accepted !== undefined) {
          const store = new CStoreRequest(await datasetFor(context, row, accepted));
          status = await new Promise<number | undefined>((resolve) => {
            let last: CStoreResponse | undefined;
            store.on('response', (response: CStoreResponse) => {
              last = response;
              store.setDataset(undefined as never); // the library keeps requests: let the data go
            });
            store.on('done', () => resolve(last?.getStatus()));
            context.sendRequests(store);
          });
        }
        tally(counts, row, status);
        context.keepAlive();
        context.sendResponse(request, withCounts(CGetResponse.fromRequest(request), counts, false));
      }
      callback(withCounts(CGetResponse.fromRequest(request), counts, true));
    } catch (error) {
      const { status, comment } = failureStatus(error);
      context.logger.warn({ err: error }, 'C-GET failed');
      const failed = withCounts(CGetResponse.fromRequest(request), counts, true);
      failed.setStatus(status);
      failed.setErrorComment(comment);
      callback(failed);
    } finally {
      await audit(context, 'dimse.get', levelOf(elements), uidOf(elements), {
        completed: counts.completed,
        failed: counts.failed,
      });
    }
  })();
}

/**
 * C-MOVE: the matching instances C-STOREd to the destination AE (one of NODUS_DICOM_PEERS) on associations
 * nodus opens (MOVE_BATCH instances each), with pending counts on this one.
 */
export function runMove(
  context: QueryRetrieveContext,
  request: CMoveRequest,
  callback: (response: responses.CMoveResponse) => void,
) {
  void (async () => {
    const elements = request.getDataset()?.getElements() ?? {};
    const destination = String(request.getCommandDataset().getElement('MoveDestination') ?? '').trim();
    const counts: Counts = { remaining: 0, completed: 0, failed: 0, warning: 0, failedUids: [] };
    try {
      const peer = context.peers.find((p) => p.aeTitle === destination);
      if (!peer) {
        const unknown = CMoveResponse.fromRequest(request);
        unknown.setStatus(Status.MoveDestinationUnknown);
        unknown.setErrorComment(`${destination} is not in NODUS_DICOM_PEERS`.slice(0, 64));
        return callback(unknown);
      }
      const rows = await instancesToSend(context.db, elements, [context.institutionId]);
      counts.remaining = rows.length;
      for (let n = 0; n < rows.length; n += MOVE_BATCH) {
        if (context.cancelled(request.getMessageId())) {
          const cancel = withCounts(CMoveResponse.fromRequest(request), counts, false);
          cancel.setStatus(Status.Cancel);
          return callback(cancel);
        }
        await moveBatch(context, request, peer, rows.slice(n, n + MOVE_BATCH), counts);
      }
      callback(withCounts(CMoveResponse.fromRequest(request), counts, true));
    } catch (error) {
      const { status, comment } = failureStatus(error);
      context.logger.warn({ err: error }, 'C-MOVE failed');
      const failed = withCounts(CMoveResponse.fromRequest(request), counts, true);
      failed.setStatus(status);
      failed.setErrorComment(comment);
      callback(failed);
    } finally {
      await audit(context, 'dimse.move', levelOf(elements), uidOf(elements), {
        destination,
        completed: counts.completed,
        failed: counts.failed,
      });
    }
  })();
}

async function moveBatch(
  context: QueryRetrieveContext,
  request: CMoveRequest,
  peer: DicomPeer,
  rows: InstanceRow[],
  counts: Counts,
): Promise<void> {
  const client = new Client();
  const statuses = new Map<InstanceRow, number>();
  for (const row of rows) {
    // As stored: the destination is offered the stored syntax and the uncompressed ones.
    const store = new CStoreRequest(await datasetFor(context, row, row.transfer_syntax_uid));
    store.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', context.callingAeTitle);
    // A US value; the typings want a string.
    store.getCommandDataset().setElement('MoveOriginatorMessageID', request.getMessageId() as never);
    store.on('response', (response: CStoreResponse) => {
      statuses.set(row, response.getStatus());
      tally(counts, row, response.getStatus());
      context.keepAlive();
      context.sendResponse(request, withCounts(CMoveResponse.fromRequest(request), counts, false));
    });
    client.addRequest(store);
  }
  await new Promise<void>((resolve) => {
    client.on('networkError', (error: Error) =>
      context.logger.warn({ err: error, peer: peer.aeTitle }, 'C-MOVE destination unreachable'),
    );
    client.on('closed', () => resolve());
    client.send(peer.host, peer.port, context.aeTitle, peer.aeTitle, {
      connectTimeout: 30_000,
      associationTimeout: 30_000,
      pduTimeout: 30_000,
      associationLingerTimeout: 0,
    });
  });
  // Sub-operations never answered (refused SOP class, broken connection) failed.
  for (const row of rows) if (!statuses.has(row)) tally(counts, row, undefined);
}

function levelOf(elements: Record<string, unknown>): string {
  return typeof elements.QueryRetrieveLevel === 'string' ? elements.QueryRetrieveLevel.trim() : '';
}

function uidOf(elements: Record<string, unknown>): string {
  for (const key of ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID']) {
    const value = elements[key];
    if (typeof value === 'string' && value !== '') return value;
    if (Array.isArray(value) && value.length > 0) return value.join('\\');
  }
  return '*';
}
