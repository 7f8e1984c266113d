import fs from 'node:fs/promises';
import path from 'node:path';
import { writeCtSeries } from '../dicom/write-ct-series.js';
import { buildChestPhantom, type ChestPhantomOptions } from '../phantom/chest-phantom.js';

/** `nodus phantom --out <folder>`: writes a synthetic chest CT series and its ground truth (phantom.json). */
export async function phantomCommand(out: string, options: Partial<ChestPhantomOptions>): Promise<number> {
  const truth = await writePhantom(out, options);
  process.stdout.write(`${JSON.stringify({ out, ...truth }, null, 2)}\n`);
  return 0;
}

/** Writes the phantom's DICOM files and phantom.json into `out`; returns the ground truth. */
export async function writePhantom(out: string, options: Partial<ChestPhantomOptions>) {
  const phantom = buildChestPhantom(options);
  const series = writeCtSeries({
    dimensions: phantom.dimensions,
    pixelSpacingMm: phantom.pixelSpacingMm,
    sliceSpacingMm: phantom.sliceSpacingMm,
    originLps: phantom.originLps,
    hu: phantom.hu,
    paddingMask: phantom.paddingMask,
    patientId: 'PHANTOM-0001',
    patientName: 'Phantom^Chest',
    seriesDescription: 'nodus chest phantom',
  });
  await fs.mkdir(out, { recursive: true });
  await Promise.all(
    series.files.map((bytes, k) =>
      fs.writeFile(path.join(out, `slice-${String(k + 1).padStart(4, '0')}.dcm`), bytes),
    ),
  );
  const truth = {
    studyInstanceUid: series.studyInstanceUid,
    seriesInstanceUid: series.seriesInstanceUid,
    dimensions: phantom.dimensions,
    pixelSpacingMm: phantom.pixelSpacingMm,
    sliceSpacingMm: phantom.sliceSpacingMm,
    originLps: phantom.originLps,
    nodules: phantom.nodules,
  };
  await fs.writeFile(path.join(out, 'phantom.json'), `${JSON.stringify(truth, null, 2)}\n`);
  return { files: series.files.length, ...truth };
}
