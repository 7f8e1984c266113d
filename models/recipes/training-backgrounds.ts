// The CT backgrounds the recipes insert synthetic nodules into: the chest phantom and the real scans of the
// shared data (../shared/data or NODUS_SAMPLE_DIR), each with its marked lesions to keep away from.
import fs from 'node:fs';
import path from 'node:path';
import {
  lidcCase,
  lungDxCase,
  phantomCase,
  unannotatedCase,
  type AnnotatedCase,
} from '../../src/evaluation/annotated-cases.js';
import { sampleDataDir } from '../../src/main/demo.js';

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
}

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
      backgrounds.push({ ...phantomCase(7), name, unmarkedLesion: false });
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
    backgrounds.push({ ...loaded, name, unmarkedLesion: name === 'cptac' });
  }
  return backgrounds;
}
