// The CT backgrounds the classifier recipe inserts synthetic nodules into: the chest phantom and the real
// scans of the shared data (../shared/data or NODUS_SAMPLE_DIR), each with its marked lesions to keep away from.
import fs from 'node:fs';
import path from 'node:path';
import {
  lidcCase,
  lungDxCase,
  phantomCase,
  type AnnotatedCase,
} from '../../src/evaluation/annotated-cases.js';
import { sampleDataDir } from '../../src/main/demo.js';

export interface Background {
  /** `phantom`, `lidc` or `lung-dx`: what --holdout names. */
  name: string;
  volume: AnnotatedCase['volume'];
  avoid: AnnotatedCase['avoid'];
}

export async function trainingBackgrounds(): Promise<Background[]> {
  const data = sampleDataDir(process.env.NODUS_SAMPLE_DIR);
  const backgrounds: Background[] = [{ ...phantomCase(7), name: 'phantom' }];
  const lidc = path.join(data, 'lidc/LIDC-IDRI-0001');
  const lungDx = path.join(data, 'lung-pet-ct-dx/Lung_Dx-A0001_5mm_L');
  if (fs.existsSync(lidc)) backgrounds.push({ ...(await lidcCase(lidc)), name: 'lidc' });
  else console.warn(`${lidc} missing: trained without it`);
  if (fs.existsSync(lungDx)) backgrounds.push({ ...(await lungDxCase(lungDx)), name: 'lung-dx' });
  else console.warn(`${lungDx} missing: trained without it`);
  return backgrounds;
}
