// Longer CT series for the reconstruction benchmark, derived from a real one: the source slices repeated
// (sorted along z, then stacked copy after copy so the slice step stays even), each written with a new
// SOPInstanceUID, one new SeriesInstanceUID, a shifted ImagePositionPatient and SliceLocation and a new
// InstanceNumber. Written into a temporary folder at bench time: never into the repository.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import { listFiles } from '../src/dicom/part10-files.js';

const TAGS = {
  mediaStorageSopInstanceUid: 'x00020003',
  sopInstanceUid: 'x00080018',
  seriesInstanceUid: 'x0020000e',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  sliceLocation: 'x00201041',
} as const;

/**
 * Writes a `slices`-slice series derived from the explicit VR little endian, single-frame, axial series in
 * `sourceFolder` into `outFolder` (created). Slice n is source slice n mod N (in z order) moved up by
 * floor(n / N) times the source's extent plus one step, in mm along +z (LPS).
 */
export async function writeLongSeries(
  sourceFolder: string,
  outFolder: string,
  slices: number,
): Promise<void> {
  const sources = (await listFiles([sourceFolder]))
    .map((file) => fs.readFileSync(file))
    .filter((bytes) => bytes.subarray(128, 132).toString('latin1') === 'DICM')
    .map((bytes) => ({ bytes, dataSet: dicomParser.parseDicom(bytes) }))
    .map((s) => ({ ...s, position: s.dataSet.string(TAGS.imagePositionPatient)!.split('\\').map(Number) }))
    .sort((a, b) => a.position[2]! - b.position[2]!);
  if (sources.length < 2) throw new Error(`${sourceFolder}: fewer than two slices`);
  const step = (sources.at(-1)!.position[2]! - sources[0]!.position[2]!) / (sources.length - 1);
  const copyShiftMm = step * sources.length;
  const seriesUid = sameLengthUid(sources[0]!.dataSet.string(TAGS.seriesInstanceUid)!, `series ${slices}`);
  fs.mkdirSync(outFolder, { recursive: true });
  for (let n = 0; n < slices; n += 1) {
    const { bytes, dataSet, position } = sources[n % sources.length]!;
    const copy = Math.floor(n / sources.length);
    const z = position[2]! + copy * copyShiftMm;
    const sopUid = sameLengthUid(dataSet.string(TAGS.sopInstanceUid)!, `${slices} ${n}`);
    const values: Record<string, string> = {
      [TAGS.mediaStorageSopInstanceUid]: sopUid,
      [TAGS.sopInstanceUid]: sopUid,
      [TAGS.seriesInstanceUid]: seriesUid,
      [TAGS.instanceNumber]: String(n + 1),
      [TAGS.imagePositionPatient]: [position[0]!, position[1]!, z].map((v) => v.toFixed(6)).join('\\'),
    };
    if (dataSet.elements[TAGS.sliceLocation]) values[TAGS.sliceLocation] = z.toFixed(6);
    fs.writeFileSync(
      path.join(outFolder, `${String(n + 1).padStart(6, '0')}.dcm`),
      replaceValues(bytes, dataSet, values),
    );
  }
}

/**
 * A UID as long as `original` (so the file meta group length stays right): the original's root, its last
 * component replaced by decimal digits of sha256(original, salt).
 */
function sameLengthUid(original: string, salt: string): string {
  const root = original.slice(0, original.lastIndexOf('.') + 1);
  const digits = BigInt(`0x${createHash('sha256').update(`${original} ${salt}`).digest('hex')}`).toString();
  return root + '9' + digits.slice(0, original.length - root.length - 1);
}

/**
 * Replaces the values of top-level short-VR elements (UI, IS, DS) of an explicit VR little endian file,
 * each padded to even length (UI with NUL, others with a space). Other bytes are copied as they are.
 */
function replaceValues(bytes: Buffer, dataSet: dicomParser.DataSet, values: Record<string, string>): Buffer {
  const edits = Object.entries(values)
    .map(([tag, value]) => ({ element: dataSet.elements[tag]!, value }))
    .sort((a, b) => a.element.dataOffset - b.element.dataOffset);
  const parts: Buffer[] = [];
  let at = 0;
  for (const { element, value } of edits) {
    const headerStart = element.dataOffset - 8;
    const padded = value.length % 2 === 0 ? value : value + (element.vr === 'UI' ? '\0' : ' ');
    const header = Buffer.from(bytes.subarray(headerStart, element.dataOffset));
    header.writeUInt16LE(padded.length, 6);
    parts.push(bytes.subarray(at, headerStart), header, Buffer.from(padded, 'latin1'));
    at = element.dataOffset + element.length;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}
