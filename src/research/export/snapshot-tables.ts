import type { SnapshotData } from '../snapshot-data.js';
import type { Cell } from './csv-table.js';

/** The paths of a study's files in an export, relative to its root. */
export function studyFolder(study: { subject: string; studyUid: string }): string {
  return `subjects/${study.subject}/${study.studyUid}`;
}

export interface Table {
  name: 'studies' | 'nodules' | 'labels';
  columns: readonly string[];
  rows: Record<string, Cell>[];
}

/**
 * The export's tables, one row per study, nodule and label. Positions are LPS mm of the study's volume
 * (the same frame as its NIfTI file's scanner affine, which NIfTI tools show as RAS); diameters are on the
 * axial plane, mm; volumes mm3; dates moved by each patient's shift.
 */
export function snapshotTables(data: SnapshotData): Table[] {
  const studies: Table = {
    name: 'studies',
    columns: [
      'subject',
      'study_uid',
      'series_uid',
      'site',
      'study_date',
      'manufacturer',
      'manufacturer_model_name',
      'convolution_kernel',
      'slice_thickness_mm',
      'review_status',
      'ai_category',
      'category',
      'final_category',
      'detector',
      'columns',
      'rows',
      'slices',
      'spacing_i_mm',
      'spacing_j_mm',
      'spacing_k_mm',
      'nodules',
      'image',
      'mask',
    ],
    rows: data.studies.map((s) => ({
      subject: s.subject,
      study_uid: s.studyUid,
      series_uid: s.seriesUid,
      site: s.site,
      study_date: s.studyDate,
      manufacturer: s.manufacturer,
      manufacturer_model_name: s.manufacturerModelName,
      convolution_kernel: s.convolutionKernel,
      slice_thickness_mm: s.sliceThicknessMm,
      review_status: s.reviewStatus,
      ai_category: s.aiCategory,
      category: s.category,
      final_category: s.finalCategory,
      detector: s.detector,
      columns: s.volume.dimensions[0] ?? null,
      rows: s.volume.dimensions[1] ?? null,
      slices: s.volume.dimensions[2] ?? null,
      spacing_i_mm: s.volume.spacingMm[0] ?? null,
      spacing_j_mm: s.volume.spacingMm[1] ?? null,
      spacing_k_mm: s.volume.spacingMm[2] ?? null,
      nodules: s.nodules.length,
      image: `${studyFolder(s)}/ct.nii.gz`,
      mask: `${studyFolder(s)}/nodules.nii.gz`,
    })),
  };
  const nodules: Table = {
    name: 'nodules',
    columns: [
      'subject',
      'study_uid',
      'series_uid',
      'nodule',
      'origin',
      'decision',
      'centre_x_lps_mm',
      'centre_y_lps_mm',
      'centre_z_lps_mm',
      'long_axis_mm',
      'short_axis_mm',
      'mean_diameter_mm',
      'volume_mm3',
      'type',
      'solid_component_mm',
      'score',
      'mask_label',
    ],
    rows: data.studies.flatMap((s) =>
      s.nodules.map((n) => ({
        subject: s.subject,
        study_uid: s.studyUid,
        series_uid: s.seriesUid,
        nodule: n.number,
        origin: n.origin,
        decision: n.decision,
        centre_x_lps_mm: n.centreLps[0],
        centre_y_lps_mm: n.centreLps[1],
        centre_z_lps_mm: n.centreLps[2],
        long_axis_mm: n.longAxisMm,
        short_axis_mm: n.shortAxisMm,
        mean_diameter_mm: n.meanDiameterMm,
        volume_mm3: n.volumeMm3,
        type: n.type,
        solid_component_mm: n.solidComponentMm,
        score: n.score,
        mask_label: n.maskBlobKey ? n.number : null,
      })),
    ),
  };
  const labels: Table = {
    name: 'labels',
    columns: [
      'subject',
      'study_uid',
      'nodule',
      'vocabulary',
      'value',
      'unit',
      'source',
      'model',
      'reader',
      'evidence',
      'labelled_on',
    ],
    rows: data.studies.flatMap((s) =>
      s.labels.map((l) => ({
        subject: s.subject,
        study_uid: s.studyUid,
        nodule: l.nodule,
        vocabulary: l.vocabulary,
        value: l.value,
        unit: l.unit,
        source: l.source,
        model: l.model,
        reader: l.reader,
        evidence: l.evidence,
        labelled_on: l.labelledOn,
      })),
    ),
  };
  return [studies, nodules, labels];
}
