import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DISPLAY_WINDOWS, windowedAxialSlice } from '../../../src/volume/display-window.js';
import { encodeGrayscalePng } from '../../../src/volume/grayscale-png.js';
import type { CtVolume } from '../../../src/volume/volume.js';

const volume = (hu: number[], dimensions: [number, number, number]): CtVolume => ({
  dimensions,
  spacingMm: [1, 1, 1],
  originLps: [0, 0, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  hu: Int16Array.from(hu),
  paddingVoxels: 0,
});

describe('windowedAxialSlice', () => {
  it.each([
    [-1350, 0],
    [-2000, 0],
    [-600, 128],
    [150, 255],
    [3000, 255],
  ])('maps %d HU in the lung window to %d', (hu, grey) => {
    const v = volume([0, 0, hu, 0], [2, 1, 2]);
    expect(windowedAxialSlice(v, 1, DISPLAY_WINDOWS.lung)[0]).toBe(grey);
  });

  it('keeps the volume in-plane order and refuses slices outside it', () => {
    const v = volume([-1000, 1000, -1000, 1000], [2, 2, 1]);
    expect([...windowedAxialSlice(v, 0, DISPLAY_WINDOWS.mediastinal)]).toEqual([0, 255, 0, 255]);
    expect(() => windowedAxialSlice(v, 1, DISPLAY_WINDOWS.lung)).toThrow(/outside 0..0/);
  });
});

describe('encodeGrayscalePng', () => {
  it('writes a PNG whose IDAT inflates back to the rows, each with filter 0', () => {
    const pixels = Uint8Array.from([0, 64, 128, 255, 1, 2]);
    const png = encodeGrayscalePng(3, 2, pixels);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(3);
    expect(png.readUInt32BE(20)).toBe(2);
    const idat = png.indexOf('IDAT');
    const length = png.readUInt32BE(idat - 4);
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + length));
    expect([...raw]).toEqual([0, 0, 64, 128, 0, 255, 1, 2]);
    expect(() => encodeGrayscalePng(2, 2, pixels)).toThrow(/expected 4 pixels/);
  });
});
