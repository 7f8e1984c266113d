// How much of a small nodule a reconstruction keeps: for the inserted nodules of up to 10 mm in the held-out
// copies of evaluate-patch-detector.ts (evaluation-copy.ts, the same seeds), the peak HU within the nodule
// (a part-solid nodule's: within its solid core's sphere, centred on the core) and how far it rises above
// the lung around it (median HU of a shell 3-6 mm outside the nodule), per type, size and slice thickness.
// The model card quotes it: at 5-6 mm slices the 1.3-3.7 mm solid core of a part-solid nodule under 6 mm is
// averaged into the parenchyma and looks like ground glass.
//
//   node --import tsx models/recipes/inserted-nodule-contrast.ts
import { lpsToIjk } from '../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../src/inference/lung-segmentation.js';
import type { CtVolume, Vec3 } from '../../src/volume/volume.js';
import { evaluationCopy } from './evaluation-copy.js';
import { trainingBackgrounds } from './training-backgrounds.js';

const COPIES = 8;
const MAX_DIAMETER_MM = 10;
const SHELL_MM: [number, number] = [3, 6];

interface Measured {
  type: string;
  diameterMm: number;
  sliceMm: number;
  peakHu: number;
  lungHu: number;
}

/** Calls `visit` with the HU and distance (mm) of every voxel within `reachMm` of `centreLps`. */
function forVoxelsNear(
  volume: CtVolume,
  centreLps: Vec3,
  reachMm: number,
  visit: (hu: number, distanceMm: number) => void,
): void {
  const [nx, ny, nz] = volume.dimensions;
  const centre = lpsToIjk(volume, centreLps);
  const reach = volume.spacingMm.map((s) => Math.ceil(reachMm / s));
  const base = centre.map(Math.round);
  for (let dk = -reach[2]!; dk <= reach[2]!; dk += 1)
    for (let dj = -reach[1]!; dj <= reach[1]!; dj += 1)
      for (let di = -reach[0]!; di <= reach[0]!; di += 1) {
        const [i, j, k] = [base[0]! + di, base[1]! + dj, base[2]! + dk];
        if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) continue;
        const distanceMm = Math.hypot(
          (i - centre[0]) * volume.spacingMm[0],
          (j - centre[1]) * volume.spacingMm[1],
          (k - centre[2]) * volume.spacingMm[2],
        );
        if (distanceMm <= reachMm) visit(volume.hu[i + nx * (j + ny * k)]!, distanceMm);
      }
}

/** Peak HU within `radiusMm` of a point, at least half a slice (a core thinner than a slice keeps its voxel). */
function peakHuWithin(volume: CtVolume, centreLps: Vec3, radiusMm: number): number {
  let peak = -Infinity;
  forVoxelsNear(volume, centreLps, Math.max(radiusMm, volume.spacingMm[2] / 2), (hu) => {
    peak = Math.max(peak, hu);
  });
  return peak;
}

/** Median HU of the shell SHELL_MM outside a nodule of `radiusMm`: the lung around it. */
function lungHuAround(volume: CtVolume, centreLps: Vec3, radiusMm: number): number {
  const shell: number[] = [];
  forVoxelsNear(volume, centreLps, radiusMm + SHELL_MM[1], (hu, distanceMm) => {
    if (distanceMm >= radiusMm + SHELL_MM[0]) shell.push(hu);
  });
  return median(shell);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const measured: Measured[] = [];
for (const [b, background] of (await trainingBackgrounds(['lidc', 'lung-dx', 'cptac'])).entries()) {
  const lungs = segmentLungs(background.volume);
  for (let copy = 0; copy < COPIES; copy += 1) {
    const { volume, inserted } = evaluationCopy(background, b, copy, lungs.mask);
    for (const nodule of inserted) {
      if (nodule.diameterMm > MAX_DIAMETER_MM) continue;
      const partSolid = nodule.type === 'part-solid';
      const peakHu = partSolid
        ? peakHuWithin(volume, nodule.solidCentreLps, nodule.solidComponentMm / 2)
        : peakHuWithin(volume, nodule.centreLps, nodule.diameterMm / 2);
      const lungHu = lungHuAround(volume, nodule.centreLps, nodule.diameterMm / 2);
      measured.push({
        type: nodule.type,
        diameterMm: nodule.diameterMm,
        sliceMm: volume.spacingMm[2],
        peakHu,
        lungHu,
      });
    }
  }
}

console.log('| type | diameter | slices | nodules | peak HU (median) | above the lung around it (median) |');
console.log('| --- | --- | --- | ---: | ---: | ---: |');
for (const type of ['solid', 'part-solid', 'ground-glass'])
  for (const [low, high] of [
    [3, 6],
    [6, MAX_DIAMETER_MM],
  ] as const)
    for (const [label, thick] of [
      ['2.5-3 mm', false],
      ['5-6 mm', true],
    ] as const) {
      const group = measured.filter(
        (m) => m.type === type && m.diameterMm >= low && m.diameterMm < high && m.sliceMm > 3 === thick,
      );
      if (group.length === 0) continue;
      console.log(
        `| ${type} | ${low}-${high} mm | ${label} | ${group.length} | ${median(group.map((m) => m.peakHu))} | ` +
          `${median(group.map((m) => m.peakHu - m.lungHu))} |`,
      );
    }
