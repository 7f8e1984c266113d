// Recipe, step 1 of 2 of the patch classifier (nodus-patch-cnn): the training patches.
//
//   node --import tsx models/recipes/build-patch-dataset.ts [--copies 20] [--out .training/patches] [--sub-solid]
//     [--sub-solid-only]  (the training set of the sub-solid classifier: only the candidates that the sub-solid
//                          search adds, nodules 20 % solid / 40 % part-solid / 40 % ground glass, points near
//                          the centres of sub-solid nodules only)
//     [--small-only]      (the training set of the small-nodule classifier: only the candidates of the
//                          small-nodule search, i.e. the blob maxima under 2.5 mm, 20 nodules of 3-16 mm per copy,
//                          40 % solid / 30 % part-solid / 30 % ground glass, patches with a fine channel of the
//                          source voxels)
//
// For each real background of the shared data (LIDC-IDRI-0001, Lung_Dx-A0001, CPTAC C3N-00247) and each copy:
// synthetic nodules are inserted (src/phantom: 3-30 mm, solid / part-solid / ground glass, round / lobulated /
// spiculated, isolated or against the pleura, vessels and fissures wherever the random site falls; every
// fourth copy also 1-2 masses of 3-7 cm against the chest wall or mediastinum; every other copy reconstructed
// at twice the slice thickness), the detector's candidate stage runs on the copy, and each candidate becomes
// a row: its 3-scale patch (src/inference/candidate-patches.ts, exactly what inference reads), its label and
// where it came from. Positives: candidates within an inserted nodule's radius (at least 2 mm); left out:
// candidates between one and two radii of it and near the scans' marked lesions; negatives: every other
// candidate, i.e. the scan's real anatomy (vessels, airway walls, scars, chest wall, diaphragm, mediastinum),
// a third of them per copy (copies share the same anatomy).
//
// Writes per background <out>/<name>.u8 (patches, value * 255 rounded, [N, C, S, S, S]) and <name>.json (rows).
// Deterministic: fixed seeds, fixed order.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PATCH_LAYOUT, extractPatches, gridPyramid } from '../../src/inference/candidate-patches.js';
import { sourcePatches, withFineChannel } from '../../src/inference/source-patches.js';
import { runCandidateStage } from '../../src/inference/candidate-stage.js';
import { ijkToLps, lpsToIjk } from '../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../src/inference/lung-segmentation.js';
import { loadDetector } from '../../src/inference/model-registry.js';
import { modelToSourceIjk, sourceIjkToModel } from '../../src/inference/resample.js';
import { mulberry32, type InsertedNodule } from '../../src/phantom/insert-nodule.js';
import type { Vec3 } from '../../src/volume/volume.js';
import {
  CANDIDATE_CAP,
  SMALL_CANDIDATES,
  SMALL_PATCH_LAYOUT,
  SUB_SOLID_CANDIDATES,
} from './candidate-stage-settings.js';
import { syntheticCopy } from './synthetic-copy.js';
import { trainingBackgrounds, type Background } from './training-backgrounds.js';

const NODULES_PER_COPY = 14;
const SMALL_NODULES_PER_COPY = 20;
const NEGATIVE_SHARE = 1 / 3;
const JITTERED_POSITIVES = 3;

const { values } = parseArgs({
  options: {
    copies: { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    'sub-solid': { type: 'boolean' },
    'sub-solid-only': { type: 'boolean' },
    'small-only': { type: 'boolean' },
  },
});
const subSolidOnly = values['sub-solid-only'] === true;
const smallOnly = values['small-only'] === true;
const layout = smallOnly ? SMALL_PATCH_LAYOUT : DEFAULT_PATCH_LAYOUT;
const copies = Number(values.copies ?? 20);
const out = path.resolve(values.out ?? '.training/patches');
fs.mkdirSync(out, { recursive: true });

export interface PatchRow {
  background: string;
  copy: number;
  /** 1 nodule (or mass), 0 not a nodule. */
  label: 0 | 1;
  sliceMm: number;
  centreLps: Vec3;
  radiusMm: number;
  response: number;
  /** A point near an inserted nodule's centre rather than a candidate. */
  jittered?: boolean;
  /** Positives: what was inserted there. */
  nodule?: { type: string; shape: string; diameterMm: number; juxtapleural: boolean };
}

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

function labelOf(centre: Vec3, inserted: InsertedNodule[], avoid: Background['avoid']) {
  if (avoid.some((a) => distance(centre, a.centreLps) < a.radiusMm)) return undefined;
  for (const nodule of inserted) {
    const d = distance(centre, nodule.centreLps);
    if (d <= Math.max(nodule.diameterMm / 2, 2)) return nodule;
    if (d <= Math.max(nodule.diameterMm, 4)) return undefined;
  }
  return 0 as const;
}

const stageDetector = await loadDetector('nodus-candidates-only');
const names = (values.only?.split(',') ?? ['lidc', 'lung-dx', 'cptac']) as Background['name'][];
for (const [b, background] of (await trainingBackgrounds(names)).entries()) {
  const rows: PatchRow[] = [];
  const file = fs.openSync(path.join(out, `${background.name}.u8`), 'w');
  const started = performance.now();
  const lungs = segmentLungs(background.volume);
  for (let copy = 0; copy < copies; copy += 1) {
    const random = mulberry32(70_000 + 1000 * b + copy);
    const { volume, inserted } = syntheticCopy(background, lungs.mask, random, {
      nodules: smallOnly
        ? {
            count: SMALL_NODULES_PER_COPY,
            diameterMm: [3, 16],
            typeShares: { solid: 0.4, partSolid: 0.3 },
            allowJuxtapleural: copy % 2 === 0,
            minSeparationMm: 25,
          }
        : {
            count: NODULES_PER_COPY,
            diameterMm: [3, 30],
            typeShares: subSolidOnly ? { solid: 0.2, partSolid: 0.4 } : { solid: 0.5, partSolid: 0.25 },
            allowJuxtapleural: copy % 2 === 0,
            minSeparationMm: 30,
          },
      ...(copy % 4 === 3 && !smallOnly && { masses: { count: 2, diameterMm: [30, 70] as [number, number] } }),
      thickSlices: copy % 2 === 1,
    });
    const stage = (await runCandidateStage(volume, stageDetector.heatmap, stageOptions()))!;
    const keep = mulberry32(90_000 + 1000 * b + copy);
    const chosen: { candidate: (typeof stage.candidates)[number]; row: PatchRow }[] = [];
    const found = new Set<InsertedNodule>();
    for (const candidate of stage.candidates) {
      if (subSolidOnly && candidate.source !== 'sub-solid') continue;
      if (smallOnly && candidate.source !== 'small') continue;
      const centreLps = ijkToLps(volume, stage.toIjk(candidate));
      const label = labelOf(centreLps, inserted, background.avoid);
      if (label === undefined) continue;
      if (label === 0 && keep() >= NEGATIVE_SHARE) continue;
      const nodule = label === 0 ? undefined : (label as (typeof inserted)[number]);
      if (nodule) found.add(nodule);
      chosen.push({
        candidate,
        row: {
          background: background.name,
          copy,
          label: nodule ? 1 : 0,
          sliceMm: volume.spacingMm[2],
          centreLps: centreLps.map((v) => Math.round(v * 10) / 10) as Vec3,
          radiusMm: Math.round(candidate.radiusMm * 10) / 10,
          response: Math.round(candidate.response * 1e4) / 1e4,
          ...(nodule && {
            nodule: {
              type: nodule.type,
              shape: nodule.shape,
              diameterMm: nodule.diameterMm,
              juxtapleural: nodule.juxtapleural,
            },
          }),
        },
      });
    }
    // Each inserted nodule also gives positives at points near its centre (within a third of its radius):
    // the candidate stage finds a nodule anywhere near its centre, and there are ten times fewer
    // positives than negatives.
    const points = chosen.map((c) => ({ x: c.candidate.x, y: c.candidate.y, z: c.candidate.z }));
    for (const nodule of inserted) {
      if (subSolidOnly && nodule.type === 'solid') continue;
      const centre = sourceIjkToModel(stage.input, lpsToIjk(volume, nodule.centreLps));
      if (!stage.inLungs(...(centre.map(Math.round) as Vec3))) continue;
      for (let n = 0; n < JITTERED_POSITIVES; n += 1) {
        const reach = nodule.diameterMm / 6 / stage.input.spacingMm;
        const point = {
          x: centre[0] + (2 * keep() - 1) * reach,
          y: centre[1] + (2 * keep() - 1) * reach,
          z: centre[2] + (2 * keep() - 1) * reach,
        };
        points.push(point);
        rows.push({
          background: background.name,
          copy,
          label: 1,
          sliceMm: volume.spacingMm[2],
          centreLps: ijkToLps(volume, modelToSourceIjk(stage.input, [point.x, point.y, point.z])).map(
            (v) => Math.round(v * 10) / 10,
          ) as Vec3,
          radiusMm: nodule.diameterMm / 2,
          response: 0,
          jittered: true,
          nodule: {
            type: nodule.type,
            shape: nodule.shape,
            diameterMm: nodule.diameterMm,
            juxtapleural: nodule.juxtapleural,
          },
        });
      }
    }
    const pyramid = gridPyramid(stage.grid, 3);
    const gridPatches = extractPatches(pyramid, points, layout);
    const patches = smallOnly
      ? withFineChannel(
          sourcePatches(
            {
              volume,
              huWindow: stageDetector.heatmap.entry.contract.huWindow,
              spacingMm: SMALL_PATCH_LAYOUT.fineSpacingMm,
              size: layout.size,
            },
            points.map((p) => modelToSourceIjk(stage.input, [p.x, p.y, p.z])),
          ),
          gridPatches,
          layout.size,
        )
      : gridPatches;
    const bytes = new Uint8Array(patches.length);
    for (let v = 0; v < patches.length; v += 1) bytes[v] = Math.round(patches[v]! * 255);
    fs.writeSync(file, bytes);
    rows.splice(rows.length - (points.length - chosen.length), 0, ...chosen.map((c) => c.row));
    console.log(
      `${background.name} copy ${copy} (${volume.spacingMm[2]} mm): ${stage.candidates.length} candidates, ` +
        `${found.size}/${inserted.length} inserted nodules among them, ` +
        `${chosen.filter((c) => c.row.label === 1).length} positive rows, ` +
        `${chosen.filter((c) => c.row.label === 0).length} negative rows; missed: ` +
        (inserted
          .filter((n) => !found.has(n))
          .map((n) => `${n.type} ${n.diameterMm} mm${n.juxtapleural ? ' juxtapleural' : ''}`)
          .join(', ') || 'none'),
    );
  }
  fs.closeSync(file);
  fs.writeFileSync(
    path.join(out, `${background.name}.json`),
    `${JSON.stringify({ layout, unmarkedLesion: background.unmarkedLesion, rows })}\n`,
  );
  console.log(
    `${background.name}: ${rows.length} rows in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}

function stageOptions() {
  return {
    maxTileVoxels: 12_000_000,
    maxCandidates: CANDIDATE_CAP.maxCandidates,
    keepAllFromRadiusMm: CANDIDATE_CAP.keepAllFromRadiusMm,
    ...((values['sub-solid'] || subSolidOnly || smallOnly) && { subSolid: SUB_SOLID_CANDIDATES }),
    ...(smallOnly && { small: SMALL_CANDIDATES }),
    time: async <T>(_stage: string, work: () => T | Promise<T>) => work(),
  };
}
