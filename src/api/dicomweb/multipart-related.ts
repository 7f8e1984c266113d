import { DomainError } from '../../shared/errors.js';

/** A parsed media type (RFC 9110 §8.3.1), e.g. of a Content-Type header. */
export interface MediaType {
  /** `type/subtype` in lower case. */
  essence: string;
  /** Parameters by lower-case name, values unquoted (case kept); the first of repeated names wins. */
  parameters: Record<string, string>;
}

/** One body part of a multipart entity: its headers and its content bytes (a view into the request body). */
export interface BodyPart {
  /** Header values by lower-case name, folded lines joined; a repeated name keeps the last value. */
  headers: Record<string, string>;
  body: Buffer;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 2046 §5.1.1: 1 to 70 bchars, the last one not a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** Headers of one part larger than this are not headers but a part that lacks its blank line. */
const MAX_HEADER_BYTES = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const CRLF = Buffer.from('\r\n', 'latin1');
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Parses a media type with parameters (`multipart/related; type="application/dicom"; boundary=x`).
 * Parameter values may be tokens or quoted strings with backslash escapes. Returns undefined when the
 * value is not a media type.
 */
export function parseMediaType(value: string): MediaType | undefined {
  const semicolon = value.indexOf(';');
  const essence = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash < 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) {
    return undefined;
  }
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = semicolon < 0 ? value.length : semicolon;
  while (i < value.length) {
    while (i < value.length && (value[i] === ';' || value[i] === ' ' || value[i] === '\t')) i += 1;
    if (i >= value.length) break;
    const equals = value.indexOf('=', i);
    if (equals < 0) return undefined;
    const name = value.slice(i, equals).trim().toLowerCase();
    if (!TOKEN.test(name)) return undefined;
    i = equals + 1;
    let parameterValue: string;
    if (value[i] === '"') {
      parameterValue = '';
      i += 1;
      for (;;) {
        if (i >= value.length) return undefined; // unterminated quoted string
        const ch = value[i]!;
        if (ch === '"') break;
        if (ch === '\\' && i + 1 < value.length) {
          parameterValue += value[i + 1];
          i += 2;
        } else {
          parameterValue += ch;
          i += 1;
        }
      }
      i += 1;
      while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i += 1;
      if (i < value.length && value[i] !== ';') return undefined;
    } else {
      const end = value.indexOf(';', i);
      parameterValue = value.slice(i, end < 0 ? value.length : end).trim();
      i = end < 0 ? value.length : end;
    }
    if (!(name in parameters)) parameters[name] = parameterValue;
  }
  return { essence, parameters };
}

/**
 * Splits a multipart body (RFC 2046 §5.1.1, as used by multipart/related, RFC 2387) into its parts.
 * Works on bytes: delimiters are found with `Buffer.indexOf`, only part headers are decoded (latin1), and
 * each part's body is a view into `body`, never a copy or a string. A line that starts with the boundary
 * but goes on with other characters is content, not a delimiter. The preamble and epilogue are ignored.
 * Throws a DomainError VALIDATION_FAILED for an invalid boundary, a body without parts, a missing close
 * delimiter or malformed part headers.
 */
export function parseMultipartRelated(body: Buffer, boundary: string): BodyPart[] {
  if (!BOUNDARY.test(boundary)) {
    throw malformed('the boundary must be 1 to 70 characters of the RFC 2046 boundary alphabet');
  }
  const dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.concat([CRLF, dashBoundary]);

  // The first delimiter may open the body (no preamble), otherwise it follows the preamble's CRLF.
  const openingEnd = body.subarray(0, dashBoundary.length).equals(dashBoundary)
    ? delimiterEnd(body, dashBoundary.length)
    : undefined;
  const opening = openingEnd && { ...openingEnd, start: 0 };
  let current = opening ?? nextDelimiter(body, delimiter, 0);
  if (!current) throw malformed(`no delimiter --${boundary} in the body`);
  if (current.close) throw malformed('the multipart body has no parts');

  const parts: BodyPart[] = [];
  while (!current.close) {
    const next = nextDelimiter(body, delimiter, current.next);
    if (!next) throw malformed(`the multipart body ends without the close delimiter --${boundary}--`);
    parts.push(parsePart(body.subarray(current.next, next.start), parts.length));
    current = next;
  }
  return parts;
}

interface Delimiter {
  /** Offset of the delimiter's leading CRLF (the end of the preceding part's content). */
  start: number;
  /** Offset just after the delimiter line. */
  next: number;
  /** Whether this is the close delimiter (`--boundary--`). */
  close: boolean;
}

function nextDelimiter(body: Buffer, delimiter: Buffer, from: number): Delimiter | undefined {
  for (let search = from; ;) {
    const at = body.indexOf(delimiter, search);
    if (at < 0) return undefined;
    const end = delimiterEnd(body, at + delimiter.length);
    if (end) return { ...end, start: at };
    search = at + 1;
  }
}

/** What follows `--boundary` on a delimiter line: `--` (close), or transport padding and CRLF. */
function delimiterEnd(body: Buffer, after: number): Omit<Delimiter, 'start'> | undefined {
  if (body[after] === DASH && body[after + 1] === DASH) return { next: after + 2, close: true };
  let i = after;
  while (body[i] === SPACE || body[i] === TAB) i += 1;
  if (body[i] === CR && body[i + 1] === LF) return { next: i + 2, close: false };
  return undefined;
}

function parsePart(part: Buffer, index: number): BodyPart {
  let headerEnd: number;
  let bodyStart: number;
  if (part.subarray(0, 2).equals(CRLF)) {
    headerEnd = 0;
    bodyStart = 2;
  } else {
    const blank = part.indexOf(CRLF_CRLF);
    // No blank line: a part of headers only (RFC 2046 makes the body optional).
    headerEnd = blank < 0 ? part.length : blank;
    bodyStart = blank < 0 ? part.length : blank + CRLF_CRLF.length;
  }
  if (headerEnd > MAX_HEADER_BYTES) {
    throw malformed(`part ${index + 1}: no blank line after its headers within ${MAX_HEADER_BYTES} bytes`);
  }
  return {
    headers: parseHeaders(part.toString('latin1', 0, headerEnd), index),
    body: part.subarray(bodyStart),
  };
}

function parseHeaders(text: string, index: number): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  let last: string | undefined;
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] = `${headers[last]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name))
      throw malformed(`part ${index + 1}: malformed header line ${JSON.stringify(line)}`);
    headers[name] = line.slice(colon + 1).trim();
    last = name;
  }
  return headers;
}

function malformed(message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `malformed multipart body: ${message}`);
}
