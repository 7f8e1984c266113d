import { describe, expect, it } from 'vitest';
import { withoutInternalReferences } from '../../../src/access/internal-references.js';

describe('withoutInternalReferences', () => {
  it.each([
    ['blob volumes/1.2.840.113619.2.55/ab12.nii does not exist', 'blob <blob> does not exist'],
    ['blob masks/2.25.1234567/x.nii does not exist', 'blob <blob> does not exist'],
    [
      "ENOENT: no such file or directory, open '/var/lib/nodus/blobs/instances/1.2.3/4.5.6.dcm'",
      "ENOENT: no such file or directory, open '<path>'",
    ],
    [
      'instance 1.2.826.0.1.3680043.8.498.1 has Burned In Annotation',
      'instance <uid> has Burned In Annotation',
    ],
    [
      'detector nodus-detector@1.1.0 refused a grid of 0.7 mm',
      'detector nodus-detector@1.1.0 refused a grid of 0.7 mm',
    ],
    [
      'cohort snapshot 3f2c… is failed; only a frozen snapshot can be exported',
      'cohort snapshot 3f2c… is failed; only a frozen snapshot can be exported',
    ],
  ])('%s', (text, expected) => {
    expect(withoutInternalReferences(text)).toBe(expected);
  });
});
