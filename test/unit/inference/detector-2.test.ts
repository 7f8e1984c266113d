import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  insideBox,
  lidcCase,
  lungDxCase,
  unannotatedCase,
  type AnnotatedCase,
} from '../../../src/evaluation/annotated-cases.js';
import { detectNodules, lpsToIjk, type Detection } from '../../../src/inference/detect-nodules.js';
import { assessLungRads } from '../../../src/findings/lung-rads/lung-rads.js';
import { segmentLungs } from '../../../src/inference/lung-segmentation.js';
import { loadDetector } from '../../../src/inference/model-registry.js';
import { mulberry32 } from '../../../src/phantom/insert-nodule.js';
import { withRandomNodules } from '../../../src/phantom/random-nodules.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

// nodus-detector-2 on the real scans, each scored by the model trained without it (held out), at the
// detector's operating point. References are independent of the code: the LIDC readers' outlines, the
// Lung_Dx tumour box, and synthetic nodules whose true size and place the test inserts.

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
/** Lung-RADS treats >= 15 mm solid findings as 4B: a false one changes the patient's management. */
const LARGE_MM = 15;

function everyFindingInLungs(volume: CtVolume, detection: Detection): boolean {
  const lungs = segmentLungs(volume);
  const [nx, ny] = volume.dimensions;
  return detection.nodules.every((n) => {
    const [i, j, k] = lpsToIjk(volume, n.centreLps).map(Math.round) as Vec3;
    return lungs.mask[i + nx * (j + ny * k)] === 1;
  });
}

const near = (item: AnnotatedCase, centre: Vec3) =>
  item.avoid.some((a) => distance(centre, a.centreLps) < a.radiusMm);

describe.skipIf(!sampleDir)('nodus-detector-2 on real CT, held out', () => {
  it('finds the LIDC-IDRI-0001 nodule, measures it like a fifth reader, and reports no large false finding', async () => {
    const item = await lidcCase(path.join(sampleDir!, 'lidc/LIDC-IDRI-0001'));
    const detection = await detectNodules(item.volume, await loadDetector('nodus-detector-2-holdout-lidc'));
    const reference = item.references[0]!;
    const hit = detection.nodules.find(
      (n) => distance(n.centreLps, reference.centreLps) < reference.diameterMm / 2,
    );
    expect(hit, JSON.stringify(detection.nodules.map((n) => [n.meanDiameterMm, n.score]))).toBeDefined();
    // Tolerance from the readers themselves: within their range widened by their spread (at least 1.5 mm).
    const readers = reference.readers!.map((r) => r.meanDiameterMm);
    const spread = Math.max(1.5, Math.max(...readers) - Math.min(...readers));
    expect(hit!.meanDiameterMm).toBeGreaterThanOrEqual(Math.min(...readers) - spread);
    expect(hit!.meanDiameterMm).toBeLessThanOrEqual(Math.max(...readers) + spread);
    expect(hit!.type).toBe('solid');
    // A probability, not a rank: the reference nodule is reported as very likely a nodule.
    expect(hit!.score).toBeGreaterThan(0.5);
    const falseFindings = detection.nodules.filter((n) => n !== hit && !near(item, n.centreLps));
    expect(falseFindings.filter((n) => n.meanDiameterMm >= LARGE_MM)).toEqual([]);
    expect(everyFindingInLungs(item.volume, detection)).toBe(true);
  });

  it('finds the Lung_Dx-A0001 tumour (a finding centred in its box) with no large false finding', async () => {
    const item = await lungDxCase(path.join(sampleDir!, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L'));
    const detection = await detectNodules(
      item.volume,
      await loadDetector('nodus-detector-2-holdout-lung-dx'),
    );
    const hits = detection.nodules.filter((n) => insideBox(item.boxLps!, n.centreLps, 0));
    expect(hits.length).toBeGreaterThan(0);
    const falseFindings = detection.nodules.filter((n) => !hits.includes(n) && !near(item, n.centreLps));
    expect(falseFindings.filter((n) => n.meanDiameterMm >= LARGE_MM)).toEqual([]);
    expect(everyFindingInLungs(item.volume, detection)).toBe(true);
  });

  it('finds inserted nodules of known size in a scan it never saw: small, ground-glass and part-solid too', async () => {
    const item = await lidcCase(path.join(sampleDir!, 'lidc/LIDC-IDRI-0001'));
    const lungs = segmentLungs(item.volume);
    const random = mulberry32(4242);
    const inserted = [];
    let volume = item.volume;
    for (const [type, diameterMm] of [
      ['solid', 7],
      ['solid', 11],
      ['solid', 19],
      ['ground-glass', 10],
      ['ground-glass', 16],
      ['part-solid', 14],
    ] as const) {
      const copy = withRandomNodules(volume, lungs.mask, random, {
        count: 1,
        diameterMm: [diameterMm, diameterMm],
        typeShares:
          type === 'solid'
            ? { solid: 1, partSolid: 0 }
            : type === 'part-solid'
              ? { solid: 0, partSolid: 1 }
              : { solid: 0, partSolid: 0 },
        avoid: [...item.avoid, ...inserted.map((n) => ({ centreLps: n.centreLps, radiusMm: 40 }))],
        allowJuxtapleural: false,
        minSeparationMm: 40,
      });
      volume = copy.volume;
      inserted.push(...copy.inserted);
    }
    const detection = await detectNodules(volume, await loadDetector('nodus-detector-2-holdout-lidc'));
    const found = inserted.map((n) => ({
      truth: n,
      hit: detection.nodules.find((f) => distance(f.centreLps, n.centreLps) < n.diameterMm / 2),
    }));
    const report = found.map(
      (f) =>
        `${f.truth.type} ${f.truth.diameterMm} mm: ${f.hit ? `${f.hit.meanDiameterMm} mm, p ${f.hit.score.toFixed(2)}` : 'missed'}`,
    );
    expect(found.filter((f) => f.hit).length, report.join('; ')).toBeGreaterThanOrEqual(5);
    // What the size decides: each solid nodule's Lung-RADS category from the measured size is the one its true
    // size gives (sizes 1-4 mm inside the bands: 6-8 mm is 3, 8-15 mm 4A, >= 15 mm 4B). The measurement reads
    // about 2 mm above the true diameter (the -800 HU boundary takes in the scanner's blur of the edge; see
    // the model card), so a diameter tolerance from reader variability (1.5-2 mm) would not hold.
    const category = (meanDiameterMm: number) =>
      assessLungRads({ priorExam: false, nodules: [{ type: 'solid', meanDiameterMm, status: 'baseline' }] })
        .category;
    for (const { truth, hit } of found) {
      if (!hit || truth.type !== 'solid') continue;
      expect(category(hit.meanDiameterMm), report.join('; ')).toBe(category(truth.diameterMm));
    }
    for (const { truth, hit } of found) {
      if (hit) expect(hit.meanDiameterMm - truth.diameterMm, report.join('; ')).toBeGreaterThan(-2);
    }
    expect(everyFindingInLungs(volume, detection)).toBe(true);
  });

  // Candidates no longer saturate: the mass is one candidate and one measurement of its size. (At the
  // operating point masses are found 4 times in 6, see the model card: this one scores just below it.)
  it('makes a 6 cm mass against the chest wall one finding, measured as a mass', async () => {
    const item = await lidcCase(path.join(sampleDir!, 'lidc/LIDC-IDRI-0001'));
    const lungs = segmentLungs(item.volume);
    const { volume, inserted } = withRandomNodules(item.volume, lungs.mask, mulberry32(60), {
      count: 1,
      diameterMm: [60, 60],
      typeShares: { solid: 1, partSolid: 0 },
      avoid: item.avoid,
      allowJuxtapleural: true,
      minSeparationMm: 80,
    });
    const mass = inserted[0]!;
    const detection = await detectNodules(volume, await loadDetector('nodus-detector-2-holdout-lidc'), {
      threshold: 0,
      maxFindings: 20,
    });
    const onMass = detection.nodules.filter(
      (n) => distance(n.centreLps, mass.centreLps) < mass.diameterMm / 2,
    );
    expect(onMass).toHaveLength(1);
    // The insertion is clipped to the lung mask (a tumour bulges into the lung), so the mass in the lung is
    // less than the 60 mm sphere; its long axis still spans most of it.
    expect(onMass[0]!.longAxisMm).toBeGreaterThan(50);
    expect(onMass[0]!.longAxisMm).toBeLessThan(66);
  });

  it('reports no large finding that is not the tumour on the CPTAC scan it never saw', async () => {
    const item = await unannotatedCase(path.join(sampleDir!, 'cptac-luad/C3N-00247'));
    const detection = await detectNodules(item.volume, await loadDetector('nodus-detector-2-holdout-cptac'));
    expect(everyFindingInLungs(item.volume, detection)).toBe(true);
    expect(detection.nodules.filter((n) => n.meanDiameterMm >= LARGE_MM).length).toBeLessThanOrEqual(1);
  });
});
