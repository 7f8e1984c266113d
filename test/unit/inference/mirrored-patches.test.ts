import { describe, expect, it } from 'vitest';
import { mirroredPatches } from '../../../src/inference/mirrored-patches.js';

const S = 4;
/** Two cubes whose values encode their own position: 1000 * cube + 100 * z + 10 * y + x. */
function labelledCubes(): Float32Array {
  const out = new Float32Array(2 * S ** 3);
  for (let c = 0; c < 2; c += 1)
    for (let z = 0; z < S; z += 1)
      for (let y = 0; y < S; y += 1)
        for (let x = 0; x < S; x += 1)
          out[c * S ** 3 + x + S * (y + S * z)] = 1000 * c + 100 * z + 10 * y + x;
  return out;
}
const at = (cubes: Float32Array, c: number, x: number, y: number, z: number) =>
  cubes[c * S ** 3 + x + S * (y + S * z)];

describe('mirroredPatches', () => {
  it('mirrors each cube along the axes asked for, in place of each other cube', () => {
    const cubes = labelledCubes();
    expect(at(mirroredPatches(cubes, S, 0b001), 1, 0, 1, 2)).toBe(1000 + 200 + 10 + 3);
    expect(at(mirroredPatches(cubes, S, 0b010), 0, 0, 1, 2)).toBe(200 + 20 + 0);
    expect(at(mirroredPatches(cubes, S, 0b100), 1, 3, 0, 0)).toBe(1000 + 300 + 0 + 3);
    expect(at(mirroredPatches(cubes, S, 0b111), 0, 0, 0, 0)).toBe(333);
  });

  it('gives the cubes back when mirrored twice, and leaves its input alone', () => {
    const cubes = labelledCubes();
    for (let axes = 0; axes < 8; axes += 1) {
      expect(mirroredPatches(mirroredPatches(cubes, S, axes), S, axes)).toEqual(cubes);
    }
    expect(cubes).toEqual(labelledCubes());
  });

  it('refuses values that are not whole cubes', () => {
    expect(() => mirroredPatches(new Float32Array(S ** 3 + 1), S, 1)).toThrow(/whole 4³ cubes/);
  });
});
