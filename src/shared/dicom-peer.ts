/** A DICOM node nodus may send to: its AE title, host and port. */
export interface DicomPeer {
  aeTitle: string;
  host: string;
  port: number;
}

/**
 * Parses NODUS_DICOM_PEERS: comma-separated `AETITLE@host:port` entries. Returns undefined for an entry that
 * does not parse, so configuration can name it.
 */
export function parseDicomPeer(entry: string): DicomPeer | undefined {
  const match = /^([^@\\]{1,16})@([^:@\s]+):(\d{1,5})$/.exec(entry.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  return { aeTitle: match[1]!.trim(), host: match[2]!, port };
}

/** Whether a send target is one of the configured peers (AE title, host and port all equal). */
export function isConfiguredPeer(peers: readonly DicomPeer[], target: DicomPeer): boolean {
  return peers.some((p) => p.aeTitle === target.aeTitle && p.host === target.host && p.port === target.port);
}
