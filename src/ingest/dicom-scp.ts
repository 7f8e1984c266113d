import net from 'node:net';
import { Writable } from 'node:stream';
import dcmjsDimse from 'dcmjs-dimse';
import type { association as dimseAssociation, requests, responses } from 'dcmjs-dimse';
import type { Logger } from '../logging/logger.js';
import {
  chooseStorageTransferSyntax,
  chooseUncompressedTransferSyntax,
  CT_STORAGE_SOP_CLASSES,
  VERIFICATION_SOP_CLASS,
} from './dimse/negotiation.js';
import { readInstanceHeader } from '../dicom/read-instance.js';
import { InstanceSpool, type ReceivedInstance } from './instance-spool.js';
import { plainAddress, type KnownCallers } from './dimse/known-callers.js';
import {
  NODUS_IMPLEMENTATION_CLASS_UID,
  NODUS_IMPLEMENTATION_VERSION,
  part10Prefix,
} from './dimse/part10.js';
import { PduSizeGuard } from './dimse/pdu-size-guard.js';
import {
  STORE_STATUS,
  errorComment,
  statusOfError,
  statusOfResult,
  type StoreStatus,
} from './dimse/store-status.js';
import type { IngestSender } from './ingest-sender.js';
import { runFind, runGet, runMove, type QueryRetrieveContext } from './dimse/retrieve-operations.js';
import type { DicomPeer } from '../shared/dicom-peer.js';
import { receivingOf } from './receiving.js';
import { storeInstance, type IngestDeps } from './store-instance.js';
import { TransferSession } from './transfer-session.js';

const { Dataset, Implementation, Scp } = dcmjsDimse;
const { PresentationContextResult, RejectReason, RejectResult, RejectSource } = dcmjsDimse.constants;
const { CEchoResponse, CStoreResponse, CFindResponse, CMoveResponse, CGetResponse } = dcmjsDimse.responses;
const { SopClass } = dcmjsDimse.constants;

/** Study Root Query/Retrieve (PS3.4 Annex C): what a configured AE may ask of nodus. */
const QUERY_RETRIEVE_SOP_CLASSES: ReadonlySet<string> = new Set([
  SopClass.StudyRootQueryRetrieveInformationModelFind,
  SopClass.StudyRootQueryRetrieveInformationModelMove,
  SopClass.StudyRootQueryRetrieveInformationModelGet,
]);

type Association = dimseAssociation.Association;
type PresentationContext = dimseAssociation.PresentationContext;
type CEchoRequest = requests.CEchoRequest;
type CFindRequest = requests.CFindRequest;
type CMoveRequest = requests.CMoveRequest;
type CGetRequest = requests.CGetRequest;
type CCancelRequest = requests.CCancelRequest;
type CStoreRequest = requests.CStoreRequest;
type CEchoResponse = responses.CEchoResponse;
type CFindResponse = responses.CFindResponse;
type CMoveResponse = responses.CMoveResponse;
type CGetResponse = responses.CGetResponse;
type CStoreResponse = responses.CStoreResponse;

export interface DicomScpOptions {
  /** Our AE title: associations addressed to another one are rejected. */
  aeTitle: string;
  /** Interface to listen on, e.g. `0.0.0.0` or `127.0.0.1`. */
  host: string;
  /** TCP port; 0 picks a free one (see RunningDicomScp.port). */
  port: number;
  ingest: IngestDeps;
  logger: Logger;
  /** The application entities allowed to store, each bound to its institution. */
  callers: KnownCallers;
  /**
   * What to do with C-STORE from a caller that is not configured: refuse the association (default), or
   * accept it and keep every instance aside for an administrator (NODUS_DICOM_UNKNOWN_CALLERS=quarantine).
   * Verification (C-ECHO) is answered for any caller.
   */
  unknownCallers?: 'refuse' | 'quarantine';
  /** Associations open at once; more are rejected as "local limit exceeded" (NODUS_DICOM_MAX_ASSOCIATIONS). */
  maxAssociations?: number;
  /** Where C-MOVE may send (NODUS_DICOM_PEERS), by AE title; none unless given. */
  peers?: readonly DicomPeer[];
}

export interface RunningDicomScp {
  /** The TCP port the receiver listens on. */
  port: number;
  /** Stops accepting associations, lets stores in progress finish and answer, then closes connections. */
  close: () => Promise<void>;
}

/**
 * The largest P-DATA-TF PDU we accept, bytes: large PDUs mean few PDUs (and little parsing) per slice.
 * dcmjs-dimse uses one value per association both as the limit it announces and as the limit for what it
 * sends; we only ever send small command responses, so the association's value is set to our receive limit.
 */
const MAX_RECEIVE_PDU_BYTES = 256 * 1024;
/** How long an association may stay silent (no PDU) before it is aborted, ms. */
const PDU_TIMEOUT_MS = 60_000;
/** How long a half-closed connection may linger before it is destroyed, ms. */
const CLOSE_GRACE_MS = 5_000;
/** Associations open at once unless configured. */
const DEFAULT_MAX_ASSOCIATIONS = 32;
/** An A-ASSOCIATE-RQ (or any PDU but P-DATA-TF) larger than this is no DICOM peer's, bytes. */
const MAX_CONTROL_PDU_BYTES = 1024 * 1024;

/** What the associations of one receiver share. */
interface ReceiverContext {
  aeTitle: string;
  ingest: IngestDeps;
  logger: Logger;
  callers: KnownCallers;
  unknownCallers: 'refuse' | 'quarantine';
  maxAssociations: number;
  peers: readonly DicomPeer[];
  /** Associations accepted and not ended. */
  open: number;
  /** Stores in progress, so that close() can let them finish. */
  inFlight: Set<Promise<unknown>>;
}

/**
 * Starts the DICOM network receiver (a Storage and Verification SCP, PS3.4 Annexes A and B): accepts
 * associations addressed to `aeTitle`, answers C-ECHO, and stores CT instances received by C-STORE through
 * the one ingest path, storeInstance, as Part 10 files in the transfer syntax they were received in.
 * A C-STORE is answered Success only once the instance is durable. Resolves once the port listens.
 */
export async function startDicomScp(options: DicomScpOptions): Promise<RunningDicomScp> {
  dcmjsDimse.log.setLevel('silent');
  Implementation.setImplementationClassUid(NODUS_IMPLEMENTATION_CLASS_UID);
  Implementation.setImplementationVersion(NODUS_IMPLEMENTATION_VERSION);
  Implementation.setMaxPduLength(MAX_RECEIVE_PDU_BYTES);

  const logger = options.logger.child({ component: 'dicom-scp' });
  const context: ReceiverContext = {
    aeTitle: options.aeTitle.trim(),
    ingest: options.ingest,
    logger,
    callers: options.callers,
    unknownCallers: options.unknownCallers ?? 'refuse',
    maxAssociations: options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS,
    peers: options.peers ?? [],
    open: 0,
    inFlight: new Set(),
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    try {
      new StorageScp(socket, context);
    } catch (error) {
      logger.error({ err: error }, 'could not set up a DICOM connection');
      socket.destroy();
    }
  });
  server.on('error', (error) => logger.error({ err: error }, 'DICOM receiver error'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  logger.info({ aeTitle: context.aeTitle, host: options.host, port }, 'DICOM receiver listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...context.inFlight]);
      for (const socket of sockets) socket.destroy();
      await closed;
      logger.info({ port }, 'DICOM receiver stopped');
    })();
    return closing;
  };
  return { port, close };
}

/**
 * Receives a C-STORE data set as the PDV chunks arrive, into an instance spool (memory for small data sets,
 * a file for large ones) behind the Part 10 file meta, so the result is the file to store. Never reports
 * back-pressure to the library (it awaits 'drain' in a way that could reorder PDUs): when the spool's disk
 * is behind, the association's socket is paused instead, and TCP slows the sender down.
 */
class DatasetCollector extends Writable {
  readonly startedAt = performance.now();
  /** Why the data set cannot be stored, found before it was read (an invalid UID in the command). */
  readonly refusal: string | undefined;
  private readonly spool: InstanceSpool | undefined;

  constructor(
    prefix: { spool: InstanceSpool } | { refusal: string },
    private readonly socket: net.Socket,
  ) {
    super({ highWaterMark: Number.MAX_SAFE_INTEGER, decodeStrings: false });
    if ('spool' in prefix) this.spool = prefix.spool;
    else this.refusal = prefix.refusal;
  }

  get tooLarge(): boolean {
    return this.spool?.tooLarge ?? false;
  }

  get byteLength(): number {
    return this.spool?.byteLength ?? 0;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.spool && !this.spool.write(chunk)) {
      this.socket.pause();
      void this.spool.drained().then(() => this.socket.resume());
    }
    callback();
  }

  /** The received data set (with its file meta); undefined when it was refused or too large. */
  async received(): Promise<ReceivedInstance | undefined> {
    if (!this.spool) return undefined;
    if (this.spool.tooLarge) {
      await this.spool.abandon();
      return undefined;
    }
    return this.spool.finish();
  }

  async abandon(): Promise<void> {
    await this.spool?.abandon();
  }
}

/** A data set handed to cStoreRequest as the raw bytes received, in `transferSyntaxUid`. */
class ReceivedDataset extends Dataset {
  constructor(
    readonly received: DatasetCollector,
    transferSyntaxUid: string,
  ) {
    super({}, transferSyntaxUid);
  }
}

/** Who called: a configured sender bound to an institution, or an unknown one. */
type Caller = { kind: 'known'; institutionId: string; institutionCode: string } | { kind: 'unknown' };

/** One association (one TCP connection) of the receiver. */
class StorageScp extends Scp {
  /** Set by the library's Network; true starts its association and PDU timers. */
  declare connected: boolean;
  /** The library's Network: the negotiated association, and when the last PDU arrived (its PDU timer). */
  declare association: Association;
  declare lastPduTime: number;
  /** Message ids of C-FIND/C-MOVE/C-GET the SCU cancelled. */
  private readonly cancelledIds = new Set<number>();
  private log: Logger;
  private callingAeTitle = '';
  private readonly address: string;
  private caller: Caller = { kind: 'unknown' };
  private sender: IngestSender | undefined;
  private transfer: TransferSession | undefined;
  private accepted = false;
  private released = false;
  private readonly counts = { stored: 0, duplicate: 0, quarantined: 0, failed: 0 };
  private readonly openedAt = Date.now();
  /** This association's stores in progress: the transfer ends after them. */
  private readonly stores = new Set<Promise<unknown>>();
  private readonly guard: PduSizeGuard;

  constructor(
    private readonly connection: net.Socket,
    private readonly context: ReceiverContext,
  ) {
    super(connection, {
      associationTimeout: PDU_TIMEOUT_MS,
      pduTimeout: PDU_TIMEOUT_MS,
      connectTimeout: 3 * PDU_TIMEOUT_MS,
    });
    this.connected = true;
    this.address = plainAddress(connection.remoteAddress ?? '');
    this.log = context.logger.child({ remote: `${this.address}:${connection.remotePort}` });
    // Checked before the library buffers a PDU: one larger than negotiated is aborted at its header.
    this.guard = new PduSizeGuard(MAX_CONTROL_PDU_BYTES, (type, length, limit) => {
      this.log.warn({ pduType: type, length, limit }, 'aborting a DICOM association: PDU over the limit');
      connection.end(A_ABORT_INVALID_PDU_PARAMETER);
      setTimeout(() => connection.destroy(), CLOSE_GRACE_MS).unref();
    });
    connection.prependListener('data', (chunk: Buffer) => this.guard.check(chunk));
    this.on('networkError', (error: Error) => {
      this.log.warn({ err: error }, 'DICOM connection error; closing it');
      this.hangUp();
    });
    connection.once('close', () => void this.ended());
  }

  /** After the connection closed: ends the transfer once this association's stores are answered. */
  private async ended(): Promise<void> {
    if (!this.accepted) return;
    this.context.open -= 1;
    await Promise.allSettled([...this.stores]);
    await this.transfer
      ?.end(this.released ? 'complete' : 'interrupted')
      .catch((error: unknown) => this.log.error({ err: error }, 'could not record the end of a transfer'));
    const level = this.released ? 'info' : 'warn';
    this.log[level](
      { ...this.counts, durationMs: Date.now() - this.openedAt, released: this.released },
      this.released
        ? 'DICOM association ended'
        : 'DICOM association ended without release: transfer interrupted',
    );
  }

  override associationRequested(association: Association): void {
    void this.decide(association).catch((error: unknown) => {
      this.log.error({ err: error }, 'could not decide on a DICOM association; rejecting it');
      this.reject(
        RejectResult.Transient,
        RejectSource.ServiceProviderPresentation,
        RejectReason.TemporaryCongestion,
      );
    });
  }

  private async decide(association: Association): Promise<void> {
    this.callingAeTitle = association.getCallingAeTitle().trim();
    this.log = this.log.child({ callingAe: this.callingAeTitle });
    const calledAeTitle = association.getCalledAeTitle().trim();
    if (calledAeTitle !== this.context.aeTitle) {
      this.log.warn(
        { calledAe: calledAeTitle },
        'rejecting a DICOM association addressed to another AE title',
      );
      this.reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    if (this.context.open >= this.context.maxAssociations) {
      this.log.warn({ open: this.context.open }, 'rejecting a DICOM association: too many open');
      this.reject(
        RejectResult.Transient,
        RejectSource.ServiceProviderPresentation,
        RejectReason.LocalLimitExceeded,
      );
      return;
    }
    const known = await this.context.callers.find(this.callingAeTitle, this.address);
    this.caller = known ? { kind: 'known', ...known } : { kind: 'unknown' };
    const mayStore = known !== undefined || this.context.unknownCallers === 'quarantine';
    // What the peer can receive per PDU (it matters when nodus sends: C-GET sub-operations).
    const peerMaxPdu = association.getMaxPduLength();
    for (const { context } of association.getPresentationContexts()) {
      negotiate(context, mayStore, known !== undefined);
    }
    const acceptedContexts = association
      .getPresentationContexts()
      .filter(({ context }) => context.getResult() === PresentationContextResult.Accept).length;
    if (acceptedContexts === 0) {
      // Nothing proposed can be done: an association for nothing is refused (PS3.8 §7.1.1.2).
      this.log.warn(
        { proposed: association.getPresentationContexts().length, knownCaller: known !== undefined },
        known || mayStore
          ? 'rejecting a DICOM association: no proposed presentation context is supported'
          : 'rejecting a DICOM association from an unknown calling AE title or address',
      );
      this.reject(
        RejectResult.Permanent,
        RejectSource.ServiceUser,
        mayStore ? RejectReason.NoReasonGiven : RejectReason.CallingAeNotRecognized,
      );
      return;
    }
    association.setMaxPduLength(MAX_RECEIVE_PDU_BYTES);
    this.sendAssociationAccept();
    // The library sends PDUs of the association's value: from now on, no larger than the peer takes.
    association.setMaxPduLength(
      peerMaxPdu > 0 ? Math.min(peerMaxPdu, MAX_RECEIVE_PDU_BYTES) : MAX_RECEIVE_PDU_BYTES,
    );
    this.accepted = true;
    this.context.open += 1;
    this.guard.setLimit(MAX_RECEIVE_PDU_BYTES);
    this.transfer = new TransferSession(this.context.ingest.db);
    this.sender = {
      source: `dimse:${this.callingAeTitle}@${this.address}`,
      transfer: this.transfer,
      ...(known
        ? { binding: { kind: 'fixed', institutionId: known.institutionId } }
        : { quarantineAll: 'unknown-caller' }),
    };
    this.log.info(
      {
        accepted: acceptedContexts,
        proposed: association.getPresentationContexts().length,
        institution: known?.institutionCode ?? null,
      },
      known
        ? 'DICOM association accepted'
        : 'DICOM association accepted from an unknown caller: quarantining',
    );
  }

  private reject(result: number, source: number, reason: number): void {
    this.sendAssociationReject(result, source, reason);
    this.hangUp();
  }

  override associationReleaseRequested(): void {
    this.released = true;
    this.sendAssociationReleaseResponse();
  }

  override abort(source: number, reason: number): void {
    this.log.warn({ source, reason }, 'DICOM association aborted by the peer');
    this.hangUp();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(STORE_STATUS.success);
    callback(response);
  }

  /** What C-FIND, C-MOVE and C-GET of this association need; only configured (known) callers get here. */
  private queryRetrieve(): QueryRetrieveContext | undefined {
    if (this.caller.kind !== 'known') return undefined;
    return {
      db: this.context.ingest.db,
      blobs: this.context.ingest.blobs,
      logger: this.log,
      aeTitle: this.context.aeTitle,
      peers: this.context.peers,
      institutionId: this.caller.institutionId,
      callingAeTitle: this.callingAeTitle,
      address: this.address,
      association: this.association,
      sendResponse: (request, response) => this.sendResponse(request, response),
      sendRequests: (request) => this.sendRequests(request),
      keepAlive: () => {
        this.lastPduTime = Date.now();
      },
      cancelled: (messageId) => this.cancelledIds.has(messageId),
    };
  }

  override cFindRequest(request: CFindRequest, callback: (responses: CFindResponse[]) => void): void {
    const qr = this.queryRetrieve();
    if (!qr) return callback([refused(CFindResponse.fromRequest(request))]);
    runFind(qr, request, (response) => callback([response]));
  }

  override cMoveRequest(request: CMoveRequest, callback: (responses: CMoveResponse[]) => void): void {
    const qr = this.queryRetrieve();
    if (!qr) return callback([refused(CMoveResponse.fromRequest(request))]);
    runMove(qr, request, (response) => callback([response]));
  }

  override cGetRequest(request: CGetRequest, callback: (responses: CGetResponse[]) => void): void {
    const qr = this.queryRetrieve();
    if (!qr) return callback([refused(CGetResponse.fromRequest(request))]);
    runGet(qr, request, (response) => callback([response]));
  }

  override cCancelRequest(request: CCancelRequest): void {
    this.cancelledIds.add(request.getMessageIdBeingRespondedTo());
  }

  override createStoreWritableStream(acceptedContext: PresentationContext, request: CStoreRequest): Writable {
    try {
      const prefix = part10Prefix({
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: acceptedContext.getAcceptedTransferSyntaxUid() ?? '',
        sourceAeTitle: this.callingAeTitle,
      });
      const { receiving, budget } = receivingOf(this.context.ingest);
      return new DatasetCollector({ spool: new InstanceSpool(receiving, budget, prefix) }, this.connection);
    } catch (error) {
      return new DatasetCollector({ refusal: messageOf(error) }, this.connection);
    }
  }

  override createDatasetFromStoreWritableStream(
    writable: Writable,
    acceptedContext: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    callback(
      new ReceivedDataset(writable as DatasetCollector, acceptedContext.getAcceptedTransferSyntaxUid() ?? ''),
    );
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const storing = this.store(request).then((status) => {
      const response = CStoreResponse.fromRequest(request);
      response.setStatus(status.status);
      if (status.errorComment !== undefined) response.setErrorComment(status.errorComment);
      callback(response);
    });
    this.context.inFlight.add(storing);
    this.stores.add(storing);
    void storing
      .catch((error: unknown) => this.log.error({ err: error }, 'could not answer a C-STORE'))
      .finally(() => {
        this.context.inFlight.delete(storing);
        this.stores.delete(storing);
      });
  }

  /** Stores one received instance; never rejects. */
  private async store(request: CStoreRequest): Promise<StoreStatus> {
    const sopClassUid = request.getAffectedSopClassUid();
    const sopInstanceUid = request.getAffectedSopInstanceUid();
    const dataset = request.getDataset();
    const fail = (status: StoreStatus): StoreStatus => {
      this.counts.failed += 1;
      return status;
    };
    if (!(dataset instanceof ReceivedDataset)) {
      return fail({ status: STORE_STATUS.cannotUnderstand, errorComment: 'no data set' });
    }
    const collector = dataset.received;
    if (!CT_STORAGE_SOP_CLASSES.has(sopClassUid)) {
      await collector.abandon();
      return fail({ status: STORE_STATUS.sopClassNotSupported, errorComment: 'only CT storage SOP classes' });
    }
    if (collector.refusal !== undefined) {
      return fail({ status: STORE_STATUS.cannotUnderstand, errorComment: errorComment(collector.refusal) });
    }
    const { receiving } = receivingOf(this.context.ingest);
    if (collector.tooLarge) {
      await collector.abandon();
      this.log.warn({ sopInstanceUid, bytes: collector.byteLength }, 'C-STORE data set over the size limit');
      return fail({
        status: STORE_STATUS.outOfResources,
        errorComment: errorComment(`data set over ${receiving.maxInstanceBytes} bytes`),
      });
    }
    const receivedAt = performance.now();
    let instance: ReceivedInstance | undefined;
    let release = () => {};
    try {
      instance = await collector.received();
      if (!instance) return fail({ status: STORE_STATUS.cannotUnderstand, errorComment: 'no data set' });
      const loaded = await instance.load();
      release = loaded.release;
      const bytes = loaded.bytes;
      const header = readInstanceHeader(bytes);
      if (header.sopInstanceUid !== sopInstanceUid || header.sopClassUid !== sopClassUid) {
        // PS3.4 §B.2.3: the data set must be the instance the command names.
        this.log.warn(
          { affectedSopInstanceUid: sopInstanceUid, sopInstanceUid: header.sopInstanceUid },
          'refused a C-STORE whose data set is another SOP instance than the command names',
        );
        return fail({
          status: STORE_STATUS.dataSetDoesNotMatchSopClass,
          errorComment: 'data set SOP Class/Instance UID differs from the command',
        });
      }
      const result = await storeInstance(this.context.ingest, bytes, this.sender!, header);
      if (result.outcome === 'conflict') {
        this.counts.failed += 1;
        this.log.warn(
          { sopInstanceUid: result.sopInstanceUid, keptAside: result.keptAside },
          'C-STORE of a known SOPInstanceUID with other content; not stored',
        );
      } else {
        this.counts[result.outcome] += 1;
        this.log.debug(
          {
            sopInstanceUid: result.sopInstanceUid,
            outcome: result.outcome,
            bytes: bytes.byteLength,
            receiveMs: Math.round(receivedAt - collector.startedAt),
            storeMs: Math.round(performance.now() - receivedAt),
          },
          'C-STORE stored',
        );
      }
      return statusOfResult(result);
    } catch (error) {
      this.counts.failed += 1;
      const status = statusOfError(error);
      if (status.fault) this.log.error({ err: error, sopInstanceUid }, 'could not store a received instance');
      else this.log.warn({ sopInstanceUid, reason: status.errorComment }, 'refused a received instance');
      return status;
    } finally {
      release();
      await instance?.dispose();
    }
  }

  /** Closes the connection once what was written is flushed; destroys it if the peer does not close. */
  private hangUp(): void {
    this.connection.end();
    setTimeout(() => this.connection.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** A-ABORT PDU (PS3.8 §9.3.8): source 2 (service provider), reason 6 (invalid PDU parameter value). */
const A_ABORT_INVALID_PDU_PARAMETER = Buffer.from([0x07, 0x00, 0, 0, 0, 4, 0, 0, 2, 6]);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Q/R response refusing the operation (the caller is not a configured AE). */
function refused<T extends { setStatus(status: number): void; setErrorComment(comment: string): void }>(
  response: T,
): T {
  response.setStatus(0xa900);
  response.setErrorComment('calling AE not configured for query/retrieve');
  return response;
}

/**
 * Accepts Verification; CT storage with a supported transfer syntax when the caller may store (also the
 * storage contexts a C-GET SCU proposes for itself as SCP); Study Root FIND, MOVE and GET for configured
 * callers; rejects everything else.
 */
function negotiate(context: PresentationContext, mayStore: boolean, mayQuery: boolean): void {
  const abstractSyntax = context.getAbstractSyntaxUid();
  const proposed = context.getTransferSyntaxUids();
  let transferSyntax: string | undefined;
  if (QUERY_RETRIEVE_SOP_CLASSES.has(abstractSyntax)) {
    if (!mayQuery) {
      context.setResult(PresentationContextResult.RejectUser);
      return;
    }
    transferSyntax = chooseUncompressedTransferSyntax(proposed);
  } else if (abstractSyntax === VERIFICATION_SOP_CLASS) {
    transferSyntax = chooseUncompressedTransferSyntax(proposed);
  } else if (CT_STORAGE_SOP_CLASSES.has(abstractSyntax) && !mayStore) {
    context.setResult(PresentationContextResult.RejectUser);
    return;
  } else if (CT_STORAGE_SOP_CLASSES.has(abstractSyntax)) {
    transferSyntax = chooseStorageTransferSyntax(proposed);
  } else {
    context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    return;
  }
  if (transferSyntax === undefined) {
    context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
  } else {
    context.setResult(PresentationContextResult.Accept, transferSyntax);
  }
}
