import fs from 'node:fs/promises';
import path from 'node:path';
import { listFiles } from '../dicom/part10-files.js';
import { buildChestPhantom } from '../phantom/chest-phantom.js';
import { reconstructSeries } from '../volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../volume/series-files.js';
import { PADDING_HU, type CtVolume, type Vec3 } from '../volume/volume.js';
import type { SizedFinding } from './froc.js';
import { lidcReferenceStandard, readLidcReaderXml, type ReferenceNodule } from './lidc-reader-xml.js';
import { readLungDxTumour, type LungDxTumour } from './lung-dx-annotations.js';
import { indexSliceGeometry } from './slice-geometry-index.js';

/** A CT with what experts marked in it, in its own LPS frame. */
export interface AnnotatedCase {
  name: string;
  volume: CtVolume;
  /** The reference standard: lesions a detector must find. */
  references: (SizedFinding & { readers?: ReferenceNodule['perReader'] })[];
  /** Marks where a detection is neither a hit nor a false positive (LUNA16's irrelevant findings). */
  irrelevant: SizedFinding[];
  /** Spheres around every mark: kept free of inserted nodules and of training samples. */
  avoid: { centreLps: Vec3; radiusMm: number }[];
  /** For a case annotated by boxes (Lung_Dx): the tumour's box, LPS mm. */
  boxLps?: LungDxTumour['boxLps'];
}

/** Extra clearance around marked lesions when keeping synthetic nodules and training samples away, mm. */
export const AVOID_MARGIN_MM = 15;

async function reconstructFolder(folder: string): Promise<CtVolume> {
  const files = await listFiles([folder]);
  const { volume, issues } = await reconstructSeries(readPart10FilesReusingBuffer(files), {
    expectedSlices: files.length,
    scratchInput: true,
  });
  if (!volume) throw new Error(`${folder}: no volume (${issues.map((i) => i.message).join('; ')})`);
  return volume;
}

/**
 * An LIDC-IDRI case folder (DICOM series plus the reader XML anywhere below it): the LUNA16 reference
 * standard (nodules >= 3 mm outlined by >= 3 of 4 readers) and its irrelevant findings.
 */
export async function lidcCase(folder: string): Promise<AnnotatedCase> {
  const xml = (await listFiles([folder])).find((file) => file.endsWith('.xml'));
  if (!xml) throw new Error(`${folder}: no LIDC reader XML below it`);
  const [volume, geometry, readings] = await Promise.all([
    reconstructFolder(folder),
    indexSliceGeometry(folder),
    readLidcReaderXml(xml),
  ]);
  const standard = lidcReferenceStandard(readings, geometry);
  const references = standard.nodules.map((n) => ({
    id: n.id,
    centreLps: n.centreLps,
    diameterMm: n.diameterMm,
    readers: n.perReader,
  }));
  const irrelevant = standard.irrelevant.map((f) => ({ centreLps: f.centreLps, diameterMm: f.diameterMm }));
  return {
    name: path.basename(folder),
    volume,
    references,
    irrelevant,
    avoid: [...references, ...irrelevant].map((f) => ({
      centreLps: f.centreLps,
      radiusMm: f.diameterMm / 2 + AVOID_MARGIN_MM,
    })),
  };
}

/** A Lung-PET-CT-Dx case folder (`dicom/` and `annotations/`): the tumour from its boxes. */
export async function lungDxCase(folder: string): Promise<AnnotatedCase> {
  const dicom = path.join(folder, 'dicom');
  const [volume, geometry] = await Promise.all([reconstructFolder(dicom), indexSliceGeometry(dicom)]);
  const tumour = await readLungDxTumour(path.join(folder, 'annotations'), geometry);
  const extent = tumour.boxLps.max.map((v, a) => v - tumour.boxLps.min[a]!);
  const diameterMm = Math.max(...extent.slice(0, 2));
  return {
    name: path.basename(folder),
    volume,
    references: [{ id: `tumour-${tumour.label}`, centreLps: tumour.centreLps, diameterMm }],
    irrelevant: [],
    avoid: [{ centreLps: tumour.centreLps, radiusMm: Math.hypot(...extent) / 2 + AVOID_MARGIN_MM }],
    boxLps: tumour.boxLps,
  };
}

/**
 * A CT folder without annotations (CPTAC C3N-00247: a lung adenocarcinoma nobody marked): no references,
 * nothing to avoid. A finding on it is neither a hit nor known to be false.
 */
export async function unannotatedCase(folder: string): Promise<AnnotatedCase> {
  return {
    name: path.basename(folder),
    volume: await reconstructFolder(folder),
    references: [],
    irrelevant: [],
    avoid: [],
  };
}

/** Whether a point lies in the case's annotated box, grown by `marginMm` (Lung_Dx: the tumour was found). */
export function insideBox(
  boxLps: NonNullable<AnnotatedCase['boxLps']>,
  point: Vec3,
  marginMm: number,
): boolean {
  return point.every((v, a) => v >= boxLps.min[a]! - marginMm && v <= boxLps.max[a]! + marginMm);
}

/** The synthetic chest phantom as a case: its nodules are the references. */
export function phantomCase(seed = 1): AnnotatedCase {
  const phantom = buildChestPhantom({ seed });
  const hu = Int16Array.from(phantom.hu, (v, i) => (phantom.paddingMask[i] ? PADDING_HU : v));
  const volume: CtVolume = {
    dimensions: phantom.dimensions,
    spacingMm: [phantom.pixelSpacingMm, phantom.pixelSpacingMm, phantom.sliceSpacingMm],
    originLps: phantom.originLps,
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    hu,
    paddingVoxels: phantom.paddingMask.reduce((n, v) => n + v, 0),
  };
  const references = phantom.nodules.map((n, k) => ({
    id: `phantom-${k}`,
    centreLps: n.centreLps,
    diameterMm: n.diameterMm,
  }));
  return {
    name: `phantom-${seed}`,
    volume,
    references,
    irrelevant: [],
    avoid: references.map((r) => ({ centreLps: r.centreLps, radiusMm: r.diameterMm / 2 + AVOID_MARGIN_MM })),
  };
}

/** Which annotated-case reader fits a folder: LIDC (reader XML below it) or Lung_Dx (`annotations/`). */
export async function annotatedCase(folder: string): Promise<AnnotatedCase> {
  const hasAnnotations = await fs
    .stat(path.join(folder, 'annotations'))
    .then((s) => s.isDirectory())
    .catch(() => false);
  return hasAnnotations ? lungDxCase(folder) : lidcCase(folder);
}
