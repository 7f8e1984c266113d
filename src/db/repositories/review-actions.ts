import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { NoduleType } from '../../phantom/nodule-type.js';
import type { CaliperAxes } from '../../shared/caliper-axes.js';
import { DomainError } from '../../shared/errors.js';
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';
import type { RejectReason } from '../../shared/review.js';
import type { Database, Queryable } from '../client.js';
import {
  reviewActions,
  reviewedNodules,
  series,
  studyReviews,
  type ReviewedNoduleRow,
} from '../schema/index.js';
import { assessStoredStudy, categoryColumns } from './study-reviews.js';

/** Measurements a reader may set on a nodule; diameters in mm on the axial plane, centre in LPS mm. */
export interface NoduleMeasurementChanges {
  centreLps?: [number, number, number] | undefined;
  longAxisMm?: number | undefined;
  shortAxisMm?: number | undefined;
  /** The caliper's end points; an edit that changes a length without them clears the stored ones. */
  axesLps?: CaliperAxes | undefined;
  type?: NoduleType | undefined;
  solidComponentMm?: number | null | undefined;
  volumeMm3?: number | null | undefined;
  juxtapleural?: boolean | undefined;
  calcifiedBenign?: boolean | undefined;
  suspiciousFeatures?: boolean | undefined;
}

export type ReviewActionInput =
  | { action: 'accept'; noduleId: string; comment?: string | undefined }
  | { action: 'reject'; noduleId: string; reason: RejectReason; comment?: string | undefined }
  | { action: 'edit'; noduleId: string; changes: NoduleMeasurementChanges; comment?: string | undefined }
  | {
      action: 'add';
      seriesId: string;
      nodule: NoduleMeasurementChanges &
        Required<Pick<NoduleMeasurementChanges, 'centreLps' | 'longAxisMm' | 'shortAxisMm' | 'type'>>;
      comment?: string | undefined;
    }
  | { action: 'sign-off'; finalCategory: LungRadsCategory; comment?: string | undefined };

export interface ReviewActionResult {
  studyId: string;
  version: number;
  status: 'in-review' | 'signed-off';
  category: LungRadsCategory;
  finalCategory: LungRadsCategory | null;
  lungRads: Record<string, unknown>;
  nodule?: ReviewedNoduleRow | undefined;
}

/** Round to 0.1 mm, the precision Lung-RADS asks for. */
const tenth = (mm: number) => Math.round(mm * 10) / 10;

/** How far a caliper's axis may be from the length stated with it: the lengths come rounded to 0.1 mm. */
const CALIPER_TOLERANCE_MM = 0.5;
/** Largest |cos| between the caliper's axes: a bidirectional caliper's are perpendicular. */
const CALIPER_MAX_COSINE = 0.1;

/** A caliper must span the lengths stated with it, its axes at right angles; else VALIDATION_FAILED. */
function checkCaliper({ long, short }: CaliperAxes, longAxisMm: number, shortAxisMm: number): void {
  const along = (points: CaliperAxes['long']) => points[1].map((v, a) => v - points[0][a]!);
  const u = along(long);
  const v = along(short);
  const length = (w: number[]) => Math.hypot(...w);
  for (const [name, axis, stated] of [
    ['long', u, longAxisMm],
    ['short', v, shortAxisMm],
  ] as const) {
    if (Math.abs(length(axis) - stated) > CALIPER_TOLERANCE_MM) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `the caliper's ${name} axis measures ${length(axis).toFixed(1)} mm, not ${stated} mm`,
      );
    }
  }
  const cosine = Math.abs(u.reduce((s, x, a) => s + x * v[a]!, 0)) / (length(u) * length(v) || 1);
  if (cosine > CALIPER_MAX_COSINE) {
    throw new DomainError('VALIDATION_FAILED', "the caliper's axes are not perpendicular");
  }
}

/** The nodule's values after applying `changes`; inconsistent measurements are VALIDATION_FAILED. */
function measuredValues(
  base: Omit<NoduleMeasurementChanges, 'axesLps'> & Partial<ReviewedNoduleRow>,
  changes: NoduleMeasurementChanges,
) {
  const merged = {
    ...base,
    ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
  };
  const long = merged.longAxisMm;
  const short = merged.shortAxisMm;
  const type = merged.type;
  if (long === undefined || short === undefined || type === undefined) {
    throw new DomainError('VALIDATION_FAILED', 'longAxisMm, shortAxisMm and type are required');
  }
  if (short > long) {
    throw new DomainError('VALIDATION_FAILED', `shortAxisMm (${short}) exceeds longAxisMm (${long})`);
  }
  const lengthsChanged = changes.longAxisMm !== undefined || changes.shortAxisMm !== undefined;
  const axesLps = changes.axesLps ?? (lengthsChanged ? null : (base.axesLps ?? null));
  if (changes.axesLps) checkCaliper(changes.axesLps, long, short);
  const meanDiameterMm = tenth((long + short) / 2);
  const solid = type === 'part-solid' ? (merged.solidComponentMm ?? null) : null;
  if (type === 'part-solid' && solid === null) {
    throw new DomainError('VALIDATION_FAILED', 'solidComponentMm is required for a part-solid nodule');
  }
  if (solid !== null && solid > meanDiameterMm) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `solidComponentMm (${solid}) exceeds the mean diameter (${meanDiameterMm})`,
    );
  }
  return {
    ...(merged.centreLps !== undefined && { centreLps: merged.centreLps }),
    longAxisMm: long,
    shortAxisMm: short,
    axesLps,
    meanDiameterMm,
    type,
    solidComponentMm: solid,
    volumeMm3: merged.volumeMm3 ?? null,
    juxtapleural: (merged.juxtapleural ?? false) && type === 'solid',
    calcifiedBenign: merged.calcifiedBenign ?? false,
    suspiciousFeatures: merged.suspiciousFeatures ?? false,
  };
}

/** Claims the study's next version, or explains with 404/409 why the action cannot apply. */
async function claimVersion(tx: Queryable, studyId: string, expectedVersion: number, signOff: boolean) {
  const [claimed] = await tx
    .update(studyReviews)
    .set({
      version: sql`${studyReviews.version} + 1`,
      status: signOff ? 'signed-off' : 'in-review',
    })
    .where(
      and(
        eq(studyReviews.studyId, studyId),
        eq(studyReviews.version, expectedVersion),
        // An incomplete study may be read as far as it came (its AI category is 0 with the reason).
        inArray(studyReviews.status, ['incomplete', 'ready', 'in-review']),
      ),
    )
    .returning({ version: studyReviews.version });
  if (claimed) return claimed.version;
  const [current] = await tx
    .select({ version: studyReviews.version, status: studyReviews.status })
    .from(studyReviews)
    .where(eq(studyReviews.studyId, studyId));
  if (!current) throw new DomainError('NOT_FOUND', `study ${studyId} is not on the worklist`);
  const message =
    current.status === 'signed-off'
      ? 'the study is signed off; it cannot change any more'
      : current.status === 'awaiting-ai'
        ? 'the AI result is not in yet'
        : `the study changed: version ${current.version}, not ${expectedVersion}; reload and try again`;
  throw new DomainError('CONFLICT', message, {
    context: { version: current.version, status: current.status },
  });
}

async function noduleOfStudy(tx: Queryable, studyId: string, noduleId: string) {
  const [nodule] = await tx
    .select()
    .from(reviewedNodules)
    .where(and(eq(reviewedNodules.id, noduleId), eq(reviewedNodules.studyId, studyId)));
  if (!nodule) throw new DomainError('NOT_FOUND', `nodule ${noduleId} is not part of study ${studyId}`);
  return nodule;
}

/**
 * Applies one review action to a study, all or nothing: checks the study is at `expectedVersion` (else 409),
 * changes the nodule or signs off, recomputes Lung-RADS from the nodules as they now stand, and appends the
 * action to the immutable log with who and when.
 */
export async function applyReviewAction(
  db: Database,
  input: { studyId: string; expectedVersion: number; actorUserId: string; requestId?: string | undefined },
  action: ReviewActionInput,
): Promise<ReviewActionResult> {
  return db.transaction(async (tx) => {
    const version = await claimVersion(
      tx,
      input.studyId,
      input.expectedVersion,
      action.action === 'sign-off',
    );
    const who = { lastActorId: input.actorUserId, updatedAt: new Date() };
    let nodule: ReviewedNoduleRow | undefined;
    switch (action.action) {
      case 'accept':
      case 'reject': {
        await noduleOfStudy(tx, input.studyId, action.noduleId);
        [nodule] = await tx
          .update(reviewedNodules)
          .set({
            decision: action.action === 'accept' ? 'accepted' : 'rejected',
            rejectReason: action.action === 'reject' ? action.reason : null,
            ...who,
          })
          .where(eq(reviewedNodules.id, action.noduleId))
          .returning();
        break;
      }
      case 'edit': {
        const current = await noduleOfStudy(tx, input.studyId, action.noduleId);
        [nodule] = await tx
          .update(reviewedNodules)
          .set({
            ...measuredValues({ ...current, centreLps: undefined }, action.changes),
            // Measuring a nodule asserts it is one.
            decision: 'accepted',
            rejectReason: null,
            edited: true,
            ...who,
          })
          .where(eq(reviewedNodules.id, action.noduleId))
          .returning();
        break;
      }
      case 'add': {
        const [owner] = await tx
          .select({ studyId: series.studyId })
          .from(series)
          .where(eq(series.id, action.seriesId));
        if (owner?.studyId !== input.studyId) {
          throw new DomainError(
            'NOT_FOUND',
            `series ${action.seriesId} is not part of study ${input.studyId}`,
          );
        }
        const values = measuredValues({}, action.nodule);
        [nodule] = await tx
          .insert(reviewedNodules)
          .values({
            ...values,
            centreLps: action.nodule.centreLps,
            studyId: input.studyId,
            seriesId: action.seriesId,
            origin: 'reader',
            decision: 'accepted',
            ...who,
          })
          .returning();
        break;
      }
      case 'sign-off': {
        const pending = await tx
          .select({ id: reviewedNodules.id })
          .from(reviewedNodules)
          .where(and(eq(reviewedNodules.studyId, input.studyId), eq(reviewedNodules.decision, 'pending')));
        if (pending.length > 0) {
          throw new DomainError(
            'CONFLICT',
            `${pending.length} nodule(s) still pending: accept or reject each before signing off`,
            { context: { pendingNoduleIds: pending.map((p) => p.id) } },
          );
        }
        break;
      }
    }
    const assessment = await assessStoredStudy(tx, input.studyId);
    const columns = categoryColumns(assessment);
    const [review] = await tx
      .update(studyReviews)
      .set({
        ...columns,
        ...(action.action === 'sign-off' && {
          finalCategory: action.finalCategory,
          signedOffBy: input.actorUserId,
          signedOffAt: new Date(),
        }),
      })
      .where(eq(studyReviews.studyId, input.studyId))
      .returning({ finalCategory: studyReviews.finalCategory, status: studyReviews.status });
    const { action: kind, ...details } = action;
    await tx.insert(reviewActions).values({
      studyId: input.studyId,
      noduleId: nodule?.id ?? null,
      actorUserId: input.actorUserId,
      action: kind,
      studyVersion: version,
      details: { ...details, categoryAfter: columns.category },
      requestId: input.requestId ?? null,
    });
    return {
      studyId: input.studyId,
      version,
      status: review?.status === 'signed-off' ? 'signed-off' : 'in-review',
      category: columns.category,
      finalCategory: review?.finalCategory ?? null,
      lungRads: columns.lungRads,
      nodule,
    };
  });
}

/** The study's review log, oldest first. */
export async function reviewHistory(db: Database, studyId: string) {
  return db
    .select()
    .from(reviewActions)
    .where(eq(reviewActions.studyId, studyId))
    .orderBy(asc(reviewActions.id));
}
