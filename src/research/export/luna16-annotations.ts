import type { SnapshotData } from '../snapshot-data.js';
import { toCsv } from './csv-table.js';

/**
 * LUNA16's annotations.csv: `seriesuid,coordX,coordY,coordZ,diameter_mm`, one line per nodule that a reader
 * has not rejected. Coordinates are world mm in LPS (LUNA16's .mhd frame), seriesuid the de-identified
 * SeriesInstanceUID, diameter the Lung-RADS mean diameter.
 */
export function luna16Annotations(data: SnapshotData): string {
  const rows = data.studies.flatMap((s) =>
    s.nodules
      .filter((n) => n.decision !== 'rejected')
      .map((n) => ({
        seriesuid: s.seriesUid,
        coordX: n.centreLps[0],
        coordY: n.centreLps[1],
        coordZ: n.centreLps[2],
        diameter_mm: n.meanDiameterMm,
      })),
  );
  return toCsv(['seriesuid', 'coordX', 'coordY', 'coordZ', 'diameter_mm'], rows);
}
