import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { quarantinedInstances, type QuarantineReason } from '../schema/index.js';

export interface QuarantineEntry {
  reason: QuarantineReason;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  senderInstitutionId: string | null;
  source: string;
  blobKey: string;
  contentDigest: string;
  sizeBytes: number;
}

/** What the quarantine holds now: copies kept of one SOPInstanceUID and bytes kept in all. */
export async function quarantineUsage(
  db: Database,
  sopInstanceUid: string,
): Promise<{ copiesOfInstance: number; totalBytes: number; alreadyKept: Set<string> }> {
  const [totals] = await db
    .select({ totalBytes: sql<string>`coalesce(sum(${quarantinedInstances.sizeBytes}), 0)` })
    .from(quarantinedInstances);
  const copies = await db
    .select({ contentDigest: quarantinedInstances.contentDigest })
    .from(quarantinedInstances)
    .where(eq(quarantinedInstances.sopInstanceUid, sopInstanceUid));
  return {
    copiesOfInstance: copies.length,
    totalBytes: Number(totals?.totalBytes ?? 0),
    alreadyKept: new Set(copies.map((c) => c.contentDigest)),
  };
}

/** Records a kept-aside copy; false when the same content of that instance is already kept. */
export async function recordQuarantined(db: Database, entry: QuarantineEntry): Promise<boolean> {
  const inserted = await db
    .insert(quarantinedInstances)
    .values(entry)
    .onConflictDoNothing({
      target: [quarantinedInstances.sopInstanceUid, quarantinedInstances.contentDigest],
    })
    .returning({ id: quarantinedInstances.id });
  return inserted.length > 0;
}

/** The most recent kept-aside instances, newest first (for administrators). */
export async function listQuarantined(db: Database, limit = 100) {
  return db.select().from(quarantinedInstances).orderBy(desc(quarantinedInstances.createdAt)).limit(limit);
}
