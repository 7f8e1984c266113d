import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../shared/errors.js';
import type { Vec3 } from '../volume/volume.js';
import { pixelToLps, type SliceGeometry } from './slice-geometry-index.js';

/**
 * One PASCAL-VOC box of the Lung-PET-CT-Dx annotations, in the pixel frame of its image: x = column,
 * y = row, 0-based; the bounds are read as the centres of the first and last pixels inside the box
 * (the data set does not say whether its corners are pixel edges or centres: +-1 pixel).
 */
export interface LungDxBox {
  /** Class label: A adenocarcinoma, B small cell, E large cell, G squamous cell carcinoma. */
  label: string;
  sopInstanceUid: string;
  /** The DICOM file name slice_map.txt gives for this image, when it lists it. */
  dicomFile: string | undefined;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** The tumour of one Lung_Dx series as its boxes outline it, in LPS mm. */
export interface LungDxTumour {
  label: string;
  /** Centre of `boxLps`, LPS mm. */
  centreLps: Vec3;
  /**
   * Axis-aligned LPS bounds of the box corners (pixel centres) on all annotated images; along the slice
   * axis it spans the centres of the first and last annotated images (not their slab edges).
   */
  boxLps: { min: Vec3; max: Vec3 };
  /** How many images carry a box. */
  slices: number;
  boxes: LungDxBox[];
}

/** Parses `slice_map.txt`: lines of "<dicom file name> <SOPInstanceUID>"; returns SOPInstanceUID -> file name. */
export function parseLungDxSliceMap(textContent: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of textContent.split(/\r?\n/)) {
    const [file, uid] = line.trim().split(/\s+/);
    if (file && uid) map.set(uid, file);
  }
  return map;
}

/** Parses one PASCAL-VOC annotation file; the image's SOPInstanceUID is the file's name. */
export function parseLungDxVocXml(xml: string, sopInstanceUid: string): Omit<LungDxBox, 'dicomFile'>[] {
  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    isArray: (name) => name === 'object',
  });
  const annotation = (parser.parse(xml) as { annotation?: { object?: unknown[] } }).annotation;
  if (!annotation) {
    throw new DomainError('VALIDATION_FAILED', `not a PASCAL-VOC annotation: ${sopInstanceUid}`);
  }
  return (annotation.object ?? []).map((object) => {
    const o = object as { name?: unknown; bndbox?: Record<string, unknown> };
    const coordinate = (name: string): number => {
      const raw = o.bndbox?.[name];
      const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '';
      const value = Number(text);
      if (text === '' || !Number.isFinite(value)) {
        throw new DomainError('VALIDATION_FAILED', `PASCAL-VOC box without ${name} in ${sopInstanceUid}`);
      }
      return value;
    };
    return {
      label: typeof o.name === 'string' ? o.name.trim() : '',
      sopInstanceUid,
      xmin: coordinate('xmin'),
      ymin: coordinate('ymin'),
      xmax: coordinate('xmax'),
      ymax: coordinate('ymax'),
    };
  });
}

/**
 * Reads every box under `<series>/annotations` (*.xml named by SOPInstanceUID, with slice_map.txt when
 * present) and places the tumour in LPS through the slice geometry of the series' images
 * (see indexSliceGeometry on `<series>/dicom`). Fails when a box lies on an image the geometry lacks.
 */
export async function readLungDxTumour(
  annotationsDir: string,
  geometry: ReadonlyMap<string, SliceGeometry>,
): Promise<LungDxTumour> {
  const names = (await fs.readdir(annotationsDir)).filter((name) => name.endsWith('.xml')).sort();
  let sliceMap = new Map<string, string>();
  try {
    sliceMap = parseLungDxSliceMap(await fs.readFile(path.join(annotationsDir, 'slice_map.txt'), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const boxes: LungDxBox[] = [];
  for (const name of names) {
    const uid = name.slice(0, -'.xml'.length);
    const xml = await fs.readFile(path.join(annotationsDir, name), 'utf8');
    for (const box of parseLungDxVocXml(xml, uid)) boxes.push({ ...box, dicomFile: sliceMap.get(uid) });
  }
  return lungDxTumour(boxes, geometry);
}

/** The tumour's LPS box, centre and slice count from its per-image pixel boxes. */
export function lungDxTumour(
  boxes: readonly LungDxBox[],
  geometry: ReadonlyMap<string, SliceGeometry>,
): LungDxTumour {
  if (boxes.length === 0) throw new DomainError('VALIDATION_FAILED', 'no Lung_Dx boxes');
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const box of boxes) {
    const image = geometry.get(box.sopInstanceUid);
    if (!image) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `Lung_Dx box on an image not in the series: ${box.sopInstanceUid}`,
        {
          context: { sopInstanceUid: box.sopInstanceUid },
        },
      );
    }
    for (const [x, y] of [
      [box.xmin, box.ymin],
      [box.xmax, box.ymin],
      [box.xmin, box.ymax],
      [box.xmax, box.ymax],
    ] as const) {
      const p = pixelToLps(image, x, y);
      for (let d = 0; d < 3; d++) {
        min[d] = Math.min(min[d]!, p[d]!);
        max[d] = Math.max(max[d]!, p[d]!);
      }
    }
  }
  const labels = [...new Set(boxes.map((b) => b.label))].sort();
  return {
    label: labels.join('+'),
    centreLps: [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2],
    boxLps: { min, max },
    slices: new Set(boxes.map((b) => b.sopInstanceUid)).size,
    boxes: [...boxes],
  };
}
