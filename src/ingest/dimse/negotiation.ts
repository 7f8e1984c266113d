/** SOP classes and transfer syntaxes the DICOM receiver accepts, and how it picks one per presentation context. */

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

/** Storage SOP classes nodus receives: CT only (lung screening). */
export const CT_STORAGE_SOP_CLASSES: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT Image Storage
  '1.2.840.10008.5.1.4.1.1.2.2', // Legacy Converted Enhanced CT Image Storage
]);

/** Native (uncompressed) transfer syntaxes, in the order nodus prefers them. */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.1.99', // Deflated Explicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian (retired, still sent by old modalities)
];

/** Encapsulated transfer syntaxes nodus stores as received. */
export const COMPRESSED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, Non-Hierarchical (Process 14)
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Lossy (Near-Lossless)
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless Only
  '1.2.840.10008.1.2.4.91', // JPEG 2000
]);

/**
 * Picks the transfer syntax to accept for a storage presentation context, or undefined when none is
 * supported. When the proposer's first supported syntax is a compressed one (its data is stored that way),
 * it is accepted as is, so the sender never has to decompress and nodus stores the pixel data untouched;
 * otherwise the best uncompressed syntax proposed wins, and the sender is never asked to compress.
 */
export function chooseStorageTransferSyntax(proposed: readonly string[]): string | undefined {
  const first = proposed.find((uid) => COMPRESSED_TRANSFER_SYNTAXES.has(uid) || isUncompressed(uid));
  if (first === undefined || COMPRESSED_TRANSFER_SYNTAXES.has(first)) return first;
  return chooseUncompressedTransferSyntax(proposed);
}

/** The preferred uncompressed transfer syntax among those proposed (Verification needs no more). */
export function chooseUncompressedTransferSyntax(proposed: readonly string[]): string | undefined {
  return UNCOMPRESSED_TRANSFER_SYNTAXES.find((uid) => proposed.includes(uid));
}

function isUncompressed(uid: string): boolean {
  return UNCOMPRESSED_TRANSFER_SYNTAXES.includes(uid);
}
