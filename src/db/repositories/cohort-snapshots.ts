import { eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { cohortSnapshotMembers, cohortSnapshots, cohorts, researchProjects, users } from '../schema/index.js';
import { DomainError } from '../../shared/errors.js';
import type { CohortMember } from './cohort-members.js';
import { cohortById } from './research.js';
import { userInstitutionIds } from './users.js';

/** What freezing a snapshot starts from: the snapshot, its cohort and project, and who asked for it. */
export async function snapshotToFreeze(db: Database, snapshotId: string) {
  const [row] = await db
    .select({
      snapshot: cohortSnapshots,
      cohortName: cohorts.name,
      projectId: researchProjects.id,
      projectName: researchProjects.name,
      creatorRole: users.role,
      creatorInstitutions: userInstitutionIds,
    })
    .from(cohortSnapshots)
    .innerJoin(cohorts, eq(cohorts.id, cohortSnapshots.cohortId))
    .innerJoin(researchProjects, eq(researchProjects.id, cohorts.projectId))
    .innerJoin(users, eq(users.id, cohortSnapshots.createdBy))
    .where(eq(cohortSnapshots.id, snapshotId));
  if (!row) throw new DomainError('NOT_FOUND', `no cohort snapshot ${snapshotId}`);
  return row;
}

/**
 * Records the members and the stored data and manifest of a snapshot and marks it frozen, in one transaction
 * (members first: once frozen, the database refuses changes to either).
 */
export async function recordFrozenSnapshot(
  db: Database,
  snapshotId: string,
  members: readonly CohortMember[],
  frozen: {
    dataBlobKey: string;
    manifestBlobKey: string;
    manifestSha256: string;
    studyCount: number;
    noduleCount: number;
    fileCount: number;
    totalBytes: number;
    frozenAt: Date;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(cohortSnapshotMembers).where(eq(cohortSnapshotMembers.snapshotId, snapshotId));
    if (members.length > 0) {
      await tx.insert(cohortSnapshotMembers).values(members.map((m) => ({ snapshotId, ...m })));
    }
    await tx
      .update(cohortSnapshots)
      .set({ status: 'frozen', ...frozen })
      .where(eq(cohortSnapshots.id, snapshotId));
  });
}

/** Marks a snapshot that could not be frozen as failed, with the reason (a frozen one stays frozen). */
export async function markSnapshotFailed(db: Database, snapshotId: string, reason: string): Promise<void> {
  await db
    .update(cohortSnapshots)
    .set({ status: 'failed', error: reason.slice(0, 2000) })
    .where(sql`${cohortSnapshots.id} = ${snapshotId} AND ${cohortSnapshots.status} = 'freezing'`);
}

/** A new snapshot row (status freezing) carrying a copy of the cohort's definition. */
export async function createSnapshotRow(db: Database, cohortId: string, userId: string) {
  const cohort = await cohortById(db, cohortId);
  const [row] = await db
    .insert(cohortSnapshots)
    .values({ cohortId, definition: cohort.definition, createdBy: userId })
    .returning();
  return row!;
}

export async function snapshotById(db: Database, snapshotId: string) {
  const [row] = await db
    .select({ snapshot: cohortSnapshots, projectId: cohorts.projectId })
    .from(cohortSnapshots)
    .innerJoin(cohorts, eq(cohorts.id, cohortSnapshots.cohortId))
    .where(eq(cohortSnapshots.id, snapshotId));
  if (!row) throw new DomainError('NOT_FOUND', `no cohort snapshot ${snapshotId}`);
  return row;
}
