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
/**
 * RFC 2046 §5.1.1 allows 1 to 70 bchars, the last one not a space. Senders exceed the length (Orthanc's
 * DICOMweb plugin sends 73 characters, `<uuid>-<uuid>`), so nodus is liberal: up to 256.
 */
const MAX_BOUNDARY_LENGTH = 256;
const BOUNDARY = new RegExp(
  `^[0-9A-Za-z'()+_,\\-./:=? ]{0,${MAX_BOUNDARY_LENGTH - 1}}[0-9A-Za-z'()+_,\\-./:=?]$`,
);
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

/** What the streaming parser reports, in body order. */
export type MultipartEvent =
  | { type: 'part-start'; headers: Record<string, string> }
  /** Content bytes of the current part: a view into a pushed chunk, never a copy. */
  | { type: 'part-data'; data: Buffer }
  | { type: 'part-end' }
  /** The close delimiter was read; anything after it is epilogue. */
  | { type: 'end' };

type ParserState = 'preamble' | 'headers' | 'body' | 'epilogue';

/** Transport padding longer than this after a boundary is not padding: the line is content. */
const MAX_TRANSPORT_PADDING = 1024;

/**
 * A multipart body parser (RFC 2046 §5.1.1, as used by multipart/related, RFC 2387) that is fed the body
 * chunk by chunk and holds at most one part's headers and a delimiter's length of content: the rest is
 * handed on as it arrives. Works on bytes: delimiters are found with `Buffer.indexOf`, only part headers
 * are decoded (latin1). A line that starts with the boundary but goes on with other characters is
 * content, not a delimiter. The preamble and epilogue are ignored. `push` and `end` throw a DomainError
 * VALIDATION_FAILED for an invalid boundary, a body without parts, a missing close delimiter or malformed
 * part headers.
 */
export class MultipartParser {
  private readonly dashBoundary: Buffer;
  private readonly delimiter: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  private state: ParserState = 'preamble';
  /** Offset in `pending` from which the next delimiter search starts (earlier bytes were searched). */
  private searchFrom = 0;
  /** Whether `pending` starts at the first byte of the body (the opening delimiter may need no CRLF). */
  private atBodyStart = true;
  private parts = 0;

  constructor(private readonly boundary: string) {
    if (!BOUNDARY.test(boundary)) {
      throw malformed(
        `the boundary must be 1 to ${MAX_BOUNDARY_LENGTH} characters of the RFC 2046 boundary alphabet, not ending in a space`,
      );
    }
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
    this.delimiter = Buffer.concat([CRLF, this.dashBoundary]);
  }

  /** Parses the next chunk of the body; returns what it completed. */
  push(chunk: Uint8Array): MultipartEvent[] {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const events: MultipartEvent[] = [];
    while (this.step(events)) {
      // each step consumes input or changes state
    }
    return events;
  }

  /** Ends the body; throws unless the close delimiter was read. */
  end(): void {
    switch (this.state) {
      case 'epilogue':
        return;
      case 'preamble':
        throw malformed(`no delimiter --${this.boundary} in the body`);
      case 'headers':
      case 'body':
        throw malformed(`the multipart body ends without the close delimiter --${this.boundary}--`);
    }
  }

  /** One parsing step; false when it needs more input. */
  private step(events: MultipartEvent[]): boolean {
    switch (this.state) {
      case 'preamble':
        return this.stepPreamble();
      case 'headers':
        return this.stepHeaders(events);
      case 'body':
        return this.stepBody(events);
      case 'epilogue':
        this.pending = Buffer.alloc(0);
        return false;
    }
  }

  private stepPreamble(): boolean {
    if (this.atBodyStart) {
      // The first delimiter may open the body (no preamble), otherwise it follows the preamble's CRLF.
      const prefix = Math.min(this.pending.length, this.dashBoundary.length);
      if (this.pending.subarray(0, prefix).equals(this.dashBoundary.subarray(0, prefix))) {
        if (prefix < this.dashBoundary.length) return false;
        const end = delimiterEnd(this.pending, this.dashBoundary.length);
        if (end === 'need-more') return false;
        if (end !== 'not-a-delimiter') return this.opened(end);
      }
      this.atBodyStart = false;
    }
    const found = this.findDelimiter();
    if (found === undefined) {
      // Preamble: keep only what could be the start of a delimiter.
      this.discardUpTo(Math.max(0, this.pending.length - this.delimiter.length + 1));
      return false;
    }
    if (found.end === 'need-more') {
      this.discardUpTo(found.at);
      return false;
    }
    return this.opened(found.end);
  }

  private opened(end: DelimiterEnd): boolean {
    if (end.close) throw malformed('the multipart body has no parts');
    this.discardUpTo(end.next);
    this.state = 'headers';
    return true;
  }

  private stepHeaders(events: MultipartEvent[]): boolean {
    let headerEnd: number;
    let bodyStart: number;
    if (this.pending.length < 2) return false;
    if (this.pending[0] === CR && this.pending[1] === LF) {
      headerEnd = 0;
      bodyStart = 2;
    } else {
      const blank = this.pending.indexOf(CRLF_CRLF);
      const delimiterAt = this.pending.indexOf(this.delimiter);
      if (delimiterAt >= 0 && (blank < 0 || delimiterAt < blank)) {
        // No blank line before the next delimiter: a part of headers only (RFC 2046 makes the body optional).
        headerEnd = delimiterAt;
        bodyStart = delimiterAt;
      } else if (blank < 0) {
        if (this.pending.length > MAX_HEADER_BYTES) {
          throw malformed(
            `part ${this.parts + 1}: no blank line after its headers within ${MAX_HEADER_BYTES} bytes`,
          );
        }
        return false;
      } else {
        headerEnd = blank;
        bodyStart = blank + CRLF_CRLF.length;
      }
    }
    if (headerEnd > MAX_HEADER_BYTES) {
      throw malformed(
        `part ${this.parts + 1}: no blank line after its headers within ${MAX_HEADER_BYTES} bytes`,
      );
    }
    const headers = parseHeaders(this.pending.toString('latin1', 0, headerEnd), this.parts);
    this.parts += 1;
    events.push({ type: 'part-start', headers });
    this.discardUpTo(bodyStart);
    this.state = 'body';
    return true;
  }

  private stepBody(events: MultipartEvent[]): boolean {
    const found = this.findDelimiter();
    if (found === undefined) {
      // Hand on all but what could be the start of a delimiter.
      const safe = this.pending.length - this.delimiter.length + 1;
      if (safe > 0) {
        events.push({ type: 'part-data', data: this.pending.subarray(0, safe) });
        this.discardUpTo(safe);
      }
      return false;
    }
    if (found.at > 0) events.push({ type: 'part-data', data: this.pending.subarray(0, found.at) });
    if (found.end === 'need-more') {
      this.discardUpTo(found.at);
      return false;
    }
    events.push({ type: 'part-end' });
    this.discardUpTo(found.end.next);
    if (found.end.close) {
      events.push({ type: 'end' });
      this.state = 'epilogue';
    } else {
      this.state = 'headers';
    }
    return true;
  }

  /** The next delimiter in `pending` at or after `searchFrom`, skipping boundary strings that are content. */
  private findDelimiter(): { at: number; end: DelimiterEnd | 'need-more' } | undefined {
    for (;;) {
      const at = this.pending.indexOf(this.delimiter, this.searchFrom);
      if (at < 0) {
        this.searchFrom = Math.max(0, this.pending.length - this.delimiter.length + 1);
        return undefined;
      }
      const end = delimiterEnd(this.pending, at + this.delimiter.length);
      if (end === 'not-a-delimiter') {
        this.searchFrom = at + 1;
        continue;
      }
      return { at, end };
    }
  }

  private discardUpTo(offset: number): void {
    this.pending = this.pending.subarray(offset);
    this.searchFrom = Math.max(0, this.searchFrom - offset);
  }
}

/**
 * Splits a whole multipart body into its parts (see {@link MultipartParser}); each part's body is a view
 * into `body`, never a copy.
 */
export function parseMultipartRelated(body: Buffer, boundary: string): BodyPart[] {
  const parser = new MultipartParser(boundary);
  const parts: BodyPart[] = [];
  let current: { headers: Record<string, string>; data: Buffer[] } | undefined;
  for (const event of parser.push(body)) {
    if (event.type === 'part-start') current = { headers: event.headers, data: [] };
    else if (event.type === 'part-data') current?.data.push(event.data);
    else if (event.type === 'part-end' && current) {
      parts.push({
        headers: current.headers,
        body: current.data.length === 1 ? current.data[0]! : Buffer.concat(current.data),
      });
      current = undefined;
    }
  }
  parser.end();
  return parts;
}

interface DelimiterEnd {
  /** Offset just after the delimiter line. */
  next: number;
  /** Whether this is the close delimiter (`--boundary--`). */
  close: boolean;
}

/**
 * What follows `--boundary` on a delimiter line: `--` (close), or transport padding and CRLF; `need-more`
 * when the bytes so far cannot tell.
 */
function delimiterEnd(body: Buffer, after: number): DelimiterEnd | 'need-more' | 'not-a-delimiter' {
  if (after >= body.length) return 'need-more';
  if (body[after] === DASH) {
    if (after + 1 >= body.length) return 'need-more';
    return body[after + 1] === DASH ? { next: after + 2, close: true } : 'not-a-delimiter';
  }
  let i = after;
  while (body[i] === SPACE || body[i] === TAB) {
    i += 1;
    if (i - after > MAX_TRANSPORT_PADDING) return 'not-a-delimiter';
  }
  if (i >= body.length) return 'need-more';
  if (body[i] !== CR) return 'not-a-delimiter';
  if (i + 1 >= body.length) return 'need-more';
  return body[i + 1] === LF ? { next: i + 2, close: false } : 'not-a-delimiter';
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
