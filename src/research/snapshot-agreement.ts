import {
  cohensKappa,
  fleissKappa,
  intraclassCorrelation,
  type CohensKappaResult,
  type FleissKappaResult,
  type IntraclassCorrelationResult,
} from './reader-agreement.js';
import type { SnapshotData } from './snapshot-data.js';

/** Agreement of the readers who labelled with one vocabulary in a snapshot. */
export interface VocabularyAgreement {
  vocabulary: string;
  kind: 'category' | 'number';
  /** Readers (pseudonyms) who gave at least one label of this vocabulary. */
  readers: string[];
  /** Subjects (studies or nodules) labelled by every one of them: what the statistics use. */
  subjects: number;
  /** Subjects labelled by some but not all readers, left out. */
  incompleteSubjects: number;
  /** Two readers: Cohen's kappa (unweighted). */
  cohensKappa?: CohensKappaResult;
  /** Two or more readers: Fleiss' kappa. */
  fleissKappa?: FleissKappaResult;
  /** Numbers: ICC(2,1), two-way random effects, absolute agreement, single rater. */
  icc?: IntraclassCorrelationResult;
  /** Why no statistic was computed. */
  insufficient?: string;
}

/**
 * Reader agreement per vocabulary over a snapshot's `reader` labels (a reader's latest label per subject
 * counts): Cohen's and Fleiss' kappa for category vocabularies, ICC(2,1) for number vocabularies (e.g.
 * diameters in mm). Only subjects every reader labelled are used, so the matrix is complete.
 */
export function snapshotAgreement(data: SnapshotData): { vocabularies: VocabularyAgreement[] } {
  const byVocabulary = new Map<string, Map<string, Map<string, string | number>>>();
  for (const study of data.studies) {
    for (const label of study.labels) {
      if (label.source !== 'reader' || !label.reader) continue;
      const subject = `${study.studyUid}#${label.nodule ?? ''}`;
      const subjects = byVocabulary.get(label.vocabulary) ?? new Map<string, Map<string, string | number>>();
      byVocabulary.set(label.vocabulary, subjects);
      const readers = subjects.get(subject) ?? new Map<string, string | number>();
      subjects.set(subject, readers);
      readers.set(label.reader, label.value); // labels are in the order given: the latest wins
    }
  }
  const vocabularies = [...byVocabulary.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([vocabulary, subjects]): VocabularyAgreement => {
      const readers = [...new Set([...subjects.values()].flatMap((r) => [...r.keys()]))].sort();
      const complete = [...subjects.values()].filter((r) => r.size === readers.length);
      const kind = complete.some((r) => [...r.values()].some((v) => typeof v === 'number'))
        ? 'number'
        : 'category';
      const result: VocabularyAgreement = {
        vocabulary,
        kind,
        readers,
        subjects: complete.length,
        incompleteSubjects: subjects.size - complete.length,
      };
      if (readers.length < 2 || complete.length < 2) {
        return {
          ...result,
          insufficient: 'needs at least 2 readers who each labelled at least 2 of the same subjects',
        };
      }
      const rows = complete.map((r) => readers.map((reader) => r.get(reader)!));
      if (kind === 'number') {
        return {
          ...result,
          icc: intraclassCorrelation(
            rows.map((row) => row.map(Number)),
            'ICC(2,1)',
          ),
        };
      }
      const categories = rows.map((row) => row.map(String));
      return {
        ...result,
        ...(readers.length === 2 && {
          cohensKappa: cohensKappa(categories.map(([a, b]) => [a!, b!] as const)),
        }),
        fleissKappa: fleissKappa(categories),
      };
    });
  return { vocabularies };
}
