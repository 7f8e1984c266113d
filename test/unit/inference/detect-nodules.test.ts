import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { insideBox, lidcCase, lungDxCase, phantomCase } from '../../../src/evaluation/annotated-cases.js';
import { CANDIDATE_FEATURE_NAMES } from '../../../src/inference/candidate-features.js';
import { detectNodules } from '../../../src/inference/detect-nodules.js';
import { segmentLungs } from '../../../src/inference/lung-segmentation.js';
import { loadDetector } from '../../../src/inference/model-registry.js';
import { measureNodule } from '../../../src/inference/nodule-measurement.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const distance = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const toIjk = (volume: CtVolume, lps: Vec3) =>
  [0, 1, 2].map((a) => (lps[a]! - volume.originLps[a]!) / volume.spacingMm[a]!) as Vec3;
const at = (volume: CtVolume, mask: Uint8Array, ijk: Vec3) => {
  const [i, j, k] = ijk.map(Math.round) as Vec3;
  const [nx, ny] = volume.dimensions;
  return mask[i + nx * (j + ny * k)];
};

describe('measureNodule on the chest phantom', () => {
  const { volume, references } = phantomCase(3);
  const lungs = segmentLungs(volume);

  it('puts every phantom nodule inside the lungs', () => {
    expect(lungs.volumeMl).toBeGreaterThan(1000);
    for (const nodule of references) expect(at(volume, lungs.mask, toIjk(volume, nodule.centreLps))).toBe(1);
  });

  // Within 1.5 mm of the phantom's true diameter: what Lung-RADS counts as no change (growth is > 1.5 mm).
  it.each([8, 12, 14, 16])('measures the %d mm nodule within 1.5 mm, at its centre', (diameter) => {
    const nodule = references.find((r) => r.diameterMm === diameter)!;
    const measured = measureNodule(
      volume,
      { ijk: toIjk(volume, nodule.centreLps) },
      {
        radiusHintMm: diameter / 2,
        lungMask: lungs.mask,
      },
    )!;
    expect(Math.abs(measured.meanDiameterMm - diameter), `${measured.meanDiameterMm} mm`).toBeLessThanOrEqual(
      1.5,
    );
    expect(distance(measured.centreLps, nodule.centreLps)).toBeLessThan(2);
    expect(measured.longAxisMm).toBeGreaterThanOrEqual(measured.shortAxisMm);
  });

  it('gives every candidate its features when the heatmap alone scores (what the 1.x recipe trains on)', async () => {
    const detection = await detectNodules(volume, await loadDetector('nodus-candidates-only'), {
      keepAllCandidates: true,
      threshold: Infinity,
    });
    expect(detection.candidates!.length).toBeGreaterThan(0);
    for (const candidate of detection.candidates!) {
      expect(candidate.features).toHaveLength(CANDIDATE_FEATURE_NAMES.length);
      expect(candidate.features.every(Number.isFinite)).toBe(true);
    }
  });

  it('finds nothing to measure in empty parenchyma', () => {
    const nodule = references[0]!;
    const away: Vec3 = [nodule.centreLps[0], nodule.centreLps[1], nodule.centreLps[2] + 40];
    expect(
      measureNodule(volume, { ijk: toIjk(volume, away) }, { radiusHintMm: 2, lungMask: lungs.mask }),
    ).toBeUndefined();
  });
});

// The 1.x detector stays selectable (NODUS_DETECTOR=nodus-detector) for comparison; its held-out variants
// still find the two real lesions. Its false positives are capped at 4 by construction (5 findings at most),
// so they are not tested here: nodus-detector-2 (detector-2.test.ts) has no cap.
describe.skipIf(!sampleDir)('detector 1.x on real CT (held-out classifiers)', () => {
  it('finds the LIDC-IDRI-0001 reference nodule at the operating point and measures it like the readers', async () => {
    const item = await lidcCase(path.join(sampleDir!, 'lidc/LIDC-IDRI-0001'));
    const detector = await loadDetector('nodus-detector-holdout-lidc');
    const detection = await detectNodules(item.volume, detector);
    const reference = item.references[0]!;
    const hit = detection.nodules.find(
      (n) => distance(n.centreLps, reference.centreLps) < reference.diameterMm / 2,
    );
    expect(hit).toBeDefined();
    // Issue 4: within 1.5 mm of the readers' mean (measured 30.7 vs 29.5).
    expect(Math.abs(hit!.meanDiameterMm - reference.diameterMm)).toBeLessThanOrEqual(1.5);
    expect(hit!.type).toBe('solid');
  });

  it('finds the Lung_Dx-A0001 tumour at the operating point (a centre inside its annotated box)', async () => {
    const item = await lungDxCase(path.join(sampleDir!, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L'));
    const detector = await loadDetector('nodus-detector-holdout-lung-dx');
    const detection = await detectNodules(item.volume, detector);
    const hits = detection.nodules.filter((n) => insideBox(item.boxLps!, n.centreLps, 0));
    expect(hits.length).toBeGreaterThan(0);
  });

  it('keeps the Lung_Dx tumour inside the lung mask', async () => {
    const item = await lungDxCase(path.join(sampleDir!, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L'));
    const lungs = segmentLungs(item.volume);
    expect(lungs.volumeMl).toBeGreaterThan(2000);
    expect(at(item.volume, lungs.mask, toIjk(item.volume, item.references[0]!.centreLps))).toBe(1);
  });
});
