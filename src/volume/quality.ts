import type { QualityIssue } from './quality-issue.js';
import type { SliceGeometry } from './reconstruct.js';
import type { HuSlice } from './reconstruct.js';
import { cross, normalize } from './vec3.js';

/** Thresholds of the lung-screening quality gate. Lengths in mm. */
export const SCREENING_LIMITS = {
  /** Lung-RADS asks for slices of at most 2.5 mm (thinner is better; 1 mm ideal). */
  maxSliceThicknessMm: 2.5,
  /** The slice normal must be within this angle of the patient's z axis to count as axial, degrees. */
  maxAxialObliquityDegrees: 30,
  minSlices: 20,
  /** Adult lungs span roughly 200-300 mm craniocaudally: less than this cannot contain them, reject. */
  minCoverageMm: 100,
  /** Less than this may miss the apices or bases: processed with a caveat. */
  fullCoverageMm: 200,
};

/**
 * The quality gate of lung screening for one series: CT, original (not derived) axial images, not a
 * localizer, enough slices and craniocaudal coverage. Coverage here is the extent of the slice stack; a
 * lung-aware check follows once the lungs are segmented.
 */
export function assessScreeningQuality(
  slices: readonly HuSlice[],
  geometry: SliceGeometry | undefined,
): QualityIssue[] {
  const issues: QualityIssue[] = [];
  const first = slices[0];
  if (!first) return [{ code: 'no-images', severity: 'reject', message: 'the series has no images' }];

  const modalities = new Set(slices.map((s) => s.modality ?? ''));
  if (modalities.size !== 1 || !modalities.has('CT')) {
    issues.push({
      code: 'not-ct',
      severity: 'reject',
      message: `modality ${[...modalities].join('/') || 'unknown'} is not CT`,
    });
  }
  const imageType = first.imageType.map((v) => v.toUpperCase());
  if (imageType.includes('LOCALIZER')) {
    issues.push({
      code: 'localizer',
      severity: 'reject',
      message: 'localizer (scout) images, not a CT volume',
    });
  }
  if (imageType[0] === 'DERIVED') {
    issues.push({
      code: 'not-original',
      severity: 'reject',
      message: `derived images (ImageType ${imageType.join('\\')})`,
    });
  }
  const normal = normalize(cross(first.rowDirection, first.columnDirection));
  const obliquity = (Math.acos(Math.min(1, Math.abs(normal[2]))) * 180) / Math.PI;
  if (obliquity > SCREENING_LIMITS.maxAxialObliquityDegrees) {
    issues.push({
      code: 'not-axial',
      severity: 'reject',
      message: `slices are ${obliquity.toFixed(0)}° from axial`,
    });
  }
  if (slices.length < SCREENING_LIMITS.minSlices) {
    issues.push({
      code: 'too-few-slices',
      severity: 'reject',
      message: `${slices.length} slices; at least ${SCREENING_LIMITS.minSlices} are needed to cover the lungs`,
    });
  }
  const thickness = first.sliceThicknessMm ?? geometry?.medianStepMm;
  if (thickness !== undefined && thickness > SCREENING_LIMITS.maxSliceThicknessMm) {
    issues.push({
      code: 'thick-slices',
      severity: 'caveat',
      message: `slice thickness ${thickness} mm exceeds ${SCREENING_LIMITS.maxSliceThicknessMm} mm; small nodules may be missed`,
    });
  }
  if (geometry) {
    const coverage = geometry.extentMm + (thickness ?? geometry.medianStepMm);
    if (coverage < SCREENING_LIMITS.minCoverageMm) {
      issues.push({
        code: 'incomplete-coverage',
        severity: 'reject',
        message: `covers ${coverage.toFixed(0)} mm, too little for the lungs`,
      });
    } else if (coverage < SCREENING_LIMITS.fullCoverageMm) {
      issues.push({
        code: 'incomplete-coverage',
        severity: 'caveat',
        message: `covers ${coverage.toFixed(0)} mm; the lung apices or bases may be missing`,
      });
    }
  }
  return issues;
}
