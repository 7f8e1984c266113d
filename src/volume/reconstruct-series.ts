import { decodeInstance } from '../dicom/pixel-data.js';
import { DomainError } from '../shared/errors.js';
import type { QualityIssue } from './quality-issue.js';
import { allocatePrefaulted, type PrefaultedBuffer } from './prefaulted-buffer.js';
import { assessScreeningQuality } from './quality.js';
import { reconstructVolume, toHuSlice, type HuSlice, type SliceGeometry } from './reconstruct.js';
import { sliceImagesOf } from './slice-image.js';
import type { CtVolume } from './volume.js';

export interface SeriesReconstruction {
  /** Undefined when the slices do not form one volume (mixed sizes, tilt, ...). */
  volume: CtVolume | undefined;
  /** False when any issue has severity `reject`: the series is not fit for lung screening. */
  accepted: boolean;
  geometry: SliceGeometry | undefined;
  /** Every quality gate and reconstruction finding, rejects first. */
  issues: QualityIssue[];
  /** Instances that could not be decoded, with the reason; the series is reconstructed from the rest. */
  undecodable: { source: string; reason: string }[];
}

/**
 * Decodes the instances of one series, reconstructs its HU volume and runs the screening quality gate.
 * `instances` yields Part 10 bytes with a label (file path or blob key) used in error reports.
 */
export async function reconstructSeries(
  instances:
    AsyncIterable<{ source: string; bytes: Uint8Array }> | Iterable<{ source: string; bytes: Uint8Array }>,
  options: {
    /** How many slices to expect (the instance count of a classic CT series): enables the in-place build. */
    expectedSlices?: number;
    /**
     * Each yielded buffer is scratch: it may be changed, and is not read after the next one is requested
     * (as from readPart10FilesReusingBuffer). Native pixel data is then converted without a copy.
     */
    scratchInput?: boolean;
  } = {},
): Promise<SeriesReconstruction> {
  const slices: HuSlice[] = [];
  let pool: { voxels: Int16Array; memory: PrefaultedBuffer } | undefined;
  const undecodable: SeriesReconstruction['undecodable'] = [];
  try {
    for await (const { source, bytes } of instances) {
      try {
        // Convert to HU at once, into one buffer sized for the expected slices: the decoded file is released
        // and that buffer becomes the volume (peak memory about the volume's size, plus one file).
        for (const slice of sliceImagesOf(
          await decodeInstance(bytes, { scratchInput: options.scratchInput === true }),
        )) {
          const size = slice.rows * slice.columns;
          if (!pool && (options.expectedSlices ?? 0) > 1) {
            const memory = allocatePrefaulted(size * options.expectedSlices! * 2);
            pool = { memory, voxels: new Int16Array(memory.buffer, 0, size * options.expectedSlices!) };
          }
          const start = slices.length * size;
          const fits =
            pool !== undefined && pool.voxels.length >= start + size && pool.voxels.length % size === 0;
          slices.push(toHuSlice(slice, fits ? pool!.voxels.subarray(start, start + size) : undefined));
          if (fits) pool!.memory.reportProgress((start + size) * 2);
        }
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        undecodable.push({ source, reason: error.message });
      }
    }
  } finally {
    await pool?.memory.close();
  }
  const reconstruction = reconstructVolume(slices);
  const geometry = reconstruction.ok ? reconstruction.geometry : undefined;
  const issues = [...assessScreeningQuality(slices, geometry), ...reconstruction.issues];
  if (undecodable.length > 0) {
    issues.push({
      code: 'missing-slices',
      severity: 'caveat',
      message:
        `${undecodable.length} instance(s) could not be decoded and are left out: ` +
        undecodable
          .slice(0, 3)
          .map((u) => `${u.source} (${u.reason})`)
          .join('; ') +
        (undecodable.length > 3 ? '; ...' : ''),
    });
  }
  issues.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'reject' ? -1 : 1));
  return {
    volume: reconstruction.ok ? reconstruction.volume : undefined,
    accepted: !issues.some((issue) => issue.severity === 'reject'),
    geometry,
    issues,
    undecodable,
  };
}
