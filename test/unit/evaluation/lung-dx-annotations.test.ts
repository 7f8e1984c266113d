import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  lungDxTumour,
  parseLungDxSliceMap,
  parseLungDxVocXml,
  readLungDxTumour,
} from '../../../src/evaluation/lung-dx-annotations.js';
import { indexSliceGeometry, type SliceGeometry } from '../../../src/evaluation/slice-geometry-index.js';
import { listFiles } from '../../../src/dicom/part10-files.js';
import { reconstructSeries } from '../../../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../../../src/volume/series-files.js';
import type { Vec3 } from '../../../src/volume/volume.js';
import { sampleDir } from '../../fixtures/sample-data.js';

const voc = `<annotation verified="no">
  <size><width>512</width><height>512</height><depth>1</depth></size>
  <object>
    <name>A</name>
    <bndbox><xmin>286</xmin><ymin>317</ymin><xmax>354</xmax><ymax>388</ymax></bndbox>
  </object>
</annotation>`;

describe('Lung_Dx PASCAL-VOC parsing', () => {
  it('reads the boxes of one image', () => {
    expect(parseLungDxVocXml(voc, '1.2.3')).toEqual([
      { label: 'A', sopInstanceUid: '1.2.3', xmin: 286, ymin: 317, xmax: 354, ymax: 388 },
    ]);
    expect(parseLungDxVocXml('<annotation><size/></annotation>', '1.2.3')).toEqual([]);
    expect(() =>
      parseLungDxVocXml(
        '<annotation><object><name>A</name><bndbox><xmin>1</xmin></bndbox></object></annotation>',
        '1',
      ),
    ).toThrow(/ymin/);
  });

  it('maps SOPInstanceUIDs to file names from slice_map.txt', () => {
    const map = parseLungDxSliceMap('1-16.dcm 1.2.3\n1-17.dcm   1.2.4\r\n\n');
    expect([...map]).toEqual([
      ['1.2.3', '1-16.dcm'],
      ['1.2.4', '1-17.dcm'],
    ]);
  });

  it('places boxes in LPS through the slice geometry', () => {
    const geometry = new Map<string, SliceGeometry>(
      [0, 1].map((k) => [
        `1.${k}`,
        {
          sopInstanceUid: `1.${k}`,
          frameNumber: 1,
          positionLps: [-100, -50, -5 * k],
          rowDirection: [1, 0, 0],
          columnDirection: [0, 1, 0],
          pixelSpacingMm: [0.5, 0.8],
          rows: 512,
          columns: 512,
        },
      ]),
    );
    const tumour = lungDxTumour(
      [
        { label: 'A', sopInstanceUid: '1.0', dicomFile: undefined, xmin: 10, ymin: 20, xmax: 30, ymax: 40 },
        { label: 'A', sopInstanceUid: '1.1', dicomFile: undefined, xmin: 0, ymin: 30, xmax: 20, ymax: 60 },
      ],
      geometry,
    );
    expect(tumour.boxLps).toEqual({ min: [-100, -40, -5], max: [-76, -20, 0] });
    expect(tumour.centreLps).toEqual([-88, -30, -2.5]);
    expect(tumour.slices).toBe(2);
    expect(() =>
      lungDxTumour(
        [{ label: 'A', sopInstanceUid: '9', dicomFile: undefined, xmin: 0, ymin: 0, xmax: 1, ymax: 1 }],
        geometry,
      ),
    ).toThrow(/not in the series/);
  });
});

describe.skipIf(!sampleDir)('Lung_Dx-A0001 tumour', () => {
  it('spans 11 contiguous 5 mm slices and its centre lies in soft tissue', async () => {
    const series = path.join(sampleDir!, 'lung-pet-ct-dx', 'Lung_Dx-A0001_5mm_L');
    const geometry = await indexSliceGeometry(path.join(series, 'dicom'));
    expect(geometry.size).toBe(64);
    const tumour = await readLungDxTumour(path.join(series, 'annotations'), geometry);
    console.log(
      `Lung_Dx-A0001 tumour (${tumour.label}): centre LPS [${tumour.centreLps.map((v) => v.toFixed(2)).join(', ')}] mm, ` +
        `box min [${tumour.boxLps.min.map((v) => v.toFixed(2)).join(', ')}] max [${tumour.boxLps.max.map((v) => v.toFixed(2)).join(', ')}], ${tumour.slices} slices`,
    );
    expect(tumour.label).toBe('A');
    expect(tumour.slices).toBe(11);
    expect(tumour.boxes.every((b) => b.dicomFile !== undefined && /^1-\d+\.dcm$/.test(b.dicomFile))).toBe(
      true,
    );
    const extent = tumour.boxLps.max.map((v, d) => v - tumour.boxLps.min[d]!);
    expect(extent[2]).toBeCloseTo(10 * 5, 6); // 11 slices, 5 mm apart, contiguous
    expect(extent[0]).toBeGreaterThan(20); // a mass of several cm in plane
    expect(extent[1]).toBeGreaterThan(20);

    const files = await listFiles([path.join(series, 'dicom')]);
    const { volume: reconstructed } = await reconstructSeries(readPart10FilesReusingBuffer(files), {
      expectedSlices: files.length,
      scratchInput: true,
    });
    expect(reconstructed).toBeDefined();
    const volume = reconstructed!;
    // Mean HU of a 5 x 5 voxel patch at the centre: tumour tissue, not aerated lung.
    const d = volume.direction;
    const offset: Vec3 = [0, 1, 2].map((a) => tumour.centreLps[a]! - volume.originLps[a]!) as Vec3;
    const [i, j, k] = [0, 1, 2].map((axis) =>
      Math.round(
        (offset[0] * d[3 * axis]! + offset[1] * d[3 * axis + 1]! + offset[2] * d[3 * axis + 2]!) /
          volume.spacingMm[axis]!,
      ),
    ) as Vec3;
    const [nx, ny] = volume.dimensions;
    let sum = 0;
    for (let dj = -2; dj <= 2; dj++)
      for (let di = -2; di <= 2; di++) sum += volume.hu[i + di + nx * (j + dj + ny * k)]!;
    console.log(`mean HU of the 5 x 5 patch at the tumour centre: ${(sum / 25).toFixed(0)}`);
    expect(sum / 25).toBeGreaterThan(-300);
  });
});
