import { asc, eq } from 'drizzle-orm';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import type { SecondReadOpinion } from '../../sharing/share-scope.js';
import type { Database } from '../client.js';
import { institutions, secondReads, users } from '../schema/index.js';

/** A second reader's read as the study's readers, the SR and the patient's film show it. */
export interface SecondReadRecord {
  id: string;
  shareId: string;
  reader: { userId: string; displayName: string; email: string };
  institutionName: string;
  institutionCode: string;
  opinion: SecondReadOpinion;
  category: LungRadsCategory;
  comment: string | null;
  createdAt: string;
}

/**
 * Records a partner's second read. The first read is untouched (its review version too, so the first reader's
 * work never conflicts with it); the signed-off SR written next holds both (its UIDs count the second reads).
 */
export async function recordSecondRead(
  db: Database,
  input: {
    studyId: string;
    shareId: string;
    readerUserId: string;
    institutionId: string;
    opinion: SecondReadOpinion;
    category: LungRadsCategory;
    comment?: string | undefined;
  },
): Promise<{ id: string }> {
  const [row] = await db
    .insert(secondReads)
    .values({ ...input, comment: input.comment ?? null })
    .returning({ id: secondReads.id });
  return { id: row!.id };
}

/** A study's second reads, oldest first. */
export async function secondReadsOf(db: Database, studyId: string): Promise<SecondReadRecord[]> {
  const rows = await db
    .select({
      id: secondReads.id,
      shareId: secondReads.shareId,
      readerUserId: users.id,
      displayName: users.displayName,
      email: users.email,
      institutionName: institutions.name,
      institutionCode: institutions.code,
      opinion: secondReads.opinion,
      category: secondReads.category,
      comment: secondReads.comment,
      createdAt: secondReads.createdAt,
    })
    .from(secondReads)
    .innerJoin(users, eq(users.id, secondReads.readerUserId))
    .innerJoin(institutions, eq(institutions.id, secondReads.institutionId))
    .where(eq(secondReads.studyId, studyId))
    .orderBy(asc(secondReads.createdAt), asc(secondReads.id));
  return rows.map((r) => ({
    id: r.id,
    shareId: r.shareId,
    reader: { userId: r.readerUserId, displayName: r.displayName, email: r.email },
    institutionName: r.institutionName,
    institutionCode: r.institutionCode,
    opinion: r.opinion,
    category: r.category,
    comment: r.comment,
    createdAt: r.createdAt.toISOString(),
  }));
}
