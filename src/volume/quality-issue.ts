/**
 * A reason a series is not processed (`reject`), is not complete yet (`incomplete`: part of the stack or of
 * the transfer is missing; Lung-RADS 0 while nodus waits for the rest), or is processed with a caveat.
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
    | 'incomplete-coverage'
    | 'fewer-than-announced'
    | 'transfer-interrupted';
  severity: 'caveat' | 'reject' | 'incomplete';
  message: string;
}
