// Seeds a research cohort for the export benchmark: per study one patient, one CT series whose volume blob is
// a real-looking NIfTI-1 CT (LIDC-IDRI-0001 reconstructed once, or the chest phantom), an inference run with
// two AI findings and their spherical masks (NIfTI crops over each finding's box, as detect.ts stores them),
// the worklist row and reviewed nodules made by assessSeriesForReview, and a study and a nodule label.
// No DICOM instances are stored, so the export holds tables, volumes and label maps only.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { eq } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { addLabel, createProject, createVocabulary, saveCohort } from '../src/db/repositories/research.js';
import { assessSeriesForReview } from '../src/db/repositories/study-reviews.js';
import { createUser, ensureInstitution } from '../src/db/repositories/users.js';
import {
  findings,
  inferenceRuns,
  models,
  patients,
  reviewedNodules,
  series,
  studies,
  volumes,
} from '../src/db/schema/index.js';
import { listFiles } from '../src/dicom/part10-files.js';
import { buildChestPhantom } from '../src/phantom/chest-phantom.js';
import type { BlobStore } from '../src/storage/blob-store.js';
import { encodeNifti1 } from '../src/volume/nifti.js';
import { reconstructSeries } from '../src/volume/reconstruct-series.js';
import { readPart10FilesReusingBuffer } from '../src/volume/series-files.js';
import type { CtVolume, Vec3 } from '../src/volume/volume.js';

/** The CT every study shares (each study stores its own copy, one voxel changed so every hash differs). */
export interface BenchVolume {
  /** Where it came from, for the report. */
  source: string;
  volume: CtVolume;
  /** The volume as stored by nodus: NIfTI-1, int16 HU. */
  nifti: Uint8Array;
}

/** LIDC-IDRI-0001 reconstructed by nodus when the folder exists, else the 512-matrix chest phantom. */
export async function loadBenchVolume(lidcFolder: string): Promise<BenchVolume> {
  if (fs.existsSync(lidcFolder)) {
    const files = await listFiles([lidcFolder]);
    const { volume, issues } = await reconstructSeries(readPart10FilesReusingBuffer(files), {
      expectedSlices: files.length,
      scratchInput: true,
    });
    if (!volume) throw new Error(`${lidcFolder}: no volume (${issues.map((i) => i.message).join('; ')})`);
    return { source: 'LIDC-IDRI-0001', volume, nifti: encodeNifti1(volume) };
  }
  const phantom = buildChestPhantom({ matrix: 512, pixelSpacingMm: 0.7, sliceSpacingMm: 2.5 });
  const volume: CtVolume = {
    dimensions: phantom.dimensions,
    spacingMm: [phantom.pixelSpacingMm, phantom.pixelSpacingMm, phantom.sliceSpacingMm],
    originLps: phantom.originLps,
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    hu: phantom.hu,
    paddingVoxels: 0,
  };
  return { source: 'chest phantom, matrix 512 (no LIDC-IDRI-0001)', volume, nifti: encodeNifti1(volume) };
}

export interface SeededCohort {
  userId: string;
  projectId: string;
  cohortId: string;
  studyIds: string[];
}

/** LPS position (mm) of voxel (i, j, k). */
function lpsOf(volume: CtVolume, [i, j, k]: Vec3): Vec3 {
  const [si, sj, sk] = volume.spacingMm;
  const d = volume.direction;
  return [0, 1, 2].map(
    (a) => volume.originLps[a]! + i * si * d[a]! + j * sj * d[3 + a]! + k * sk * d[6 + a]!,
  ) as Vec3;
}

/** A sphere of `diameterMm` around voxel `centre` as detect.ts stores a mask: NIfTI-1 over its box, 1 = nodule. */
function sphereMask(volume: CtVolume, centre: Vec3, diameterMm: number) {
  const half = volume.spacingMm.map((s) => Math.max(1, Math.ceil(diameterMm / 2 / s)));
  const box = [0, 1, 2].map((a) => centre[a]! - half[a]!).concat([0, 1, 2].map((a) => centre[a]! + half[a]!));
  const [i0, j0, k0, i1, j1, k1] = box as [number, number, number, number, number, number];
  const dims: Vec3 = [i1 - i0 + 1, j1 - j0 + 1, k1 - k0 + 1];
  const hu = new Int16Array(dims[0] * dims[1] * dims[2]);
  let voxels = 0;
  for (let k = 0; k < dims[2]; k += 1)
    for (let j = 0; j < dims[1]; j += 1)
      for (let i = 0; i < dims[0]; i += 1) {
        const dx = (i0 + i - centre[0]) * volume.spacingMm[0];
        const dy = (j0 + j - centre[1]) * volume.spacingMm[1];
        const dz = (k0 + k - centre[2]) * volume.spacingMm[2];
        if (dx * dx + dy * dy + dz * dz <= (diameterMm / 2) ** 2) {
          hu[i + dims[0] * (j + dims[1] * k)] = 1;
          voxels += 1;
        }
      }
  const mask: CtVolume = {
    dimensions: dims,
    spacingMm: volume.spacingMm,
    originLps: lpsOf(volume, [i0, j0, k0]),
    direction: volume.direction,
    hu,
    paddingVoxels: 0,
  };
  const voxelMm3 = volume.spacingMm[0] * volume.spacingMm[1] * volume.spacingMm[2];
  return {
    nifti: encodeNifti1(mask, 'nodus nodule mask (1 = nodule)'),
    boxIjk: box,
    volumeMm3: voxels * voxelMm3,
  };
}

const uid = () => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;

/**
 * Seeds `studies` screened studies (one patient each) on the blob store and database, plus a project with
 * two label vocabularies and a cohort that selects every study.
 */
export async function seedExportCohort(
  db: Database,
  blobs: BlobStore,
  bench: BenchVolume,
  options: { studies: number; onStudy?: (done: number) => void },
): Promise<SeededCohort> {
  const { volume } = bench;
  const [nx, ny, nz] = volume.dimensions;
  const institutionId = await ensureInstitution(db, 'BENCH-EXPORT', 'Export bench hospital');
  const user = await createUser(db, {
    email: 'bench-export@example.org',
    displayName: 'Export bench',
    role: 'admin',
    institutionCodes: ['BENCH-EXPORT'],
  });
  const project = await createProject(db, { name: 'export-bench', description: 'bench/export.ts' });
  await createVocabulary(db, project.id, {
    name: 'histology',
    target: 'study',
    kind: 'category',
    codes: [
      { code: 'adenocarcinoma', meaning: 'Adenocarcinoma' },
      { code: 'benign', meaning: 'Benign' },
    ],
  });
  await createVocabulary(db, project.id, { name: 'diameter', target: 'nodule', kind: 'number', unit: 'mm' });
  const [model] = await db
    .insert(models)
    .values({ modelId: 'bench-detector', version: '1', sha256: 'bench', task: 'detector', manifest: {} })
    .returning();

  const studyIds: string[] = [];
  for (let n = 0; n < options.studies; n += 1) {
    const [patient] = await db
      .insert(patients)
      .values({
        institutionId,
        patientId: `BENCH-EXPORT-${String(n + 1).padStart(5, '0')}`,
        patientName: `Bench^Patient${n + 1}`,
        birthDate: '1955-06-15',
        sex: n % 2 === 0 ? 'F' : 'M',
      })
      .returning();
    const [study] = await db
      .insert(studies)
      .values({
        patientId: patient!.id,
        studyInstanceUid: uid(),
        accessionNumber: `BX${n + 1}`,
        studyDate: new Date(Date.UTC(2021, 0, 1 + n)).toISOString().slice(0, 10),
      })
      .returning();
    const seriesInstanceUid = uid();
    const [ct] = await db
      .insert(series)
      .values({
        studyId: study!.id,
        seriesInstanceUid,
        modality: 'CT',
        status: 'done',
        manufacturer: 'GE MEDICAL SYSTEMS',
        manufacturerModelName: 'LightSpeed Plus',
        convolutionKernel: 'STANDARD',
        sliceThicknessMm: volume.spacingMm[2],
      })
      .returning();

    // This study's copy of the CT: the last voxel carries the study number, so each blob has its own hash.
    const nifti = Buffer.from(bench.nifti);
    nifti.writeInt16LE(-1000 + (n % 1000), nifti.byteLength - 2);
    const sha256 = createHash('sha256').update(nifti).digest('hex');
    const blobKey = `volumes/${seriesInstanceUid}/${sha256}.nii`;
    await blobs.put(blobKey, nifti);
    const [stored] = await db
      .insert(volumes)
      .values({
        seriesId: ct!.id,
        blobKey,
        sha256,
        dtype: 'int16',
        dimensions: [...volume.dimensions],
        spacingMm: [...volume.spacingMm],
        originLps: [...volume.originLps],
        direction: [...volume.direction],
      })
      .returning();
    const [run] = await db
      .insert(inferenceRuns)
      .values({
        volumeId: stored!.id,
        modelId: model!.id,
        parametersSha256: 'bench',
        parameters: {},
        status: 'succeeded',
        finishedAt: new Date(),
      })
      .returning();

    const shift = (n % 7) - 3;
    const nodules = [
      { centre: [Math.round(nx * 0.3) + shift, Math.round(ny * 0.45), Math.round(nz * 0.4)], diameterMm: 6 },
      { centre: [Math.round(nx * 0.7), Math.round(ny * 0.5) + shift, Math.round(nz * 0.6)], diameterMm: 9 },
    ] as { centre: Vec3; diameterMm: number }[];
    const rows = [];
    for (const [ordinal, nodule] of nodules.entries()) {
      const mask = sphereMask(volume, nodule.centre, nodule.diameterMm);
      const maskSha = createHash('sha256').update(mask.nifti).digest('hex');
      const maskBlobKey = `masks/${seriesInstanceUid}/${maskSha}.nii`;
      await blobs.put(maskBlobKey, mask.nifti);
      rows.push({
        inferenceRunId: run!.id,
        seriesId: ct!.id,
        ordinal,
        centreLps: lpsOf(volume, nodule.centre),
        boundingBoxIjk: mask.boxIjk,
        longAxisMm: nodule.diameterMm + 0.4,
        shortAxisMm: nodule.diameterMm - 0.4,
        meanDiameterMm: nodule.diameterMm,
        volumeMm3: mask.volumeMm3,
        meanHu: 25,
        type: 'solid' as const,
        score: 0.9 - ordinal * 0.2,
        maskBlobKey,
      });
    }
    await db.insert(findings).values(rows);
    await assessSeriesForReview(db, seriesInstanceUid);

    const [first] = await db
      .select({ id: reviewedNodules.id })
      .from(reviewedNodules)
      .where(eq(reviewedNodules.studyId, study!.id))
      .orderBy(reviewedNodules.createdAt, reviewedNodules.id)
      .limit(1);
    await addLabel(db, project.id, user.id, {
      vocabulary: 'histology',
      studyId: study!.id,
      code: n % 3 === 0 ? 'adenocarcinoma' : 'benign',
      source: 'reader',
      evidence: 'pathology',
    });
    if (first) {
      await addLabel(db, project.id, user.id, {
        vocabulary: 'diameter',
        studyId: study!.id,
        noduleId: first.id,
        number: nodules[0]!.diameterMm,
        source: 'model',
        model: 'bench-detector@1',
        evidence: 'imaging',
      });
    }
    studyIds.push(study!.id);
    options.onStudy?.(n + 1);
  }
  const cohort = await saveCohort(db, project.id, user.id, { name: 'all studies', definition: {} });
  return { userId: user.id, projectId: project.id, cohortId: cohort.id, studyIds };
}
