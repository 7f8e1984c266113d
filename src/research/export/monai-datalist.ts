import type { SnapshotData } from '../snapshot-data.js';
import { studyFolder } from './snapshot-tables.js';

/**
 * A MONAI datalist (the JSON `load_decathlon_datalist` reads) with every study under `training`:
 * `image` (CT, HU), `mask` (nodule label map: value = nodule number), and for MONAI's detection
 * networks `box` in world LPS mm, mode `cccwhd` (centre, then size: a cube of the mean diameter), with `label`
 * 0 (nodule) per box. LPS boxes need MONAI's `affine_lps_to_ras=True`, as for LUNA16. Rejected nodules are left out.
 */
export function monaiDatalist(data: SnapshotData): string {
  const training = data.studies.map((s) => {
    const kept = s.nodules.filter((n) => n.decision !== 'rejected');
    return {
      image: `${studyFolder(s)}/ct.nii.gz`,
      mask: `${studyFolder(s)}/nodules.nii.gz`,
      box: kept.map((n) => [...n.centreLps, n.meanDiameterMm, n.meanDiameterMm, n.meanDiameterMm]),
      label: kept.map(() => 0),
      subject: s.subject,
      series_uid: s.seriesUid,
    };
  });
  return `${JSON.stringify({ description: `nodus ${data.project}/${data.cohort}`, box_mode: 'cccwhd', affine_lps_to_ras: true, training }, null, 2)}\n`;
}
