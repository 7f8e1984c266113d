/**
 * A DICOM UID (PS3.5 §9.1): up to 64 characters, dot-separated numeric components without leading zeros.
 */
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;

export function isDicomUid(value: string): boolean {
  return value.length <= 64 && UID_PATTERN.test(value);
}
