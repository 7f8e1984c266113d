import fs from 'node:fs/promises';
import path from 'node:path';
import { deidentifyInstance } from '../dicom/deidentify.js';
import { listFiles } from '../dicom/part10-files.js';
import { DomainError } from '../shared/errors.js';

/** The shortest key accepted in NODUS_DEID_KEY (characters). */
export const MIN_DEID_KEY_LENGTH = 32;

export interface DeidentifySummary {
  project: string;
  written: number;
  skippedNotDicom: number;
  failed: { file: string; error: string }[];
}

/** The project key from NODUS_DEID_KEY; a clear error when it is missing or too short. */
export function deidentificationKey(env: NodeJS.ProcessEnv = process.env): string {
  const key = env.NODUS_DEID_KEY;
  if (key === undefined || key.length < MIN_DEID_KEY_LENGTH) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `NODUS_DEID_KEY must be set to a secret of at least ${MIN_DEID_KEY_LENGTH} characters (e.g. openssl rand -hex 32)`,
    );
  }
  return key;
}

/**
 * `nodus deidentify <in-folder> <out-folder> --project <name>`: writes each DICOM Part 10 file of the input
 * de-identified (see deidentifyInstance) as `<out>/<new SOPInstanceUID>.dcm`. Files without the Part 10
 * preamble are skipped and counted; a file that fails is reported and the rest go on. Prints a JSON summary;
 * returns 1 when any file failed.
 */
export async function deidentifyCommand(
  input: string,
  outDir: string,
  projectName: string,
  key: string,
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
): Promise<number> {
  const files = await listFiles([input]);
  await fs.mkdir(outDir, { recursive: true });
  const summary: DeidentifySummary = { project: projectName, written: 0, skippedNotDicom: 0, failed: [] };
  for (const file of files) {
    const bytes = await fs.readFile(file);
    if (!isPart10(bytes)) {
      summary.skippedNotDicom += 1;
      continue;
    }
    try {
      const result = deidentifyInstance(bytes, { name: projectName, key });
      const uid = sopInstanceUidOf(result);
      await fs.writeFile(path.join(outDir, `${uid}.dcm`), result);
      summary.written += 1;
    } catch (error) {
      summary.failed.push({ file, error: error instanceof Error ? error.message : String(error) });
    }
  }
  out.write(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.failed.length > 0 ? 1 : 0;
}

function isPart10(bytes: Uint8Array): boolean {
  return bytes.length > 132 && Buffer.from(bytes.subarray(128, 132)).toString('latin1') === 'DICM';
}

/** MediaStorageSOPInstanceUID from the file meta (explicit VR little endian), read without parsing the data set. */
function sopInstanceUidOf(bytes: Uint8Array): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 132;
  while (offset + 8 <= view.length && view.readUInt16LE(offset) === 0x0002) {
    const element = view.readUInt16LE(offset + 2);
    const vr = view.toString('latin1', offset + 4, offset + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const length = long ? view.readUInt32LE(offset + 8) : view.readUInt16LE(offset + 6);
    const start = offset + (long ? 12 : 8);
    if (element === 0x0003)
      return view
        .toString('latin1', start, start + length)
        .replace(/\0/g, '')
        .trim();
    offset = start + length;
  }
  throw new DomainError('INVALID_DICOM', 'de-identified file has no MediaStorageSOPInstanceUID');
}
