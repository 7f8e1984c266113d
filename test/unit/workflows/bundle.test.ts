import { describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../../src/temporal/worker.js';

describe('workflow bundle', () => {
  it('bundles for the deterministic sandbox (no Node built-ins, no I/O modules)', async () => {
    const bundle = await bundleWorkflows();
    expect(bundle.code).toContain('processSeries');
    expect(bundle.code).not.toMatch(/require\(["']node:/);
  });
});
