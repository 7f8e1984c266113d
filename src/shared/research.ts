/** What a label is attached to. */
export const LABEL_TARGETS = ['study', 'nodule'] as const;
export type LabelTarget = (typeof LABEL_TARGETS)[number];

/** A vocabulary's values: codes from a fixed list, or numbers in a stated unit. */
export const VOCABULARY_KINDS = ['category', 'number'] as const;
export type VocabularyKind = (typeof VOCABULARY_KINDS)[number];

/** Who or what produced a label. */
export const LABEL_SOURCES = ['model', 'reader', 'consensus'] as const;
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** The evidence a label rests on. */
export const LABEL_EVIDENCE = ['pathology', 'follow-up', 'lung-rads', 'imaging', 'clinical'] as const;
export type LabelEvidence = (typeof LABEL_EVIDENCE)[number];

/**
 * A snapshot's life: `freezing` while its members are captured and every export file hashed, then
 * `frozen` (immutable) or `failed` (with the reason).
 */
export const SNAPSHOT_STATUSES = ['freezing', 'frozen', 'failed'] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];
