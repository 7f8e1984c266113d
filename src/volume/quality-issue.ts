/**
 * A reason a series is not processed (`reject`) or is processed with a caveat (`caveat`).
 * Codes are stable; Lung-RADS maps them to category 0 later.
 */
export interface QualityIssue {
  code:
    | 'no-images'
    | 'not-ct'
    | 'localizer'
    | 'not-original'
    | 'not-axial'
    | 'mixed-sizes'
    | 'mixed-orientations'
    | 'mixed-spacing'
    | 'duplicate-positions'
    | 'gantry-tilt'
    | 'uneven-spacing'
    | 'missing-slices'
    | 'thick-slices'
    | 'too-few-slices'
    | 'incomplete-coverage';
  severity: 'caveat' | 'reject';
  message: string;
}
