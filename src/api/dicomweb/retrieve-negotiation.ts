import { DomainError } from '../../shared/errors.js';
import { compressedFrameMediaType, EXPLICIT_VR_LITTLE_ENDIAN } from '../../dicom/instance-frames.js';
import { parseAccept, rangeCovers, type AcceptedRange } from './accept.js';

/** `*`: every instance as stored; a UID: that transfer syntax (stored, or transcoded to Explicit VR LE). */
export type RequestedSyntax = string;

function requestedSyntax(range: AcceptedRange): RequestedSyntax {
  return range.parameters['transfer-syntax']?.trim() || EXPLICIT_VR_LITTLE_ENDIAN;
}

/** The root type of a multipart range: `type` (quoted or not), or undefined when absent. */
function partType(range: AcceptedRange): string | undefined {
  return range.parameters.type?.trim().toLowerCase();
}

function notAcceptable(accept: string | undefined, what: string): DomainError {
  return new DomainError(
    'NOT_ACCEPTABLE',
    `Accept ${JSON.stringify(accept ?? '')} allows no ${what} nodus can send`,
  );
}

/**
 * WADO-RS instance retrieval (PS3.18 §8.7.3.5.1): `multipart/related; type="application/dicom"` with a
 * transfer syntax: as stored (`*`), Explicit VR Little Endian (the default), or a stored syntax by UID.
 * `storedSyntaxes`: the syntaxes of the instances, to see whether a named one can be met.
 */
export function negotiateInstances(
  accept: string | undefined,
  storedSyntaxes: ReadonlySet<string>,
): RequestedSyntax {
  for (const range of parseAccept(accept)) {
    const multipart = range.essence === 'multipart/related' || range.essence === 'multipart/*';
    if (
      !(multipart && (partType(range) ?? 'application/dicom') === 'application/dicom') &&
      range.essence !== '*/*'
    ) {
      continue;
    }
    const syntax = range.essence === '*/*' ? EXPLICIT_VR_LITTLE_ENDIAN : requestedSyntax(range);
    if (syntax === '*' || syntax === EXPLICIT_VR_LITTLE_ENDIAN) return syntax;
    if ([...storedSyntaxes].every((stored) => stored === syntax)) return syntax;
  }
  throw notAcceptable(accept, 'multipart/related; type="application/dicom" with a transfer syntax');
}

/** How frames (or pixel bulk data) go out. */
export type FrameRepresentation =
  /** Uncompressed little-endian values, part type application/octet-stream. */
  | { kind: 'uncompressed'; multipart: boolean }
  /** The stored bitstream; `mediaType` of each part (image/jls, ... or application/octet-stream). */
  | { kind: 'stored'; mediaType: string; multipart: boolean };

/**
 * WADO-RS frames and bulk data (PS3.18 §8.7.3.5.2-3): uncompressed octet-stream (default, or
 * `transfer-syntax=1.2.840.10008.1.2.1`), as stored with `transfer-syntax=*`, or the stored compressed
 * media type (`image/jls`, `image/jp2`, `image/jpeg`, `image/dicom-rle`). nodus does not compress.
 */
export function negotiateFrames(
  accept: string | undefined,
  storedSyntax: string,
  storedIsNative: boolean,
): FrameRepresentation {
  const storedMedia = compressedFrameMediaType(storedSyntax);
  for (const range of parseAccept(accept)) {
    if (range.essence === '*/*') return { kind: 'uncompressed', multipart: true };
    const multipart = range.essence === 'multipart/related';
    const type = multipart ? (partType(range) ?? 'application/octet-stream') : range.essence;
    const syntax = range.parameters['transfer-syntax']?.trim();
    if (type === 'application/octet-stream' || type === 'application/*') {
      if (syntax === '*') {
        return storedIsNative
          ? { kind: 'uncompressed', multipart }
          : { kind: 'stored', mediaType: 'application/octet-stream', multipart };
      }
      if (syntax === undefined || syntax === EXPLICIT_VR_LITTLE_ENDIAN)
        return { kind: 'uncompressed', multipart };
      if (syntax === storedSyntax && !storedIsNative) {
        return { kind: 'stored', mediaType: 'application/octet-stream', multipart };
      }
      continue;
    }
    if (storedMedia !== undefined && rangeCovers({ essence: type, parameters: {} }, storedMedia)) {
      if (syntax === undefined || syntax === '*' || syntax === storedSyntax) {
        return { kind: 'stored', mediaType: storedMedia, multipart };
      }
    }
  }
  throw notAcceptable(
    accept,
    `representation of these frames (stored as ${storedSyntax}${storedMedia ? `, ${storedMedia}` : ''})`,
  );
}

/** Rendered and thumbnail media types: the caller's first of PNG and JPEG; PNG (lossless) for wildcards. */
export function negotiateRendered(accept: string | undefined): 'image/png' | 'image/jpeg' {
  for (const range of parseAccept(accept)) {
    if (range.essence === 'image/jpeg') return 'image/jpeg';
    if (rangeCovers(range, 'image/png')) return 'image/png';
  }
  throw notAcceptable(accept, 'rendered image (image/png, image/jpeg)');
}
