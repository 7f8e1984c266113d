import { and, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { DomainError } from '../../shared/errors.js';
import type { Database } from '../client.js';
import { consortiumMembers, institutions, shares } from '../schema/index.js';

/** A consortium member (community centre), its hub (hospital) and the terms of the offered second reads. */
export interface ConsortiumMember {
  member: string;
  hub: string;
  secondReadHours: number;
  shareHours: number;
}

const hubs = alias(institutions, 'hub');

/** Makes `member` a member whose studies are offered to `hub` (both institution codes); replaces its terms. */
export async function setConsortiumMember(db: Database, terms: ConsortiumMember): Promise<void> {
  const [member] = await db
    .select({ id: institutions.id })
    .from(institutions)
    .where(eq(institutions.code, terms.member));
  const [hub] = await db
    .select({ id: institutions.id })
    .from(institutions)
    .where(eq(institutions.code, terms.hub));
  if (!member) throw new DomainError('NOT_FOUND', `no institution ${terms.member}`);
  if (!hub) throw new DomainError('VALIDATION_FAILED', `hub: no institution ${terms.hub}`);
  if (member.id === hub.id)
    throw new DomainError('VALIDATION_FAILED', 'hub: an institution is not its own hub');
  const values = {
    memberInstitutionId: member.id,
    hubInstitutionId: hub.id,
    secondReadHours: terms.secondReadHours,
    shareHours: terms.shareHours,
  };
  await db
    .insert(consortiumMembers)
    .values(values)
    .onConflictDoUpdate({ target: consortiumMembers.memberInstitutionId, set: values });
}

/** Removes a member from its consortium; false when it was none. */
export async function removeConsortiumMember(db: Database, memberCode: string): Promise<boolean> {
  const [member] = await db
    .select({ id: institutions.id })
    .from(institutions)
    .where(eq(institutions.code, memberCode));
  if (!member) return false;
  const rows = await db
    .delete(consortiumMembers)
    .where(eq(consortiumMembers.memberInstitutionId, member.id))
    .returning({ id: consortiumMembers.memberInstitutionId });
  return rows.length > 0;
}

/** Every consortium member with its hub. */
export async function consortiumMembersList(db: Database): Promise<ConsortiumMember[]> {
  return db
    .select({
      member: institutions.code,
      hub: hubs.code,
      secondReadHours: consortiumMembers.secondReadHours,
      shareHours: consortiumMembers.shareHours,
    })
    .from(consortiumMembers)
    .innerJoin(institutions, eq(institutions.id, consortiumMembers.memberInstitutionId))
    .innerJoin(hubs, eq(hubs.id, consortiumMembers.hubInstitutionId))
    .orderBy(institutions.code);
}

/** The hub a member institution's studies are offered to, with its terms; undefined for a non-member. */
export async function hubOf(
  db: Database,
  memberInstitutionId: string,
): Promise<{ hubCode: string; secondReadHours: number; shareHours: number } | undefined> {
  const [row] = await db
    .select({
      hubCode: hubs.code,
      secondReadHours: consortiumMembers.secondReadHours,
      shareHours: consortiumMembers.shareHours,
    })
    .from(consortiumMembers)
    .innerJoin(hubs, eq(hubs.id, consortiumMembers.hubInstitutionId))
    .where(eq(consortiumMembers.memberInstitutionId, memberInstitutionId));
  return row;
}

/** Whether the consortium already offered the study (a repeat of the offer finds it). */
export async function consortiumOfferOf(db: Database, studyId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: shares.id })
    .from(shares)
    .where(and(eq(shares.studyId, studyId), eq(shares.offeredByConsortium, true)));
  return row?.id;
}
