// The CT backgrounds the recipes insert synthetic nodules into: the chest phantom and the real scans of the
// shared data (../shared/data or NODUS_SAMPLE_DIR), each with its marked lesions to keep away from.
import fs from 'node:fs';
import path from 'node:path';
import {
  AVOID_MARGIN_MM,
  lidcCase,
  lungDxCase,
  phantomCase,
  unannotatedCase,
  type AnnotatedCase,
} from '../../src/evaluation/annotated-cases.js';
import { sampleDataDir } from '../../src/main/demo.js';
import type { Vec3 } from '../../src/volume/volume.js';

export type BackgroundName = 'phantom' | 'lidc' | 'lung-dx' | 'cptac';

export interface Background {
  /** What --holdout names. */
  name: BackgroundName;
  volume: AnnotatedCase['volume'];
  avoid: AnnotatedCase['avoid'];
  /**
   * The scan holds a real lesion whose place nobody marked (CPTAC C3N-00247's adenocarcinoma): its real
   * candidates are not known negatives.
   */
  unmarkedLesion: boolean;
  /**
   * Where the unmarked lesion most likely is, for scoring only (evaluate-patch-detector.ts: a finding there
   * is neither a hit nor a false positive; insertion and training do not use it, so the copies stay as they
   * were). Our reading of the images, not a radiologist's mark.
   */
  probableLesions: { centreLps: Vec3; radiusMm: number; description: string }[];
}

/**
 * CPTAC C3N-00247: a spiculated solid nodule of about 21 mm in the anterior right lower lung (LPS -82, -191,
 * -194; axial slice 31 of 99), found by the held-out detector 2.3.0 on 2026-12-08 and looked at in the
 * images: in a patient with a lung adenocarcinoma, almost certainly that tumour. Radius: half its diameter
 * plus the clearance of marked lesions (AVOID_MARGIN_MM, 15 mm).
 */
const CPTAC_PROBABLE_TUMOUR = {
  centreLps: [-82, -191, -194] as Vec3,
  radiusMm: 21 / 2 + AVOID_MARGIN_MM,
  description: 'spiculated solid nodule, about 21 mm: most likely the unmarked adenocarcinoma',
};

/** The named backgrounds that exist here, in the order given; a missing scan is left out with a warning. */
export async function trainingBackgrounds(
  names: BackgroundName[] = ['phantom', 'lidc', 'lung-dx'],
): Promise<Background[]> {
  const data = sampleDataDir(process.env.NODUS_SAMPLE_DIR);
  const folders: Record<Exclude<BackgroundName, 'phantom'>, string> = {
    lidc: path.join(data, 'lidc/LIDC-IDRI-0001'),
    'lung-dx': path.join(data, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L'),
    cptac: path.join(data, 'cptac-luad/C3N-00247'),
  };
  const backgrounds: Background[] = [];
  for (const name of names) {
    if (name === 'phantom') {
      backgrounds.push({ ...phantomCase(7), name, unmarkedLesion: false, probableLesions: [] });
      continue;
    }
    const folder = folders[name];
    if (!fs.existsSync(folder)) {
      console.warn(`${folder} missing: left out`);
      continue;
    }
    const loaded =
      name === 'lidc'
        ? await lidcCase(folder)
        : name === 'lung-dx'
          ? await lungDxCase(folder)
          : await unannotatedCase(folder);
    backgrounds.push({
      ...loaded,
      name,
      unmarkedLesion: name === 'cptac',
      probableLesions: name === 'cptac' ? [CPTAC_PROBABLE_TUMOUR] : [],
    });
  }
  return backgrounds;
}
