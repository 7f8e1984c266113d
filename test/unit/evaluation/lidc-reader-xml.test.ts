import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isInsideSeries,
  lidcReferenceStandard,
  measureReaderNodule,
  parseLidcReaderXml,
  readLidcReaderXml,
  type LidcNoduleMark,
  type LidcReadMessage,
  type LidcReadingSession,
} from '../../../src/evaluation/lidc-reader-xml.js';
import {
  indexSliceGeometry,
  pixelToLps,
  sliceSpacingMm,
  type SliceGeometry,
} from '../../../src/evaluation/slice-geometry-index.js';
import { listFiles } from '../../../src/dicom/part10-files.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../../../src/volume/series-files.js';
import type { CtVolume, Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

/** Three axial slices 2.5 mm apart; pixels 1 mm between columns (x) and 0.5 mm between rows (y). */
const slices = new Map<string, SliceGeometry>(
  [0, 1, 2, 3, 4, 5].map((k) => [
    `1.2.${k}`,
    {
      sopInstanceUid: `1.2.${k}`,
      frameNumber: 1,
      positionLps: [-10, -20, 2.5 * k],
      rowDirection: [1, 0, 0],
      columnDirection: [0, 1, 0],
      pixelSpacingMm: [0.5, 1],
      rows: 512,
      columns: 512,
    },
  ]),
);

/** Boundary pixels of an axis-aligned square of `sizeMm` with its corner at pixel (x0, y0), one pixel apart. */
function squareOutline(x0: number, y0: number, sizeMm: number): { x: number; y: number }[] {
  const w = sizeMm; // columns, 1 mm each
  const h = 2 * sizeMm; // rows, 0.5 mm each
  const points: { x: number; y: number }[] = [];
  for (let x = 0; x < w; x++) points.push({ x: x0 + x, y: y0 });
  for (let y = 0; y < h; y++) points.push({ x: x0 + w, y: y0 + y });
  for (let x = w; x > 0; x--) points.push({ x: x0 + x, y: y0 + h });
  for (let y = h; y > 0; y--) points.push({ x: x0, y: y0 + y });
  return points;
}

function outlinedNodule(
  id: string,
  x0: number,
  y0: number,
  sizeMm: number,
  sliceIndices: number[],
): LidcNoduleMark {
  return {
    noduleId: id,
    characteristics: { malignancy: 3 },
    rois: sliceIndices.map((k) => ({
      imageZposition: 2.5 * k,
      imageSopUid: `1.2.${k}`,
      inclusion: true,
      edgeMap: squareOutline(x0, y0, sizeMm),
    })),
  };
}

function pointNodule(id: string, x: number, y: number, k: number): LidcNoduleMark {
  return {
    noduleId: id,
    characteristics: undefined,
    rois: [{ imageZposition: 2.5 * k, imageSopUid: `1.2.${k}`, inclusion: true, edgeMap: [{ x, y }] }],
  };
}

function session(
  reader: number,
  nodules: LidcNoduleMark[],
  nonNodules: LidcReadingSession['nonNodules'] = [],
) {
  return { reader, servicingRadiologistId: undefined, nodules, nonNodules };
}

describe('slice geometry', () => {
  it('maps column x along the row direction by the column spacing and row y by the row spacing', () => {
    const g = slices.get('1.2.2')!;
    expect(pixelToLps(g, 0, 0)).toEqual([-10, -20, 5]);
    expect(pixelToLps(g, 4, 6)).toEqual([-6, -17, 5]);
    expect(pixelToLps({ ...g, rowDirection: [0, 1, 0], columnDirection: [0, 0, -1] }, 2, 2)).toEqual([
      -10, -18, 4,
    ]);
    expect(sliceSpacingMm(slices)).toBe(2.5);
  });
});

describe('parseLidcReaderXml', () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<LidcReadMessage xmlns="http://www.nih.gov" uid="x">
  <ResponseHeader><SeriesInstanceUid>1.2.3</SeriesInstanceUid><StudyInstanceUID>1.2.4</StudyInstanceUID></ResponseHeader>
  <readingSession>
    <servicingRadiologistID>0123</servicingRadiologistID>
    <unblindedReadNodule>
      <noduleID>007</noduleID>
      <characteristics><subtlety>4</subtlety><malignancy>2</malignancy></characteristics>
      <roi>
        <imageZposition>-12.5 </imageZposition>
        <imageSOP_UID>1.2.840.10</imageSOP_UID>
        <inclusion>FALSE</inclusion>
        <edgeMap><xCoord>10</xCoord><yCoord>20</yCoord></edgeMap>
        <edgeMap><xCoord>11</xCoord><yCoord>21</yCoord></edgeMap>
      </roi>
    </unblindedReadNodule>
    <nonNodule>
      <nonNoduleID>nn1</nonNoduleID>
      <imageZposition>-15.0</imageZposition>
      <imageSOP_UID>1.2.840.11</imageSOP_UID>
      <locus><xCoord>5</xCoord><yCoord>6</yCoord></locus>
    </nonNodule>
  </readingSession>
  <readingSession><servicingRadiologistID>9</servicingRadiologistID></readingSession>
</LidcReadMessage>`;

  it('keeps identifiers as text and reads coordinates and ratings as numbers', () => {
    const message = parseLidcReaderXml(xml);
    expect(message.seriesInstanceUid).toBe('1.2.3');
    expect(message.studyInstanceUid).toBe('1.2.4');
    expect(message.sessions).toHaveLength(2);
    const [first, second] = message.sessions;
    expect(first!.servicingRadiologistId).toBe('0123');
    expect(first!.nodules).toEqual([
      {
        noduleId: '007',
        characteristics: { subtlety: 4, malignancy: 2 },
        rois: [
          {
            imageZposition: -12.5,
            imageSopUid: '1.2.840.10',
            inclusion: false,
            edgeMap: [
              { x: 10, y: 20 },
              { x: 11, y: 21 },
            ],
          },
        ],
      },
    ]);
    expect(first!.nonNodules).toEqual([
      { nonNoduleId: 'nn1', imageZposition: -15, imageSopUid: '1.2.840.11', locus: { x: 5, y: 6 } },
    ]);
    expect(second).toEqual({ reader: 1, servicingRadiologistId: '9', nodules: [], nonNodules: [] });
  });

  it('rejects a document that is not an LIDC read message', () => {
    expect(() => parseLidcReaderXml('<annotation/>')).toThrow(/LidcReadMessage/);
  });
});

describe('measureReaderNodule', () => {
  it('measures a 10 mm square outlined on two slices', () => {
    const m = measureReaderNodule(outlinedNodule('n', 100, 100, 10, [1, 2]), 0, slices, 2.5)!;
    expect(m.longAxisMm).toBeCloseTo(10 * Math.SQRT2, 9);
    expect(m.shortAxisMm).toBeCloseTo(10 * Math.SQRT2, 9); // the other diagonal is perpendicular
    expect(m.meanDiameterMm).toBeCloseTo(10 * Math.SQRT2, 9);
    expect(m.volumeMm3).toBeCloseTo(100 * 2 * 2.5, 9);
    // Centre of the square: pixel (105, 110) -> (-10 + 105, -20 + 55), between z 2.5 and 5.
    expect(m.centroidLps[0]).toBeCloseTo(95, 9);
    expect(m.centroidLps[1]).toBeCloseTo(35, 9);
    expect(m.centroidLps[2]).toBeCloseTo(3.75, 9);
    expect(m.malignancy).toBe(3);
  });

  it('takes the axes on the slice with the longest axis, and subtracts exclusion outlines from the volume', () => {
    const mark = outlinedNodule('n', 100, 100, 10, [1]);
    mark.rois.push(
      { imageZposition: 5, imageSopUid: '1.2.2', inclusion: true, edgeMap: squareOutline(100, 100, 20) },
      { imageZposition: 5, imageSopUid: '1.2.2', inclusion: false, edgeMap: squareOutline(104, 108, 4) },
    );
    const m = measureReaderNodule(mark, 0, slices, 2.5)!;
    expect(m.longAxisMm).toBeCloseTo(20 * Math.SQRT2, 9);
    expect(m.volumeMm3).toBeCloseTo((100 + 400 - 16) * 2.5, 9);
  });

  it('gives no measurement for a single point (a nodule < 3 mm)', () => {
    expect(measureReaderNodule(pointNodule('p', 5, 5, 1), 0, slices, 2.5)).toBeUndefined();
  });
});

describe('lidcReferenceStandard on synthetic readings', () => {
  // Nodule X (10 mm, centre near pixel (105, 110)) outlined by readers 0-2, with shifts of 1-2 mm;
  // reader 3 marks it with a point. Nodule Y (6 mm, far away) outlined by readers 0 and 1 only.
  // Reader 2 marks two points 1 mm apart near reader 0's point nodule. Reader 1 marks a non-nodule.
  const readings: LidcReadMessage = {
    seriesInstanceUid: undefined,
    studyInstanceUid: undefined,
    sessions: [
      session(0, [
        outlinedNodule('X0', 100, 100, 10, [1, 2]),
        outlinedNodule('Y0', 300, 300, 6, [4]),
        pointNodule('p0', 400, 50, 3),
      ]),
      session(
        1,
        [outlinedNodule('X1', 101, 102, 10, [1, 2]), outlinedNodule('Y1', 301, 300, 6, [4])],
        [{ nonNoduleId: 'nn', imageZposition: 0, imageSopUid: '1.2.0', locus: { x: 200, y: 20 } }],
      ),
      session(2, [
        outlinedNodule('X2', 102, 100, 10, [2, 3]),
        pointNodule('p2a', 401, 50, 3),
        pointNodule('p2b', 402, 50, 3),
      ]),
      session(3, [pointNodule('X3', 105, 110, 2)]),
    ],
  };

  it('keeps nodules outlined by >= 3 readers and makes every other mark irrelevant', () => {
    const { nodules, irrelevant } = lidcReferenceStandard(readings, slices);
    expect(nodules).toHaveLength(1);
    const x = nodules[0]!;
    expect(x.readers).toBe(3);
    expect(x.perReader.map((r) => r.noduleId)).toEqual(['X0', 'X1', 'X2']);
    expect(x.diameterMm).toBeCloseTo(10 * Math.SQRT2, 9);
    expect(x.malignancy).toBe(3);
    // Mean of the centroids: x (95 + 96 + 97) / 3, y (35 + 36 + 35) / 3, z (3.75 + 3.75 + 6.25) / 3.
    expect(x.centreLps[0]).toBeCloseTo(96, 9);
    expect(x.centreLps[1]).toBeCloseTo(106 / 3, 9);
    expect(x.centreLps[2]).toBeCloseTo(13.75 / 3, 9);

    const summary = irrelevant.map((f) => [f.markId, f.reason, f.clusterReaders]).sort();
    expect(summary).toEqual([
      ['Y0', 'fewer-readers', 2],
      ['Y1', 'fewer-readers', 2],
      ['nn', 'non-nodule', 1],
      ['p0', 'small-nodule', 2],
      ['p2a', 'small-nodule', 2],
      ['p2b', 'small-nodule', 1],
    ]);
    const y0 = irrelevant.find((f) => f.markId === 'Y0')!;
    expect(y0.diameterMm).toBeCloseTo(6 * Math.SQRT2, 9);
    expect(irrelevant.find((f) => f.markId === 'p0')!.cluster).toBe(
      irrelevant.find((f) => f.markId === 'p2a')!.cluster,
    );
    expect(irrelevant.find((f) => f.markId === 'nn')!.diameterMm).toBe(0);
  });

  it('takes the reader threshold as an option', () => {
    const { nodules } = lidcReferenceStandard(readings, slices, { minReaders: 2 });
    expect(nodules.map((n) => n.readers).sort()).toEqual([2, 3]);
  });

  it('finds the image by z when the SOPInstanceUID is unknown, and fails when neither matches', () => {
    const stale = { ...readings, sessions: [session(0, [pointNodule('p', 1, 1, 2)])] };
    stale.sessions[0]!.nodules[0]!.rois[0]!.imageSopUid = '9.9.9';
    expect(lidcReferenceStandard(stale, slices).irrelevant[0]!.centreLps).toEqual([-9, -19.5, 5]);
    stale.sessions[0]!.nodules[0]!.rois[0]!.imageZposition = 1;
    expect(() => lidcReferenceStandard(stale, slices)).toThrow(/not in the series/);
  });
});

/** HU of the voxel nearest to an LPS point. */
function huAt(volume: CtVolume, p: Vec3): number {
  const d = volume.direction;
  const o = volume.originLps;
  const offset: Vec3 = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
  const index = [0, 1, 2].map((axis) =>
    Math.round(
      (offset[0] * d[3 * axis]! + offset[1] * d[3 * axis + 1]! + offset[2] * d[3 * axis + 2]!) /
        volume.spacingMm[axis]!,
    ),
  );
  const [nx, ny] = volume.dimensions;
  return volume.hu[index[0]! + nx * (index[1]! + ny * index[2]!)]!;
}

describe.skipIf(!sampleDir)('LIDC-IDRI-0001 reader file 069.xml', () => {
  it('gives one reference nodule outlined by all four readers; the three small nodules are irrelevant', async () => {
    const folder = path.join(sampleDir!, 'lidc', 'LIDC-IDRI-0001');
    const files = await listFiles([folder]);
    const xml = files.find((file) => file.endsWith('069.xml'))!;
    const readings = await readLidcReaderXml(xml);
    expect(readings.sessions).toHaveLength(4);
    expect(readings.seriesInstanceUid).toBe(
      '1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192',
    );

    const geometry = await indexSliceGeometry(folder);
    expect(geometry.size).toBe(133);
    const { nodules, irrelevant } = lidcReferenceStandard(readings, geometry);

    expect(nodules).toHaveLength(1);
    const nodule = nodules[0]!;
    console.log(
      `LIDC-IDRI-0001 reference nodule: centre LPS [${nodule.centreLps.map((v) => v.toFixed(2)).join(', ')}] mm, ` +
        `diameter ${nodule.diameterMm.toFixed(2)} mm, malignancy ${nodule.malignancy}; per reader (long/short/mean mm, volume mm3): ` +
        nodule.perReader
          .map(
            (r) =>
              `${r.longAxisMm.toFixed(1)}/${r.shortAxisMm.toFixed(1)}/${r.meanDiameterMm.toFixed(1)}, ${r.volumeMm3.toFixed(0)}`,
          )
          .join('; '),
    );
    expect(nodule.readers).toBe(4);
    expect(nodule.diameterMm).toBeGreaterThanOrEqual(3);
    expect(nodule.diameterMm).toBeGreaterThan(20); // a large, malignant-looking mass
    expect(nodule.diameterMm).toBeLessThan(40);
    expect(nodule.malignancy).toBeGreaterThanOrEqual(4);
    for (const reader of nodule.perReader) {
      expect(reader.shortAxisMm).toBeGreaterThan(0);
      expect(reader.shortAxisMm).toBeLessThanOrEqual(reader.longAxisMm);
      // readers agree within a few mm
      expect(Math.abs(reader.meanDiameterMm - nodule.diameterMm)).toBeLessThan(5);
    }
    expect(isInsideSeries(nodule.centreLps, geometry)).toBe(true);

    const small = irrelevant.filter((f) => f.reason === 'small-nodule');
    expect(small).toHaveLength(9);
    const clusters = new Map<string, number[]>();
    for (const f of small) clusters.set(f.cluster!, [...(clusters.get(f.cluster!) ?? []), f.reader]);
    expect(clusters.size).toBe(3);
    for (const readers of clusters.values()) expect(readers.sort()).toEqual([0, 2, 3]);
    expect(irrelevant.filter((f) => f.reason === 'fewer-readers')).toHaveLength(0);
    expect(irrelevant.filter((f) => f.reason === 'non-nodule')).toHaveLength(13);

    // The centre lies in the solid mass on the reconstructed volume.
    const { volume: reconstructed } = await reconstructSeries(
      readPart10FilesReusingBuffer(files.filter((f) => f.endsWith('.dcm'))),
      { expectedSlices: 133, scratchInput: true },
    );
    expect(reconstructed).toBeDefined();
    const hu = huAt(reconstructed!, nodule.centreLps);
    console.log(`HU at the reference nodule's centre: ${hu}`);
    expect(hu).toBeGreaterThan(-300);
  });
});
