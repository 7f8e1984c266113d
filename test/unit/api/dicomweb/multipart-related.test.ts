import { describe, expect, it } from 'vitest';
import {
  MultipartParser,
  parseMediaType,
  parseMultipartRelated,
  type MultipartEvent,
} from '../../../../src/api/dicomweb/multipart-related.js';
import { DomainError } from '../../../../src/shared/errors.js';

const bytes = (...chunks: (string | Uint8Array)[]) =>
  Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)));

/** A multipart body from part contents (each `headers + CRLF + body`), with optional preamble and epilogue. */
function multipart(boundary: string, parts: Uint8Array[], { preamble = '', epilogue = '' } = {}) {
  return bytes(
    preamble === '' ? '' : `${preamble}\r\n`,
    ...parts.flatMap((part) => [`--${boundary}\r\n`, part, '\r\n']),
    `--${boundary}--`,
    epilogue === '' ? '' : `\r\n${epilogue}`,
  );
}

const dicomPart = (content: string | Uint8Array) => bytes('Content-Type: application/dicom\r\n\r\n', content);

describe('parseMediaType', () => {
  it.each([
    [
      'multipart/related; type="application/dicom"; boundary=abc',
      { essence: 'multipart/related', parameters: { type: 'application/dicom', boundary: 'abc' } },
    ],
    [
      'Multipart/Related;type=application/dicom;boundary="a b:c?d"',
      { essence: 'multipart/related', parameters: { type: 'application/dicom', boundary: 'a b:c?d' } },
    ],
    [
      'multipart/related; boundary="with \\"escaped\\" quotes" ; type="application/dicom" ',
      {
        essence: 'multipart/related',
        parameters: { boundary: 'with "escaped" quotes', type: 'application/dicom' },
      },
    ],
    ['application/dicom', { essence: 'application/dicom', parameters: {} }],
    [
      'multipart/related; BOUNDARY=x; boundary=y',
      { essence: 'multipart/related', parameters: { boundary: 'x' } },
    ],
  ])('parses %j', (value, expected) => {
    const parsed = parseMediaType(value);
    expect(parsed?.essence).toBe(expected.essence);
    expect({ ...parsed?.parameters }).toEqual(expected.parameters);
  });

  it.each([
    '',
    'multipart',
    'multipart/',
    'a b/c',
    'multipart/related; boundary="unterminated',
    'text/plain; x',
  ])('rejects %j', (value) => {
    expect(parseMediaType(value)).toBeUndefined();
  });
});

describe('parseMultipartRelated', () => {
  it('splits parts and keeps each body byte for byte', () => {
    const body = multipart('b0und4ry', [dicomPart('first'), dicomPart('second')]);
    const parts = parseMultipartRelated(body, 'b0und4ry');
    expect(parts.map((part) => part.body.toString('latin1'))).toEqual(['first', 'second']);
    expect(parts[0]!.headers['content-type']).toBe('application/dicom');
  });

  it('ignores the preamble and the epilogue', () => {
    const body = multipart('xyz', [dicomPart('payload')], {
      preamble: 'This is a preamble\r\n--xyz is not at the start of a line here',
      epilogue: 'epilogue\r\n--xyz\r\nnot a part',
    });
    const parts = parseMultipartRelated(body, 'xyz');
    expect(parts).toHaveLength(1);
    expect(parts[0]!.body.toString('latin1')).toBe('payload');
  });

  it('keeps binary content with CR, LF, NUL and partial boundary strings intact', () => {
    const content = bytes(
      new Uint8Array([0, 1, 2, 0x0d, 0x0a, 0x0d, 0x0a, 0xff, 0xfe, 0x0d]),
      '\r\n--boundar', // a prefix of the delimiter
      '\r\n--boundaryX\r\n', // the boundary followed by another character: content, not a delimiter
      'x--boundary\r\n', // the boundary not at the start of a line
      '\r\n-boundary\r\n\r',
    );
    const allBytes = Buffer.from(new Uint8Array(256).map((_, i) => i));
    const body = multipart('boundary', [dicomPart(content), dicomPart(allBytes)]);
    const parts = parseMultipartRelated(body, 'boundary');
    expect(parts).toHaveLength(2);
    expect(parts[0]!.body.equals(content)).toBe(true);
    expect(parts[1]!.body.equals(allBytes)).toBe(true);
  });

  it('returns views into the request body, not copies', () => {
    const body = multipart('b', [dicomPart('abc')]);
    const [part] = parseMultipartRelated(body, 'b');
    expect(part!.body.buffer).toBe(body.buffer);
  });

  it.each([
    [
      'transport padding after the boundary',
      'b',
      bytes('--b  \t\r\n\r\none\r\n--b \r\n\r\ntwo\r\n--b--'),
      ['one', 'two'],
    ],
    ['a part without headers', 'b', bytes('--b\r\n\r\nbare\r\n--b--\r\n'), ['bare']],
    ['an empty part body', 'b', bytes('--b\r\nContent-Type: application/dicom\r\n\r\n\r\n--b--'), ['']],
    [
      // Orthanc's DICOMweb plugin: <uuid>-<uuid>, 73 characters, over RFC 2046's 70.
      "Orthanc's 73-character boundary",
      '8f2a43c4-5d9b-4c1e-9a3b-2f1e0c9d8b7a-1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d',
      bytes(
        '--8f2a43c4-5d9b-4c1e-9a3b-2f1e0c9d8b7a-1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d\r\n\r\nx\r\n',
        '--8f2a43c4-5d9b-4c1e-9a3b-2f1e0c9d8b7a-1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d--',
      ),
      ['x'],
    ],
    [
      'a boundary with spaces and punctuation',
      "a'()+_,-./:=? z",
      bytes("--a'()+_,-./:=? z\r\n\r\nx\r\n--a'()+_,-./:=? z--"),
      ['x'],
    ],
  ])('accepts %s', (_name, boundary, body, expected) => {
    expect(parseMultipartRelated(body, boundary).map((part) => part.body.toString('latin1'))).toEqual(
      expected,
    );
  });

  it('unfolds folded header lines and lower-cases header names', () => {
    const body = bytes(
      '--b\r\nContent-Type: application/dicom;\r\n transfer-syntax=1.2.840.10008.1.2.1\r\nContent-ID: <x>\r\n\r\nz\r\n--b--',
    );
    const [part] = parseMultipartRelated(body, 'b');
    expect(part!.headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    expect(part!.headers['content-id']).toBe('<x>');
  });

  it.each([
    ['a missing close delimiter', 'b', bytes('--b\r\n\r\ncontent\r\n--b\r\n\r\nmore')],
    ['a body that ends inside the first part', 'b', bytes('--b\r\n\r\ncontent')],
    ['no delimiter at all', 'b', bytes('just some bytes')],
    ['no parts', 'b', bytes('--b--\r\n')],
    ['a malformed header line', 'b', bytes('--b\r\nnot a header\r\n\r\nx\r\n--b--')],
    ['an empty boundary', '', bytes('--\r\n\r\nx\r\n----')],
    [
      'a boundary longer than 256 characters',
      'x'.repeat(257),
      bytes(`--${'x'.repeat(257)}\r\n\r\nx\r\n--${'x'.repeat(257)}--`),
    ],
    ['a boundary ending in a space', 'b ', bytes('--b \r\n\r\nx\r\n--b --')],
  ])('rejects %s with VALIDATION_FAILED', (_name, boundary, body) => {
    let thrown: unknown;
    try {
      parseMultipartRelated(body, boundary);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe('VALIDATION_FAILED');
    expect((thrown as DomainError).message).toMatch(/^malformed multipart body: /);
  });

  it('reads the headers of a part that lacks its blank line as headers, not its body as text', () => {
    const large = bytes('--b\r\nContent-Type: application/dicom\r\n', 'x'.repeat(70_000), '\r\n--b--');
    expect(() => parseMultipartRelated(large, 'b')).toThrow(/no blank line after its headers/);
  });
});

/** Feeds `body` to a parser in chunks of the given sizes (cycled) and rebuilds the parts. */
function parseInChunks(body: Buffer, boundary: string, sizes: number[]) {
  const parser = new MultipartParser(boundary);
  const events: MultipartEvent[] = [];
  let maxPending = 0;
  for (let offset = 0, n = 0; offset < body.length; n += 1) {
    const size = sizes[n % sizes.length]!;
    events.push(...parser.push(body.subarray(offset, offset + size)));
    offset += size;
    maxPending = Math.max(maxPending, (parser as unknown as { pending: Buffer }).pending.length);
  }
  parser.end();
  const parts: { headers: Record<string, string>; body: string }[] = [];
  for (const event of events) {
    if (event.type === 'part-start') parts.push({ headers: { ...event.headers }, body: '' });
    if (event.type === 'part-data') parts.at(-1)!.body += event.data.toString('latin1');
  }
  return { parts, maxPending, ended: events.at(-1)?.type === 'end' };
}

describe('MultipartParser fed chunk by chunk', () => {
  const tricky = bytes(
    new Uint8Array([0, 0x0d, 0x0a, 0x0d]),
    '\r\n--boundar',
    '\r\n--boundaryX\r\n',
    '\r\n--boundary \t x\r\n',
    '\r\n--boundary-\r\n',
    '\r\n-',
  );
  const body = bytes(
    'preamble\r\n--boundary\r\n\r\n',
    'x'.repeat(10),
    '\r\n--boundary  \r\nContent-Type: application/dicom\r\n\r\n',
    tricky,
    '\r\n--boundary\r\n\r\n',
    Buffer.alloc(200_000, 0x2d),
    '\r\n--boundary--\r\nepilogue --boundary\r\n',
  );
  const whole = parseMultipartRelated(body, 'boundary').map((part) => ({
    headers: { ...part.headers },
    body: part.body.toString('latin1'),
  }));

  it.each([[[1]], [[2]], [[3, 7]], [[13]], [[4096]], [[65_536]], [[1, 2, 3, 5, 8, 13, 21, 34]]])(
    'finds the same parts for chunks of %j bytes as for the whole body',
    (sizes) => {
      const { parts, ended } = parseInChunks(body, 'boundary', sizes);
      expect(ended).toBe(true);
      expect(parts).toEqual(whole);
      expect(whole).toHaveLength(3);
      expect(whole[0]!.body).toBe('x'.repeat(10));
    },
  );

  it('holds no more than a chunk and a delimiter of a part body, however large the part', () => {
    const { maxPending } = parseInChunks(body, 'boundary', [4096]);
    expect(maxPending).toBeLessThan(4096 + '\r\n--boundary'.length + 8);
  });

  it('refuses a body that stops inside a part, after the parts before it were reported', () => {
    const parser = new MultipartParser('b');
    const events = parser.push(bytes('--b\r\n\r\none\r\n--b\r\n\r\ntw'));
    expect(events.filter((e) => e.type === 'part-end')).toHaveLength(1);
    expect(() => parser.end()).toThrow(/ends without the close delimiter/);
  });
});
