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
import { NODUS_IMPLEMENTATION_CLASS_UID, NODUS_IMPLEMENTATION_VERSION, part10File } from './dimse/part10.js';
import { STORE_STATUS, statusOfError, statusOfResult, type StoreStatus } from './dimse/store-status.js';
import { storeInstance, type IngestDeps } from './store-instance.js';

const { Dataset, Implementation, Scp } = dcmjsDimse;
const { PresentationContextResult, RejectReason, RejectResult, RejectSource } = dcmjsDimse.constants;
const { CEchoResponse, CStoreResponse } = dcmjsDimse.responses;

type Association = dimseAssociation.Association;
type PresentationContext = dimseAssociation.PresentationContext;
type CEchoRequest = requests.CEchoRequest;
type CStoreRequest = requests.CStoreRequest;
type CEchoResponse = responses.CEchoResponse;
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
}

export interface RunningDicomScp {
  /** The TCP port the receiver listens on. */
  port: number;
  /** Stops accepting associations, lets stores in progress finish and answer, then closes connections. */
  close: () => Promise<void>;
}

/** Largest data set accepted in one C-STORE; a larger one is drained and answered Out of Resources. */
const MAX_INSTANCE_BYTES = 1024 ** 3;
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

/** What the associations of one receiver share. */
interface ReceiverContext {
  aeTitle: string;
  ingest: IngestDeps;
  logger: Logger;
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

/** Accumulates a C-STORE data set as the PDV chunks arrive: no parsing, no copy. */
class DatasetCollector extends Writable {
  readonly chunks: Buffer[] = [];
  readonly startedAt = performance.now();
  byteLength = 0;
  tooLarge = false;

  constructor() {
    // Never report back-pressure: the library awaits 'drain' in a way that could reorder PDUs.
    super({ highWaterMark: MAX_INSTANCE_BYTES, decodeStrings: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.byteLength += chunk.length;
    if (this.byteLength > MAX_INSTANCE_BYTES) {
      this.tooLarge = true;
      this.chunks.length = 0;
    } else if (!this.tooLarge) {
      this.chunks.push(chunk);
    }
    callback();
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

/** One association (one TCP connection) of the receiver. */
class StorageScp extends Scp {
  /** Set by the library's Network; true starts its association and PDU timers. */
  declare connected: boolean;
  private log: Logger;
  private callingAeTitle = '';
  private accepted = false;
  private readonly counts = { stored: 0, duplicate: 0, failed: 0 };
  private readonly openedAt = Date.now();

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
    this.log = context.logger.child({ remote: `${connection.remoteAddress}:${connection.remotePort}` });
    this.on('networkError', (error: Error) => {
      this.log.warn({ err: error }, 'DICOM connection error; closing it');
      this.hangUp();
    });
    this.on('close', () => {
      if (!this.accepted) return;
      this.log.info({ ...this.counts, durationMs: Date.now() - this.openedAt }, 'DICOM association ended');
    });
  }

  override associationRequested(association: Association): void {
    this.callingAeTitle = association.getCallingAeTitle().trim();
    this.log = this.log.child({ callingAe: this.callingAeTitle });
    const calledAeTitle = association.getCalledAeTitle().trim();
    if (calledAeTitle !== this.context.aeTitle) {
      this.log.warn(
        { calledAe: calledAeTitle },
        'rejecting a DICOM association addressed to another AE title',
      );
      this.sendAssociationReject(
        RejectResult.Permanent,
        RejectSource.ServiceUser,
        RejectReason.CalledAeNotRecognized,
      );
      this.hangUp();
      return;
    }
    for (const { context } of association.getPresentationContexts()) negotiate(context);
    association.setMaxPduLength(MAX_RECEIVE_PDU_BYTES);
    this.sendAssociationAccept();
    this.accepted = true;
    this.log.info(
      {
        accepted: association
          .getPresentationContexts()
          .filter(({ context }) => context.getResult() === PresentationContextResult.Accept).length,
        proposed: association.getPresentationContexts().length,
      },
      'DICOM association accepted',
    );
  }

  override associationReleaseRequested(): void {
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

  override createStoreWritableStream(): Writable {
    return new DatasetCollector();
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
    void storing
      .catch((error: unknown) => this.log.error({ err: error }, 'could not answer a C-STORE'))
      .finally(() => this.context.inFlight.delete(storing));
  }

  /** Stores one received instance; never rejects. */
  private async store(request: CStoreRequest): Promise<StoreStatus> {
    const sopClassUid = request.getAffectedSopClassUid();
    const sopInstanceUid = request.getAffectedSopInstanceUid();
    const dataset = request.getDataset();
    if (!CT_STORAGE_SOP_CLASSES.has(sopClassUid)) {
      this.counts.failed += 1;
      return { status: STORE_STATUS.sopClassNotSupported, errorComment: 'only CT storage SOP classes' };
    }
    if (!(dataset instanceof ReceivedDataset) || dataset.received.tooLarge) {
      this.counts.failed += 1;
      this.log.warn({ sopInstanceUid }, 'C-STORE without a data set or with one too large');
      return { status: STORE_STATUS.outOfResources, errorComment: 'no data set, or one over 1 GiB' };
    }
    const receivedAt = performance.now();
    try {
      const bytes = part10File(
        {
          sopClassUid,
          sopInstanceUid,
          transferSyntaxUid: dataset.getTransferSyntaxUid(),
          sourceAeTitle: this.callingAeTitle,
        },
        dataset.received.chunks,
      );
      const result = await storeInstance(this.context.ingest, bytes, `dimse:${this.callingAeTitle}`);
      if (result.outcome === 'conflict') {
        this.counts.failed += 1;
        this.log.warn(
          { sopInstanceUid: result.sopInstanceUid, conflictBlobKey: result.conflictBlobKey },
          'C-STORE of a known SOPInstanceUID with other content; kept aside',
        );
      } else {
        this.counts[result.outcome] += 1;
        this.log.debug(
          {
            sopInstanceUid: result.sopInstanceUid,
            outcome: result.outcome,
            bytes: bytes.byteLength,
            receiveMs: Math.round(receivedAt - dataset.received.startedAt),
            storeMs: Math.round(performance.now() - receivedAt),
          },
          'C-STORE stored',
        );
        if (result.sopInstanceUid !== sopInstanceUid) {
          this.log.warn(
            { affectedSopInstanceUid: sopInstanceUid, sopInstanceUid: result.sopInstanceUid },
            'C-STORE data set SOPInstanceUID differs from the command',
          );
        }
      }
      return statusOfResult(result);
    } catch (error) {
      this.counts.failed += 1;
      const status = statusOfError(error);
      if (status.fault) this.log.error({ err: error, sopInstanceUid }, 'could not store a received instance');
      else this.log.warn({ sopInstanceUid, reason: status.errorComment }, 'refused a received instance');
      return status;
    }
  }

  /** Closes the connection once what was written is flushed; destroys it if the peer does not close. */
  private hangUp(): void {
    this.connection.end();
    setTimeout(() => this.connection.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** Accepts Verification and CT storage with a supported transfer syntax; rejects everything else. */
function negotiate(context: PresentationContext): void {
  const abstractSyntax = context.getAbstractSyntaxUid();
  const proposed = context.getTransferSyntaxUids();
  let transferSyntax: string | undefined;
  if (abstractSyntax === VERIFICATION_SOP_CLASS) {
    transferSyntax = chooseUncompressedTransferSyntax(proposed);
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
