import { describe, expect, it } from 'vitest';
import { wasmFrameDecoder } from '../../../src/dicom/codecs/image-codecs.js';
import { encodeGrayscaleJpeg } from '../../../src/volume/grayscale-jpeg.js';

/** A 256 x 256 test picture with edges and texture: a disc over a gradient, with deterministic noise. */
function picture(): Uint8Array {
  const size = 256;
  const pixels = new Uint8Array(size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const inDisc = (i - 128) ** 2 + (j - 120) ** 2 < 70 ** 2;
      const noise = ((i * 7919 + j * 104729) % 23) - 11;
      pixels[j * size + i] = Math.max(0, Math.min(255, (inDisc ? 200 : i / 2) + noise));
    }
  }
  return pixels;
}

/** Peak signal-to-noise ratio of `decoded` against `source`, dB. */
function psnr(source: Uint8Array, decoded: Uint8Array): number {
  let squared = 0;
  for (let n = 0; n < source.length; n++) squared += (source[n]! - decoded[n]!) ** 2;
  return 10 * Math.log10((255 * 255) / (squared / source.length));
}

describe('encodeGrayscaleJpeg', () => {
  it('encodes at the quality asked: larger and closer to the source as quality rises (libjpeg-turbo decodes it)', async () => {
    const source = picture();
    const decode = await wasmFrameDecoder('jpeg-baseline');
    const results = [];
    for (const quality of [10, 50, 90]) {
      const jpeg = await encodeGrayscaleJpeg(256, 256, source, quality);
      const frame = decode(jpeg);
      expect([frame.columns, frame.rows]).toEqual([256, 256]);
      results.push({ bytes: jpeg.byteLength, psnr: psnr(source, frame.samples as Uint8Array) });
    }
    // Quality was once not passed to the encoder: every quality gave the same (lowest-quality) file.
    expect(results[0]!.bytes).toBeLessThan(results[1]!.bytes);
    expect(results[1]!.bytes).toBeLessThan(results[2]!.bytes);
    expect(results[0]!.psnr).toBeLessThan(results[2]!.psnr);
    expect(results[2]!.psnr).toBeGreaterThan(35);
  });
});
