import { createRequire } from 'node:module';
import { DomainError } from '../../shared/errors.js';

/** One decoded frame as a codec reports it. */
export interface CodecFrame {
  columns: number;
  rows: number;
  components: number;
  /** Samples row-major (interleaved when components > 1): the codec's bit patterns, not yet DICOM-masked. */
  samples: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
}

/** Decodes one compressed frame; throws DomainError('INVALID_DICOM') for corrupt data. */
export type FrameDecoder = (frame: Uint8Array) => CodecFrame;

export type WasmCodec = 'jpeg-ls' | 'jpeg2000' | 'jpeg-baseline';

/**
 * The codecs are the packages that @cornerstonejs/dicom-codec bundles. They are resolved from that
 * package's own location, so they need no entry of their own in package.json and work whether or not
 * the package manager hoists them. Their decode-only WebAssembly builds are called directly: dicom-codec
 * itself loads the pure JavaScript (wasm2js) builds, about 4 times slower on a JPEG 2000 CT slice, and
 * returns views into codec memory it has already freed.
 */
const requireFromDicomCodec = createRequire(
  createRequire(import.meta.url).resolve('@cornerstonejs/dicom-codec'),
);

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned?: boolean;
  };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface EmscriptenModule {
  getExceptionMessage?: (pointer: number) => string | string[];
  [decoder: string]: unknown;
}
type EmscriptenFactory = (options: {
  print(text: string): void;
  printErr(text: string): void;
}) => Promise<EmscriptenModule>;

const WASM_CODECS: Record<WasmCodec, { name: string; path: string; decoder: string }> = {
  'jpeg-ls': { name: 'JPEG-LS', path: '@cornerstonejs/codec-charls/decodewasmjs', decoder: 'JpegLSDecoder' },
  jpeg2000: { name: 'JPEG 2000', path: '@cornerstonejs/codec-openjpeg/decodewasmjs', decoder: 'J2KDecoder' },
  'jpeg-baseline': {
    name: 'JPEG baseline',
    path: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    decoder: 'JPEGDecoder',
  },
};

interface LoadedCodec {
  module: EmscriptenModule;
  /** What the library printed during the current decode (OpenJPEG reports errors only this way). */
  messages: string[];
}
const loaded = new Map<WasmCodec, Promise<LoadedCodec>>();

function load(codec: WasmCodec): Promise<LoadedCodec> {
  let promise = loaded.get(codec);
  if (!promise) {
    const messages: string[] = [];
    const keep = (text: string) => {
      if (!text.includes('[INFO]') && messages.length < 20) messages.push(text.trim());
    };
    const factory = requireFromDicomCodec(WASM_CODECS[codec].path) as EmscriptenFactory;
    promise = factory({ print: keep, printErr: keep }).then((module) => ({ module, messages }));
    promise.catch(() => loaded.delete(codec));
    loaded.set(codec, promise);
  }
  return promise;
}

/** A decoder for one of the WebAssembly codecs, loaded (once per process) before it is returned. */
export async function wasmFrameDecoder(codec: WasmCodec): Promise<FrameDecoder> {
  const { name, decoder: className } = WASM_CODECS[codec];
  const { module, messages } = await load(codec);
  const Decoder = module[className] as new () => EmscriptenDecoder;
  return (frame) => {
    messages.length = 0;
    const decoder = new Decoder();
    try {
      decoder.getEncodedBuffer(frame.byteLength).set(frame);
      decoder.decode();
      const info = decoder.getFrameInfo();
      // The decoded buffer is a view into WebAssembly memory: copy it before anything else allocates.
      const bytes = decoder.getDecodedBuffer().slice();
      const expected = info.width * info.height * info.componentCount * (info.bitsPerSample > 8 ? 2 : 1);
      if (info.width === 0 || bytes.byteLength !== expected) {
        throw new Error(messages.join('; ') || `no image decoded`);
      }
      const samples =
        info.bitsPerSample > 8
          ? info.isSigned
            ? new Int16Array(bytes.buffer)
            : new Uint16Array(bytes.buffer)
          : info.isSigned
            ? new Int8Array(bytes.buffer)
            : bytes;
      return { columns: info.width, rows: info.height, components: info.componentCount, samples };
    } catch (error) {
      // A trap or abort leaves the instance unusable: the next decode loads a fresh one.
      if (error instanceof Error && error.name === 'RuntimeError') loaded.delete(codec);
      throw new DomainError(
        'INVALID_DICOM',
        `corrupt ${name} data: ${codecMessage(module, error, messages)}`,
        {
          cause: error,
        },
      );
    } finally {
      decoder.delete();
    }
  };
}

function codecMessage(module: EmscriptenModule, error: unknown, messages: string[]): string {
  // C++ exceptions reach JavaScript as a pointer; CharLS exports a way to read their message.
  if (typeof error === 'number' && module.getExceptionMessage) {
    const message = module.getExceptionMessage(error);
    return Array.isArray(message) ? message.filter(Boolean).join(': ') : message;
  }
  if (error instanceof Error) return error.message;
  return messages.join('; ') || String(error);
}

interface LosslessDecoder {
  decode(
    buffer: ArrayBuffer,
    offset: number,
    length: number,
    numBytes: number,
  ): Uint8Array | Uint16Array | null;
  xDim: number;
  yDim: number;
  numComp: number;
}
const { Decoder: LosslessDecoderClass } = requireFromDicomCodec('jpeg-lossless-decoder-js') as {
  Decoder: new () => LosslessDecoder;
};

/** JPEG lossless (process 14, any predictor) with jpeg-lossless-decoder-js, a pure JavaScript decoder. */
export function jpegLosslessFrameDecoder(bitsAllocated: number): FrameDecoder {
  return (frame) => {
    const decoder = new LosslessDecoderClass();
    let samples: Uint8Array | Uint16Array | null;
    try {
      const bytesPerSample = bitsAllocated <= 8 ? 1 : 2;
      samples = decoder.decode(
        frame.buffer as ArrayBuffer,
        frame.byteOffset,
        frame.byteLength,
        bytesPerSample,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DomainError('INVALID_DICOM', `corrupt JPEG lossless data: ${reason}`, {
        cause: error,
      });
    }
    if (!samples || decoder.xDim === 0) {
      throw new DomainError('INVALID_DICOM', 'corrupt JPEG lossless data: no image decoded');
    }
    return { columns: decoder.xDim, rows: decoder.yDim, components: decoder.numComp, samples };
  };
}
