import dcmjs from 'dcmjs';
import dcmjsDimse from 'dcmjs-dimse';
import type { responses } from 'dcmjs-dimse';
import { DomainError } from '../../shared/errors.js';

const { Client, Dataset } = dcmjsDimse;
type CStoreResponse = responses.CStoreResponse;
const { CStoreRequest } = dcmjsDimse.requests;

/** A DICOM node to send to (a PACS, a viewer): where it listens and its AE title. */
export interface DicomPeer {
  host: string;
  port: number;
  calledAeTitle: string;
  /** Our AE title on the association; 'NODUS' unless set. */
  callingAeTitle?: string | undefined;
}

/**
 * What became of one object:
 * - stored: status Success (0x0000);
 * - warning: status 0x0001 or 0xBxxx (stored, the peer changed or doubts something);
 * - failed: any other status (refused, error);
 * - not-sent: no response: the peer accepted no presentation context for its SOP class, or the association
 *   ended first.
 */
export interface PeerStoreResult {
  sopClassUid: string;
  sopInstanceUid: string;
  outcome: 'stored' | 'warning' | 'failed' | 'not-sent';
  /** The C-STORE response status; null when there was no response. */
  status: number | null;
  errorComment?: string;
}

export interface StoreToPeerOptions {
  /** Time to connect, and to wait for each association step and PDU, ms. */
  timeoutMs?: number;
}

/** A data set that is sent as the bytes it was read from unless it must be transcoded. */
export class Part10Dataset extends Dataset {
  constructor(
    private readonly raw: Buffer,
    private readonly rawTransferSyntaxUid: string,
  ) {
    super(raw, rawTransferSyntaxUid);
  }

  override getDenaturalizedDataset(
    writeOptions?: Record<string, unknown>,
    nameMap?: Record<string, unknown>,
  ): Buffer {
    // The library passes its (by default empty) name map on every write: only a real one needs re-encoding.
    const renames = nameMap !== undefined && Object.keys(nameMap).length > 0;
    if (this.getTransferSyntaxUid() === this.rawTransferSyntaxUid && !renames) return this.raw;
    return super.getDenaturalizedDataset(writeOptions, nameMap);
  }
}

/**
 * Sends Part 10 files to a peer by C-STORE (PS3.4 Annex B) on one association, as a Storage SCU: each data set
 * is sent as stored (transcoded by dcmjs-dimse only when the peer accepts another uncompressed transfer
 * syntax). Resolves with one result per file, in order, once the association is released. Rejects with
 * DEPENDENCY_UNAVAILABLE when the peer cannot be reached, rejects the association, or does not answer.
 */
export async function storeToPeer(
  peer: DicomPeer,
  files: readonly Uint8Array[],
  options: StoreToPeerOptions = {},
): Promise<PeerStoreResult[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const where = `${peer.calledAeTitle}@${peer.host}:${peer.port}`;
  const results: PeerStoreResult[] = [];
  const client = new Client();
  for (const file of files) {
    const { dataset, transferSyntaxUid } = splitPart10(file);
    const request = new CStoreRequest(new Part10Dataset(dataset, transferSyntaxUid));
    const result: PeerStoreResult = {
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      outcome: 'not-sent',
      status: null,
    };
    request.on('response', (response: CStoreResponse) => {
      const status = response.getStatus();
      const errorComment = response.getErrorComment();
      result.status = status;
      result.outcome =
        status === 0 ? 'stored' : status === 1 || (status & 0xf000) === 0xb000 ? 'warning' : 'failed';
      if (errorComment) result.errorComment = errorComment;
    });
    client.addRequest(request);
    results.push(result);
  }

  dcmjsDimse.log.setLevel('silent');
  await new Promise<void>((resolve, reject) => {
    let failure: DomainError | undefined;
    const fail = (reason: string, cause?: unknown) => {
      failure ??= new DomainError('DEPENDENCY_UNAVAILABLE', `DICOM peer ${where}: ${reason}`, {
        retryable: true,
        context: { peer: where },
        cause,
      });
    };
    client.on('networkError', (error: Error) => fail(error.message || 'network error', error));
    client.on('associationRejected', (rejection: { result?: number; source?: number; reason?: number }) =>
      fail(
        `association rejected (result ${rejection.result}, source ${rejection.source}, reason ${rejection.reason})`,
      ),
    );
    client.on('closed', () => (failure ? reject(failure) : resolve()));
    client.send(peer.host, peer.port, peer.callingAeTitle ?? 'NODUS', peer.calledAeTitle, {
      connectTimeout: timeoutMs,
      associationTimeout: timeoutMs,
      pduTimeout: timeoutMs,
      associationLingerTimeout: 0,
    });
  });
  return results;
}

/** The data set bytes of a Part 10 file (after its File Meta Information) and their transfer syntax. */
export function splitPart10(file: Uint8Array): { dataset: Buffer; transferSyntaxUid: string } {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.toString('latin1', 128, 132) !== 'DICM') {
    throw new DomainError('INVALID_DICOM', 'not a DICOM Part 10 file');
  }
  const parsed = dcmjs.data.DicomMessage.readFile(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    { untilTag: '00020010', includeUntilTagValue: true },
  );
  const value = (parsed.meta['00020010'] as { Value?: unknown[] } | undefined)?.Value?.[0];
  const transferSyntaxUid = typeof value === 'string' ? value.replace(/\0/g, '').trim() : '';
  // (0002,0000) File Meta Information Group Length, explicit VR little endian: tag, "UL", length 4, value.
  if (bytes.readUInt16LE(132) !== 0x0002 || bytes.readUInt16LE(134) !== 0x0000) {
    throw new DomainError('INVALID_DICOM', 'the file meta information has no group length');
  }
  const datasetOffset = 132 + 12 + bytes.readUInt32LE(140);
  return { dataset: bytes.subarray(datasetOffset), transferSyntaxUid };
}
