import fs from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../shared/errors.js';
import { dot, norm, sub } from '../volume/vec3.js';
import type { Vec3 } from '../volume/volume.js';
import { pixelToLps, sliceNormal, sliceSpacingMm, type SliceGeometry } from './slice-geometry-index.js';

/**
 * A point of an LIDC edge map or locus, in the pixel frame of its image: x = column, y = row, 0-based,
 * integer values at pixel centres (the frame of {@link pixelToLps}).
 */
export interface LidcPixelPoint {
  x: number;
  y: number;
}

/** One outline (or, for a nodule < 3 mm, one point) drawn by a reader on one image. */
export interface LidcRoi {
  /** The image's z (ImagePositionPatient[2]) as the reader file states it, mm. */
  imageZposition: number;
  imageSopUid: string;
  /** TRUE: the outline encloses nodule; FALSE: it cuts a hole out of an enclosing outline. */
  inclusion: boolean;
  edgeMap: LidcPixelPoint[];
}

/** A reader's `unblindedReadNodule`: a nodule >= 3 mm (outlines, characteristics) or < 3 mm (one point). */
export interface LidcNoduleMark {
  noduleId: string;
  /** Ratings by name (subtlety, internalStructure, calcification, sphericity, margin, lobulation, spiculation, texture, malignancy 1-5); absent for nodules < 3 mm. */
  characteristics: Record<string, number> | undefined;
  rois: LidcRoi[];
}

/** A reader's `nonNodule`: a point on something the reader judged not to be a nodule. */
export interface LidcNonNoduleMark {
  nonNoduleId: string;
  imageZposition: number;
  imageSopUid: string;
  locus: LidcPixelPoint;
}

/** One radiologist's `readingSession`. */
export interface LidcReadingSession {
  /** 0-based position of the session in the file: the reader's identity within this scan. */
  reader: number;
  /** Anonymised radiologist id (not unique across scans; may be absent). */
  servicingRadiologistId: string | undefined;
  nodules: LidcNoduleMark[];
  nonNodules: LidcNonNoduleMark[];
}

/** The content of one LIDC reader XML file (`LidcReadMessage`, namespace http://www.nih.gov). */
export interface LidcReadMessage {
  seriesInstanceUid: string | undefined;
  studyInstanceUid: string | undefined;
  sessions: LidcReadingSession[];
}

const ARRAY_TAGS = new Set(['readingSession', 'unblindedReadNodule', 'roi', 'edgeMap', 'nonNodule']);

type XmlNode = Record<string, unknown>;

/**
 * Parses an LIDC reader XML document. Values are kept as text where they are identifiers (UIDs, ids) and
 * read as numbers where they are coordinates or ratings. Chest-radiograph sessions (`CXRreadingSession`)
 * are ignored.
 */
export function parseLidcReaderXml(xml: string): LidcReadMessage {
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: true,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  let document: XmlNode;
  try {
    document = parser.parse(xml) as XmlNode;
  } catch (error) {
    throw new DomainError('VALIDATION_FAILED', `not a readable LIDC reader XML: ${String(error)}`, {
      cause: error,
    });
  }
  const message = document.LidcReadMessage as XmlNode | undefined;
  if (!message || typeof message !== 'object') {
    throw new DomainError('VALIDATION_FAILED', 'not an LIDC reader XML: no LidcReadMessage element');
  }
  const header = (message.ResponseHeader ?? {}) as XmlNode;
  const sessions = nodes(message.readingSession).map((session, reader) => ({
    reader,
    servicingRadiologistId: text(session.servicingRadiologistID),
    nodules: nodes(session.unblindedReadNodule).map(noduleMark),
    nonNodules: nodes(session.nonNodule).map(nonNoduleMark),
  }));
  return {
    seriesInstanceUid: text(header.SeriesInstanceUid),
    studyInstanceUid: text(header.StudyInstanceUID),
    sessions,
  };
}

/** Reads and parses an LIDC reader XML file. */
export async function readLidcReaderXml(file: string): Promise<LidcReadMessage> {
  return parseLidcReaderXml(await fs.readFile(file, 'utf8'));
}

function noduleMark(node: XmlNode): LidcNoduleMark {
  const characteristics = node.characteristics;
  let ratings: Record<string, number> | undefined;
  if (characteristics && typeof characteristics === 'object') {
    ratings = {};
    for (const [name, value] of Object.entries(characteristics as XmlNode)) {
      const n = Number(text(value));
      if (text(value) !== undefined && Number.isFinite(n)) ratings[name] = n;
    }
  }
  return {
    noduleId: text(node.noduleID) ?? '',
    characteristics: ratings,
    rois: nodes(node.roi).map((roi) => ({
      imageZposition: number(roi.imageZposition, 'imageZposition'),
      imageSopUid: text(roi.imageSOP_UID) ?? '',
      inclusion: (text(roi.inclusion) ?? 'TRUE').toUpperCase() !== 'FALSE',
      edgeMap: nodes(roi.edgeMap).map(point),
    })),
  };
}

function nonNoduleMark(node: XmlNode): LidcNonNoduleMark {
  return {
    nonNoduleId: text(node.nonNoduleID) ?? '',
    imageZposition: number(node.imageZposition, 'imageZposition'),
    imageSopUid: text(node.imageSOP_UID) ?? '',
    locus: point((node.locus ?? {}) as XmlNode),
  };
}

function point(node: XmlNode): LidcPixelPoint {
  return { x: number(node.xCoord, 'xCoord'), y: number(node.yCoord, 'yCoord') };
}

function nodes(value: unknown): XmlNode[] {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).filter(
    (item): item is XmlNode => typeof item === 'object' && item !== null,
  );
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function number(value: unknown, what: string): number {
  const n = Number(text(value));
  if (text(value) === undefined || !Number.isFinite(n)) {
    throw new DomainError('VALIDATION_FAILED', `LIDC reader XML: ${what} missing or not a number`, {
      context: { element: what },
    });
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Per-reader measurements

/** One reader's measurement of one nodule >= 3 mm from its outlines (inclusion=TRUE outlines only for the axes). */
export interface ReaderNoduleMeasurement {
  reader: number;
  noduleId: string;
  /** Longest distance between two outline points on any one image, mm. */
  longAxisMm: number;
  /**
   * Longest distance between two outline points on the same image whose connecting line lies within
   * {@link PERPENDICULAR_TOLERANCE_DEG} of perpendicular to the long axis, mm (0 when there is none).
   */
  shortAxisMm: number;
  /** (long + short) / 2, mm. */
  meanDiameterMm: number;
  /**
   * Sum over images of (inclusion outline areas - exclusion outline areas) x slice spacing, mm³. The outline
   * joins the centres of the boundary pixels, so the area misses about half a pixel around the edge.
   */
  volumeMm3: number;
  /** Area-weighted centroid of the outlines' enclosed regions, LPS mm (mean of the points if they enclose no area). */
  centroidLps: Vec3;
  malignancy: number | undefined;
}

/** The short axis may deviate this much from perpendicular to the long axis (outline points lie on a pixel grid). */
export const PERPENDICULAR_TOLERANCE_DEG = 5;

/** Finds an image by SOPInstanceUID, else by z position (some LIDC files carry stale UIDs). */
function imageOf(
  roi: { imageSopUid: string; imageZposition: number },
  geometry: ReadonlyMap<string, SliceGeometry>,
): SliceGeometry {
  const byUid = geometry.get(roi.imageSopUid);
  if (byUid) return byUid;
  let best: SliceGeometry | undefined;
  let bestGap = Infinity;
  for (const g of geometry.values()) {
    const gap = Math.abs(g.positionLps[2] - roi.imageZposition);
    if (gap < bestGap) {
      best = g;
      bestGap = gap;
    }
  }
  if (!best || bestGap > 0.01) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `LIDC mark on an image not in the series: ${roi.imageSopUid}`,
      {
        context: { imageSopUid: roi.imageSopUid, imageZposition: roi.imageZposition },
      },
    );
  }
  return best;
}

/** Signed area (pixel²) and area-weighted centroid (pixel frame) of a closed polygon (shoelace). */
function polygonMoments(points: readonly LidcPixelPoint[]): { area: number; cx: number; cy: number } {
  let twiceArea = 0;
  let cx = 0;
  let cy = 0;
  for (let n = 0; n < points.length; n++) {
    const a = points[n]!;
    const b = points[(n + 1) % points.length]!;
    const crossTerm = a.x * b.y - b.x * a.y;
    twiceArea += crossTerm;
    cx += (a.x + b.x) * crossTerm;
    cy += (a.y + b.y) * crossTerm;
  }
  const area = twiceArea / 2;
  return area === 0 ? { area: 0, cx: 0, cy: 0 } : { area, cx: cx / (6 * area), cy: cy / (6 * area) };
}

/**
 * Measures one reader's outlined nodule: axial long and short axes on the image where the long axis is
 * longest, mean diameter, volume and centroid. Returns undefined for a mark without an outline (a single
 * point, as for nodules < 3 mm).
 */
export function measureReaderNodule(
  mark: LidcNoduleMark,
  reader: number,
  geometry: ReadonlyMap<string, SliceGeometry>,
  spacingMm: number,
): ReaderNoduleMeasurement | undefined {
  if (!isOutlined(mark)) return undefined;
  const cosTolerance = Math.sin((PERPENDICULAR_TOLERANCE_DEG * Math.PI) / 180);
  let longAxisMm = 0;
  let shortAxisMm = 0;
  let areaMm2Total = 0;
  const moment: Vec3 = [0, 0, 0];
  const included: Vec3[] = [];

  const bySlice = new Map<SliceGeometry, LidcRoi[]>();
  for (const roi of mark.rois) {
    const image = imageOf(roi, geometry);
    bySlice.set(image, [...(bySlice.get(image) ?? []), roi]);
  }
  for (const [image, rois] of bySlice) {
    const pixelArea = image.pixelSpacingMm[0] * image.pixelSpacingMm[1];
    for (const roi of rois) {
      const { area, cx, cy } = polygonMoments(roi.edgeMap);
      const areaMm2 = Math.abs(area) * pixelArea * (roi.inclusion ? 1 : -1);
      if (areaMm2 !== 0) {
        const c = pixelToLps(image, cx, cy);
        for (let d = 0; d < 3; d++) moment[d]! += areaMm2 * c[d]!;
        areaMm2Total += areaMm2;
      }
    }
    const points = rois
      .filter((roi) => roi.inclusion)
      .flatMap((roi) => roi.edgeMap.map((p) => pixelToLps(image, p.x, p.y)));
    included.push(...points);
    const axes = axialAxes(points, cosTolerance);
    if (axes.longMm > longAxisMm) {
      longAxisMm = axes.longMm;
      shortAxisMm = axes.shortMm;
    }
  }
  const centroidLps: Vec3 =
    areaMm2Total > 0
      ? [moment[0] / areaMm2Total, moment[1] / areaMm2Total, moment[2] / areaMm2Total]
      : meanOf(included);
  return {
    reader,
    noduleId: mark.noduleId,
    longAxisMm,
    shortAxisMm,
    meanDiameterMm: (longAxisMm + shortAxisMm) / 2,
    volumeMm3: Math.max(0, areaMm2Total) * spacingMm,
    centroidLps,
    malignancy: mark.characteristics?.malignancy,
  };
}

/** Long axis: the farthest pair of points; short axis: the farthest pair (nearly) perpendicular to it. */
function axialAxes(points: readonly Vec3[], cosTolerance: number): { longMm: number; shortMm: number } {
  let longMm = 0;
  let axis: Vec3 | undefined;
  for (let a = 0; a < points.length; a++) {
    for (let b = a + 1; b < points.length; b++) {
      const d = sub(points[b]!, points[a]!);
      const length = norm(d);
      if (length > longMm) {
        longMm = length;
        axis = d;
      }
    }
  }
  if (!axis) return { longMm: 0, shortMm: 0 };
  let shortMm = 0;
  for (let a = 0; a < points.length; a++) {
    for (let b = a + 1; b < points.length; b++) {
      const d = sub(points[b]!, points[a]!);
      const length = norm(d);
      if (length > shortMm && Math.abs(dot(d, axis)) <= cosTolerance * length * longMm) shortMm = length;
    }
  }
  return { longMm, shortMm };
}

function meanOf(points: readonly Vec3[]): Vec3 {
  const sum: Vec3 = [0, 0, 0];
  for (const p of points) for (let d = 0; d < 3; d++) sum[d]! += p[d]!;
  const n = Math.max(1, points.length);
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

/** A mark with an outline: some inclusion ROI has more than one edge point (nodules < 3 mm carry one point). */
function isOutlined(mark: LidcNoduleMark): boolean {
  return mark.rois.some((roi) => roi.inclusion && roi.edgeMap.length > 1);
}

// ---------------------------------------------------------------------------------------------------------
// Marks, clusters and the LUNA16 reference standard

/** One reader's mark, located in LPS. */
export interface ReaderMark {
  reader: number;
  /** `nodule`: outlined (>= 3 mm); `small-nodule`: one point (< 3 mm); `non-nodule`: a nonNodule locus. */
  kind: 'nodule' | 'small-nodule' | 'non-nodule';
  /** noduleID or nonNoduleID as the reader file gives it. */
  markId: string;
  /** Outline centroid (nodule) or the marked point (others), LPS mm. */
  centreLps: Vec3;
  /** Outlined nodules only. */
  measurement: ReaderNoduleMeasurement | undefined;
}

/** Every reader's marks located in LPS through the series' slice geometry. */
export function lidcReaderMarks(
  readings: LidcReadMessage,
  geometry: ReadonlyMap<string, SliceGeometry>,
): ReaderMark[] {
  const spacing = sliceSpacingMm(geometry) ?? 0;
  const marks: ReaderMark[] = [];
  for (const session of readings.sessions) {
    for (const nodule of session.nodules) {
      const measurement = measureReaderNodule(nodule, session.reader, geometry, spacing);
      if (measurement) {
        marks.push({
          reader: session.reader,
          kind: 'nodule',
          markId: nodule.noduleId,
          centreLps: measurement.centroidLps,
          measurement,
        });
      } else {
        const points = nodule.rois.flatMap((roi) => {
          const image = imageOf(roi, geometry);
          return roi.edgeMap.map((p) => pixelToLps(image, p.x, p.y));
        });
        if (points.length === 0) continue;
        marks.push({
          reader: session.reader,
          kind: 'small-nodule',
          markId: nodule.noduleId,
          centreLps: meanOf(points),
          measurement: undefined,
        });
      }
    }
    for (const mark of session.nonNodules) {
      marks.push({
        reader: session.reader,
        kind: 'non-nodule',
        markId: mark.nonNoduleId,
        centreLps: pixelToLps(imageOf(mark, geometry), mark.locus.x, mark.locus.y),
        measurement: undefined,
      });
    }
  }
  return marks;
}

/** A nodule of the reference standard: >= 3 mm and outlined by at least `minReaders` readers. */
export interface ReferenceNodule {
  id: string;
  /** Mean of the outlining readers' centroids, LPS mm. */
  centreLps: Vec3;
  /** Mean over the outlining readers of each one's axial mean diameter, mm. */
  diameterMm: number;
  /** How many readers outlined it (as a nodule >= 3 mm). */
  readers: number;
  perReader: {
    reader: number;
    noduleId: string;
    longAxisMm: number;
    shortAxisMm: number;
    meanDiameterMm: number;
    volumeMm3: number;
  }[];
  /** Mean malignancy rating (1-5) of the outlining readers that rated it; undefined if none did. */
  malignancy: number | undefined;
}

/**
 * A mark outside the reference standard: detections within it are neither hits nor false positives.
 * `diameterMm` is the reader's mean diameter for an outlined nodule and 0 for point marks (nodules < 3 mm,
 * non-nodules), whose size is unknown: the scorer's minimum radius applies to them.
 */
export interface IrrelevantFinding {
  centreLps: Vec3;
  diameterMm: number;
  reason: 'fewer-readers' | 'small-nodule' | 'non-nodule';
  reader: number;
  markId: string;
  /** The cluster (physical nodule) the mark belongs to; undefined for non-nodules, which are not clustered. */
  cluster: string | undefined;
  /** How many readers marked that cluster (any size); 1 for non-nodules. */
  clusterReaders: number;
}

export interface ReferenceStandardOptions {
  /** Readers that must outline a nodule for it to enter the reference standard (LUNA16: 3 of 4). */
  minReaders?: number;
  /**
   * Two marks of different readers belong to one nodule when their centres lie within the larger of their
   * radii (half the mean diameter; 0 for point marks) or within this distance, mm (default 4: about a
   * pixel or two in plane plus a slice of 2.5 mm between readers' clicks on a small nodule).
   */
  linkToleranceMm?: number;
}

/**
 * The LUNA16 reference standard of one scan from its LIDC reader marks.
 *
 * 1. Nodule marks (outlined and point marks) of all readers are clustered into physical nodules: pairs of
 *    marks from different readers that satisfy the link rule ({@link ReferenceStandardOptions.linkToleranceMm})
 *    are merged closest first (single linkage), never letting a reader contribute two marks to one cluster.
 * 2. A cluster outlined (>= 3 mm) by at least `minReaders` readers is a {@link ReferenceNodule}.
 * 3. Every other mark is an {@link IrrelevantFinding}: outlined nodules of clusters with fewer readers,
 *    nodules < 3 mm, and non-nodules (not clustered). Point marks inside a reference cluster are dropped
 *    (the reference nodule covers them).
 */
export function lidcReferenceStandard(
  readings: LidcReadMessage,
  geometry: ReadonlyMap<string, SliceGeometry>,
  options: ReferenceStandardOptions = {},
): { nodules: ReferenceNodule[]; irrelevant: IrrelevantFinding[] } {
  const minReaders = options.minReaders ?? 3;
  const tolerance = options.linkToleranceMm ?? 4;
  const marks = lidcReaderMarks(readings, geometry);
  const noduleMarks = marks.filter((m) => m.kind !== 'non-nodule');
  const clusters = clusterMarks(noduleMarks, tolerance);

  const nodules: ReferenceNodule[] = [];
  const irrelevant: IrrelevantFinding[] = [];
  let next = 1;
  for (const cluster of clusters) {
    const outlined = cluster
      .map((m) => m.measurement)
      .filter((m): m is ReaderNoduleMeasurement => m !== undefined)
      .sort((a, b) => a.reader - b.reader);
    const id = `nodule-${next++}`;
    if (outlined.length >= minReaders) {
      const rated = outlined.map((m) => m.malignancy).filter((m): m is number => m !== undefined);
      nodules.push({
        id,
        centreLps: meanOf(outlined.map((m) => m.centroidLps)),
        diameterMm: outlined.reduce((s, m) => s + m.meanDiameterMm, 0) / outlined.length,
        readers: outlined.length,
        perReader: outlined.map(
          ({ reader, noduleId, longAxisMm, shortAxisMm, meanDiameterMm, volumeMm3 }) => ({
            reader,
            noduleId,
            longAxisMm,
            shortAxisMm,
            meanDiameterMm,
            volumeMm3,
          }),
        ),
        malignancy: rated.length > 0 ? rated.reduce((s, m) => s + m, 0) / rated.length : undefined,
      });
      continue;
    }
    for (const mark of cluster) {
      irrelevant.push({
        centreLps: mark.centreLps,
        diameterMm: mark.measurement?.meanDiameterMm ?? 0,
        reason: mark.kind === 'nodule' ? 'fewer-readers' : 'small-nodule',
        reader: mark.reader,
        markId: mark.markId,
        cluster: id,
        clusterReaders: cluster.length,
      });
    }
  }
  for (const mark of marks.filter((m) => m.kind === 'non-nodule')) {
    irrelevant.push({
      centreLps: mark.centreLps,
      diameterMm: 0,
      reason: 'non-nodule',
      reader: mark.reader,
      markId: mark.markId,
      cluster: undefined,
      clusterReaders: 1,
    });
  }
  return { nodules, irrelevant };
}

/** Greedy single-linkage clustering, closest pairs first, at most one mark per reader in a cluster. */
function clusterMarks(marks: readonly ReaderMark[], toleranceMm: number): ReaderMark[][] {
  const radius = (m: ReaderMark) => (m.measurement?.meanDiameterMm ?? 0) / 2;
  const pairs: { a: number; b: number; distance: number }[] = [];
  for (let a = 0; a < marks.length; a++) {
    for (let b = a + 1; b < marks.length; b++) {
      const ma = marks[a]!;
      const mb = marks[b]!;
      if (ma.reader === mb.reader) continue;
      const distance = norm(sub(ma.centreLps, mb.centreLps));
      if (distance <= Math.max(radius(ma), radius(mb), toleranceMm)) pairs.push({ a, b, distance });
    }
  }
  pairs.sort((p, q) => p.distance - q.distance || p.a - q.a || p.b - q.b);

  const parent = marks.map((_, n) => n);
  const readers = marks.map((m) => new Set([m.reader]));
  const root = (n: number): number => {
    while (parent[n] !== n) n = parent[n] = parent[parent[n]!]!;
    return n;
  };
  for (const { a, b } of pairs) {
    const ra = root(a);
    const rb = root(b);
    if (ra === rb) continue;
    const [ta, tb] = [readers[ra]!, readers[rb]!];
    if ([...tb].some((r) => ta.has(r))) continue;
    const [keep, drop] = ra < rb ? [ra, rb] : [rb, ra];
    parent[drop] = keep;
    for (const r of readers[drop]!) readers[keep]!.add(r);
  }
  const groups = new Map<number, ReaderMark[]>();
  marks.forEach((mark, n) => {
    const r = root(n);
    groups.set(r, [...(groups.get(r) ?? []), mark]);
  });
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/** Whether a point lies inside the imaged block of a series (in plane and between the outer slice centres). */
export function isInsideSeries(pointLps: Vec3, geometry: ReadonlyMap<string, SliceGeometry>): boolean {
  const images = [...geometry.values()];
  const first = images[0];
  if (!first) return false;
  const normal = sliceNormal(first);
  const heights = images.map((g) => dot(g.positionLps, normal));
  const h = dot(pointLps, normal);
  if (h < Math.min(...heights) || h > Math.max(...heights)) return false;
  const offset = sub(pointLps, first.positionLps);
  const x = dot(offset, first.rowDirection) / first.pixelSpacingMm[1];
  const y = dot(offset, first.columnDirection) / first.pixelSpacingMm[0];
  return x >= -0.5 && x <= first.columns - 0.5 && y >= -0.5 && y <= first.rows - 0.5;
}
