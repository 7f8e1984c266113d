import { createRequire } from 'node:module';

/** libjpeg-turbo's encoder (the WebAssembly build that @cornerstonejs/dicom-codec ships). */
interface JpegEncoder {
  getDecodedBuffer(info: {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
  }): Uint8Array;
  setQuality(quality: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}
type JpegModule = { JPEGEncoder: new () => JpegEncoder };

let loading: Promise<JpegModule> | undefined;
function load(): Promise<JpegModule> {
  loading ??= (() => {
    const fromCodec = createRequire(createRequire(import.meta.url).resolve('@cornerstonejs/dicom-codec'));
    const factory = fromCodec('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs') as (options: {
      print(text: string): void;
      printErr(text: string): void;
    }) => Promise<JpegModule>;
    return factory({ print: () => {}, printErr: () => {} });
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * Encodes an 8-bit greyscale image as a JPEG (JFIF) file with libjpeg-turbo. `pixels` is row-major, top row
 * first; `quality` 1-100.
 */
export async function encodeGrayscaleJpeg(
  width: number,
  height: number,
  pixels: Uint8Array,
  quality = 90,
): Promise<Uint8Array> {
  if (pixels.length !== width * height)
    throw new RangeError(`expected ${width * height} pixels, got ${pixels.length}`);
  const { JPEGEncoder } = await load();
  const encoder = new JPEGEncoder();
  try {
    encoder
      .getDecodedBuffer({ width, height, bitsPerSample: 8, componentCount: 1, isSigned: false })
      .set(pixels);
    encoder.setQuality(quality);
    encoder.encode();
    // A view into WebAssembly memory: copied before the encoder is freed.
    return encoder.getEncodedBuffer().slice();
  } finally {
    encoder.delete();
  }
}
