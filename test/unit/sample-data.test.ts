import { describe, expect, it } from 'vitest';
import { missingSampleSeries, sampleDataRequired } from '../fixtures/sample-data.js';

describe('the shared real CT data', () => {
  // Tests that read it skip where it is absent; a CI run must not look green with all of them skipped.
  it.runIf(sampleDataRequired)('is all there when CI is set', () => {
    expect(missingSampleSeries()).toEqual([]);
  });

  it('is reported missing, series by series, from a folder that lacks it', () => {
    expect(missingSampleSeries('/nonexistent-nodus-data')).toHaveLength(4);
  });
});
