import { asc, eq } from 'drizzle-orm';
import { DomainError } from '../../shared/errors.js';
import type { Database } from '../client.js';
import { applicationEntities, institutions } from '../schema/index.js';

export interface ApplicationEntity {
  id: string;
  aeTitle: string;
  /** IP address or CIDR network the AE calls from. */
  address: string;
  institutionId: string;
  institutionCode: string;
  description: string | null;
}

/** Every configured DICOM sender with its institution, by AE title. */
export async function listApplicationEntities(db: Database): Promise<ApplicationEntity[]> {
  return db
    .select({
      id: applicationEntities.id,
      aeTitle: applicationEntities.aeTitle,
      address: applicationEntities.address,
      institutionId: applicationEntities.institutionId,
      institutionCode: institutions.code,
      description: applicationEntities.description,
    })
    .from(applicationEntities)
    .innerJoin(institutions, eq(institutions.id, applicationEntities.institutionId))
    .orderBy(asc(applicationEntities.aeTitle), asc(applicationEntities.address));
}

/**
 * Configures (or re-binds) a DICOM sender: calling AE title and address, bound to an institution given by
 * code (created when new, as the first image of an InstitutionName would). Idempotent.
 */
export async function upsertApplicationEntity(
  db: Database,
  entity: { aeTitle: string; address: string; institutionCode: string; description?: string | undefined },
): Promise<ApplicationEntity> {
  return db.transaction(async (tx) => {
    const [institution] = await tx
      .insert(institutions)
      .values({ code: entity.institutionCode, name: entity.institutionCode })
      .onConflictDoUpdate({ target: institutions.code, set: { code: entity.institutionCode } })
      .returning({ id: institutions.id, code: institutions.code });
    const [row] = await tx
      .insert(applicationEntities)
      .values({
        aeTitle: entity.aeTitle,
        address: entity.address,
        institutionId: institution!.id,
        description: entity.description ?? null,
      })
      .onConflictDoUpdate({
        target: [applicationEntities.aeTitle, applicationEntities.address],
        set: { institutionId: institution!.id, description: entity.description ?? null },
      })
      .returning();
    return { ...row!, institutionCode: institution!.code };
  });
}

/** Removes a configured sender; NOT_FOUND when there is none with that id. */
export async function deleteApplicationEntity(db: Database, id: string): Promise<void> {
  const deleted = await db
    .delete(applicationEntities)
    .where(eq(applicationEntities.id, id))
    .returning({ id: applicationEntities.id });
  if (deleted.length === 0) throw new DomainError('NOT_FOUND', `no application entity ${id}`);
}
