import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { pseudonymsFor, shiftDate, type DeidentificationProject } from '../../dicom/deidentify.js';
import { projectPseudonym } from '../../research/project-pseudonym.js';
import type { SnapshotLabel, SnapshotNodule, SnapshotStudy } from '../../research/snapshot-data.js';
import { DomainError } from '../../shared/errors.js';
import type { Queryable } from '../client.js';
import {
  findings,
  inferenceRuns,
  institutions,
  instances,
  labelVocabularies,
  labels,
  patients,
  reviewedNodules,
  series,
  studies,
  studyReviews,
  volumes,
} from '../schema/index.js';
import type { CohortMember } from './cohort-members.js';

/** Studies read per round trip. */
const CHUNK = 200;

/**
 * The de-identified data of a snapshot's members, in member order (see SnapshotData): identifiers become the
 * project's pseudonyms and UIDs, dates move by each patient's shift, and only this project's labels are kept.
 */
export async function captureSnapshotStudies(
  db: Queryable,
  members: readonly CohortMember[],
  project: DeidentificationProject & { id: string },
): Promise<SnapshotStudy[]> {
  const out: SnapshotStudy[] = [];
  for (let n = 0; n < members.length; n += CHUNK) {
    out.push(...(await captureChunk(db, members.slice(n, n + CHUNK), project)));
  }
  return out;
}

async function captureChunk(
  db: Queryable,
  members: readonly CohortMember[],
  project: DeidentificationProject & { id: string },
): Promise<SnapshotStudy[]> {
  const studyIds = members.map((m) => m.studyId);
  const seriesIds = members.map((m) => m.seriesId);
  const [heads, volumeRows, instanceRows, noduleRows, labelRows] = await Promise.all([
    db
      .select({
        studyId: studies.id,
        studyInstanceUid: studies.studyInstanceUid,
        studyDate: studies.studyDate,
        patientId: patients.patientId,
        issuer: patients.issuerOfPatientId,
        institutionCode: institutions.code,
        reviewStatus: studyReviews.status,
        aiCategory: studyReviews.aiCategory,
        category: studyReviews.category,
        finalCategory: studyReviews.finalCategory,
      })
      .from(studies)
      .innerJoin(patients, eq(patients.id, studies.patientId))
      .innerJoin(studyReviews, eq(studyReviews.studyId, studies.id))
      .innerJoin(institutions, eq(institutions.id, studyReviews.institutionId))
      .where(inArray(studies.id, studyIds)),
    db
      .select({
        seriesId: volumes.seriesId,
        volumeId: volumes.id,
        sha256: volumes.sha256,
        blobKey: volumes.blobKey,
        dimensions: volumes.dimensions,
        spacingMm: volumes.spacingMm,
        originLps: volumes.originLps,
        direction: volumes.direction,
        seriesInstanceUid: series.seriesInstanceUid,
        manufacturer: series.manufacturer,
        manufacturerModelName: series.manufacturerModelName,
        convolutionKernel: series.convolutionKernel,
        sliceThicknessMm: series.sliceThicknessMm,
        detector: sql<
          string | null
        >`(SELECT coalesce(ir.parameters->>'detector', mo.model_id || '@' || mo.version)
          FROM inference_runs ir
          JOIN models mo ON mo.id = ir.model_id
          WHERE ir.volume_id = ${volumes.id} AND ir.status = 'succeeded'
          ORDER BY ir.finished_at DESC NULLS LAST LIMIT 1)`,
      })
      .from(volumes)
      .innerJoin(series, eq(series.id, volumes.seriesId))
      .where(inArray(volumes.seriesId, seriesIds)),
    db
      .select({ seriesId: instances.seriesId, blobKey: instances.blobKey })
      .from(instances)
      .where(inArray(instances.seriesId, seriesIds))
      .orderBy(asc(instances.blobKey)),
    db
      .select({
        studyId: reviewedNodules.studyId,
        seriesId: reviewedNodules.seriesId,
        noduleId: reviewedNodules.id,
        origin: reviewedNodules.origin,
        decision: reviewedNodules.decision,
        centreLps: reviewedNodules.centreLps,
        longAxisMm: reviewedNodules.longAxisMm,
        shortAxisMm: reviewedNodules.shortAxisMm,
        meanDiameterMm: reviewedNodules.meanDiameterMm,
        volumeMm3: reviewedNodules.volumeMm3,
        type: reviewedNodules.type,
        solidComponentMm: reviewedNodules.solidComponentMm,
        score: findings.score,
        maskBlobKey: findings.maskBlobKey,
        boundingBoxIjk: findings.boundingBoxIjk,
        runVolumeSha256: volumes.sha256,
      })
      .from(reviewedNodules)
      .leftJoin(findings, eq(findings.id, reviewedNodules.findingId))
      .leftJoin(inferenceRuns, eq(inferenceRuns.id, findings.inferenceRunId))
      .leftJoin(volumes, eq(volumes.id, inferenceRuns.volumeId))
      .where(inArray(reviewedNodules.studyId, studyIds))
      .orderBy(asc(reviewedNodules.createdAt), asc(reviewedNodules.id)),
    db
      .select({
        studyId: labels.studyId,
        noduleId: labels.noduleId,
        vocabulary: labelVocabularies.name,
        unit: labelVocabularies.unit,
        valueCode: labels.valueCode,
        valueNumber: labels.valueNumber,
        source: labels.source,
        sourceModel: labels.sourceModel,
        sourceUserId: labels.sourceUserId,
        evidence: labels.evidence,
        createdAt: labels.createdAt,
      })
      .from(labels)
      .innerJoin(labelVocabularies, eq(labelVocabularies.id, labels.vocabularyId))
      .where(and(inArray(labels.studyId, studyIds), eq(labelVocabularies.projectId, project.id)))
      .orderBy(asc(labels.id)),
  ]);
  return members.map((member) => {
    const head = heads.find((h) => h.studyId === member.studyId);
    const volume = volumeRows.find((v) => v.seriesId === member.seriesId && v.sha256 === member.volumeSha256);
    if (!head || !volume) {
      throw new DomainError('CONFLICT', `study ${member.studyId} or its volume is no longer stored`);
    }
    const pseudonyms = pseudonymsFor(project, head.patientId, head.issuer ?? '');
    const shift = (isoDate: string) => isoOf(shiftDate(isoDate.replace(/-/g, ''), pseudonyms.dateShiftDays));
    const nodules: SnapshotNodule[] = noduleRows
      .filter((n) => n.studyId === member.studyId && n.seriesId === member.seriesId)
      .map((n, index) => {
        // The AI mask lies on the grid of the volume its run read; another volume's mask is not exported.
        const maskUsable = n.maskBlobKey !== null && n.runVolumeSha256 === member.volumeSha256;
        return {
          number: index + 1,
          origin: n.origin,
          decision: n.decision,
          centreLps: n.centreLps as [number, number, number],
          longAxisMm: n.longAxisMm,
          shortAxisMm: n.shortAxisMm,
          meanDiameterMm: n.meanDiameterMm,
          volumeMm3: n.volumeMm3,
          type: n.type,
          solidComponentMm: n.solidComponentMm,
          score: n.score,
          maskBlobKey: maskUsable ? n.maskBlobKey : null,
          maskBoxIjk: maskUsable ? (n.boundingBoxIjk as SnapshotNodule['maskBoxIjk']) : null,
          noduleId: n.noduleId,
        };
      });
    const studyLabels: SnapshotLabel[] = labelRows
      .filter((l) => l.studyId === member.studyId)
      .flatMap((l) => {
        const nodule = l.noduleId === null ? null : nodules.find((n) => n.noduleId === l.noduleId);
        if (nodule === undefined) return []; // a nodule on another series of the study
        return [
          {
            nodule: nodule?.number ?? null,
            vocabulary: l.vocabulary,
            value: l.valueCode ?? l.valueNumber ?? '',
            unit: l.unit,
            source: l.source,
            model: l.sourceModel,
            reader: l.sourceUserId ? projectPseudonym(project, 'READER', l.sourceUserId) : null,
            evidence: l.evidence,
            labelledOn: shift(l.createdAt.toISOString().slice(0, 10)),
          },
        ];
      });
    return {
      subject: pseudonyms.patientId,
      studyUid: pseudonyms.uid(head.studyInstanceUid),
      seriesUid: pseudonyms.uid(volume.seriesInstanceUid),
      site: projectPseudonym(project, 'SITE', head.institutionCode),
      studyDate: head.studyDate ? shift(head.studyDate) : null,
      manufacturer: volume.manufacturer,
      manufacturerModelName: volume.manufacturerModelName,
      convolutionKernel: volume.convolutionKernel,
      sliceThicknessMm: volume.sliceThicknessMm,
      reviewStatus: head.reviewStatus,
      aiCategory: head.aiCategory,
      category: head.category,
      finalCategory: head.finalCategory,
      detector: volume.detector,
      volume: {
        sha256: volume.sha256,
        dimensions: volume.dimensions,
        spacingMm: volume.spacingMm,
        originLps: volume.originLps,
        direction: volume.direction,
      },
      nodules,
      labels: studyLabels,
      source: {
        studyId: member.studyId,
        volumeBlobKey: volume.blobKey,
        instanceBlobKeys: instanceRows.filter((i) => i.seriesId === member.seriesId).map((i) => i.blobKey),
        signedOff: head.reviewStatus === 'signed-off',
      },
    };
  });
}

/** YYYYMMDD -> YYYY-MM-DD. */
function isoOf(dicomDate: string): string {
  return `${dicomDate.slice(0, 4)}-${dicomDate.slice(4, 6)}-${dicomDate.slice(6, 8)}`;
}
