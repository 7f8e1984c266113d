import fs from 'node:fs/promises';
import path from 'node:path';

/** Lists regular files under the given files and folders (recursively), sorted for a stable order. */
export async function listFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const visit = async (entry: string): Promise<void> => {
    const stat = await fs.stat(entry);
    if (stat.isDirectory()) {
      for (const child of (await fs.readdir(entry)).sort()) await visit(path.join(entry, child));
    } else if (stat.isFile()) {
      found.push(entry);
    }
  };
  for (const p of paths) await visit(path.resolve(p));
  return found;
}

/** A DICOM Part 10 file has a 128-byte preamble followed by "DICM" (PS3.10 §7.1). */
export function isPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}
