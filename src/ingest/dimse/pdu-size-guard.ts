/**
 * Follows the PDU framing of a DICOM upper-layer byte stream (PS3.8 §9.3: type, reserved, 32-bit big-endian
 * length) and reports a PDU whose declared length is over the limit as soon as its 6-byte header arrives,
 * before a byte of its body is buffered. The limit is the negotiated maximum for P-DATA-TF PDUs once the
 * association is accepted, and `controlLimit` for every other PDU.
 */
export class PduSizeGuard {
  private header = Buffer.alloc(0);
  /** Bytes of the current PDU's body still to come. */
  private remaining = 0;
  private dataLimit: number | undefined;
  private tripped = false;

  constructor(
    private readonly controlLimit: number,
    private readonly onOversized: (pduType: number, length: number, limit: number) => void,
  ) {}

  /** The negotiated maximum P-DATA-TF length (the PDU length field, PS3.8 §D.1). */
  setLimit(bytes: number): void {
    this.dataLimit = bytes;
  }

  /** Inspects the next chunk of the stream, in order; false once a PDU was over the limit. */
  check(chunk: Buffer): boolean {
    let offset = 0;
    while (!this.tripped && offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      const need = 6 - this.header.length;
      const take = Math.min(need, chunk.length - offset);
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
      offset += take;
      if (this.header.length < 6) break;
      const type = this.header[0]!;
      const length = this.header.readUInt32BE(2);
      this.header = Buffer.alloc(0);
      const limit = type === 0x04 && this.dataLimit !== undefined ? this.dataLimit : this.controlLimit;
      if (length > limit) {
        this.tripped = true;
        this.onOversized(type, length, limit);
        return false;
      }
      this.remaining = length;
    }
    return !this.tripped;
  }
}
