import { describe, expect, it } from 'vitest';
import { snapshotAgreement } from '../../../src/research/snapshot-agreement.js';
import type { SnapshotData, SnapshotLabel, SnapshotStudy } from '../../../src/research/snapshot-data.js';

const label = (
  vocabulary: string,
  reader: string | null,
  value: string | number,
  nodule: number | null = null,
): SnapshotLabel => ({
  nodule,
  vocabulary,
  value,
  unit: typeof value === 'number' ? 'mm' : null,
  source: reader ? 'reader' : 'model',
  model: reader ? null : 'm@1',
  reader,
  evidence: 'imaging',
  labelledOn: '2020-01-01',
});

const study = (uid: string, labels: SnapshotLabel[]) =>
  ({ studyUid: uid, labels }) as unknown as SnapshotStudy;
const data = (studies: SnapshotStudy[]) => ({ studies }) as SnapshotData;

describe('snapshotAgreement', () => {
  it("gives Cohen's and Fleiss' kappa for two readers' categories, using the latest label of each", () => {
    // Readers A and B on 4 studies: agree on s1, s2, s4, disagree on s3 (A's first label on s4 was corrected).
    const result = snapshotAgreement(
      data([
        study('s1', [label('cat', 'A', '2'), label('cat', 'B', '2')]),
        study('s2', [label('cat', 'A', '4A'), label('cat', 'B', '4A')]),
        study('s3', [label('cat', 'A', '3'), label('cat', 'B', '4A')]),
        study('s4', [
          label('cat', 'A', '4A'),
          label('cat', 'A', '2'),
          label('cat', 'B', '2'),
          label('cat', null, '4X'),
        ]),
        study('s5', [label('cat', 'A', '2')]),
      ]),
    );
    const [cat] = result.vocabularies;
    expect(cat).toMatchObject({
      vocabulary: 'cat',
      kind: 'category',
      readers: ['A', 'B'],
      subjects: 4,
      incompleteSubjects: 1,
    });
    // po = 3/4; A: 2,4A,3,2 and B: 2,4A,4A,2 -> pe = (2*2 + 1*2 + 1*0)/16 = 6/16; kappa = (12/16 - 6/16)/(10/16) = 0.6
    expect(cat!.cohensKappa!.kappa).toBeCloseTo(0.6, 10);
    expect(cat!.fleissKappa!.ratersPerSubject).toBe(2);
  });

  it('gives ICC(2,1) on nodule diameters and says when there is too little to measure', () => {
    const diameters = [
      [6.1, 6.4],
      [9.8, 10.5],
      [14.2, 13.9],
      [4.5, 5.2],
    ];
    const result = snapshotAgreement(
      data([
        study(
          's1',
          diameters.flatMap(([a, b], n) => [label('d', 'A', a!, n + 1), label('d', 'B', b!, n + 1)]),
        ),
        study('s2', [label('x', 'A', 'yes'), label('x', 'B', 'no')]),
      ]),
    );
    const byName = Object.fromEntries(result.vocabularies.map((v) => [v.vocabulary, v]));
    expect(byName.d).toMatchObject({ kind: 'number', subjects: 4 });
    expect(byName.d!.icc!.form).toBe('ICC(2,1)');
    expect(byName.d!.icc!.icc).toBeGreaterThan(0.95);
    expect(byName.x!.insufficient).toMatch(/at least 2/);
  });
});
