import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { upsertApplicationEntity } from '../db/repositories/application-entities.js';
import { importFiles } from '../ingest/import-files.js';
import { runResearchDemo } from './demo-research.js';
import { runSharingDemo } from './demo-sharing.js';
import { writePhantom } from './phantom-command.js';
import type { Platform } from './platform.js';
import { findSeries } from '../db/repositories/series.js';
import { createUser, findUserByEmail, issueToken } from '../db/repositories/users.js';
import type { ProcessSeriesResult } from '../shared/process-series.js';

/** The shared real CT data set next to the checkout, unless NODUS_SAMPLE_DIR says otherwise. */
export function sampleDataDir(configured: string | undefined): string {
  return configured ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
}

/** Polls a series' status while its workflow runs and reports each stage once, with the seconds elapsed. */
async function withProgress(
  platform: Platform,
  seriesInstanceUid: string,
  report: (line: string) => void,
): Promise<ProcessSeriesResult> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
  const stages: Record<string, string> = {
    receiving: 'received {n} slices; waiting for the sender to finish (quiet period)',
    reconstructing: 'reconstructing the volume and checking its quality',
    detecting: 'detecting nodules',
    done: 'assessing Lung-RADS and putting the study on the worklist',
    rejected: 'rejected by the quality gate; putting the study on the worklist (Lung-RADS 0)',
    incomplete: 'incomplete (Lung-RADS 0 until the rest arrives)',
    failed: 'failed',
  };
  let last = '';
  const result = platform.seriesWorkflows.result(seriesInstanceUid);
  let finished = false;
  void result.finally(() => (finished = true)).catch(() => {});
  while (!finished) {
    const series = await findSeries(platform.database.db, seriesInstanceUid);
    const line = series
      ? (stages[series.status] ?? series.status).replace('{n}', String(series.instanceCount))
      : '';
    if (line !== '' && line !== last) {
      report(`${elapsed()}  ${line}`);
      last = line;
    }
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  const outcome = await result;
  report(`${elapsed()}  finished: ${outcome.status}`);
  return outcome;
}

/** The series the demo imports: the LIDC-IDRI-0001 chest CT (133 slices). */
export const DEMO_SERIES = path.join('lidc', 'LIDC-IDRI-0001');

/**
 * The main job as far as it exists: import a real chest CT, let its processSeries workflow run,
 * and print the results and where to look.
 */
export async function runDemo(
  platform: Platform,
  apiUrl: string,
  where: string,
  viewerUrl?: string,
): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const token = platform.config.adminToken ?? '';
  const headers = { authorization: `Bearer ${token}` };
  const get = async (route: string) => (await fetch(`${apiUrl}${route}`, { headers })).json();
  out('nodus demo: the platform is up');
  out(where);
  out(
    `  Admin token  ${token}  (every API route but /healthz and /readyz needs Authorization: Bearer <token>)`,
  );
  out();

  let folder = path.join(sampleDataDir(platform.config.sampleDir), DEMO_SERIES);
  if (!fs.existsSync(folder)) {
    out(`No sample CT at ${folder} (NODUS_SAMPLE_DIR); writing a synthetic chest phantom instead.`);
    folder = path.join(platform.config.dataDir, 'phantom');
    await writePhantom(folder, {});
  }
  out(`Importing ${folder} ...`);
  const started = performance.now();
  const summary = await importFiles(platform.ingest, [folder]);
  out(
    `  ${summary.files} files: ${summary.stored} stored, ${summary.duplicates} already stored, ` +
      `${summary.conflicts.length} conflicts, ${summary.rejected.length} rejected, ` +
      `${summary.skipped.length} not DICOM ` +
      `(${Math.round(performance.now() - started)} ms)`,
  );
  for (const rejected of summary.rejected) out(`  rejected ${rejected.file}: ${rejected.reason}`);

  for (const uid of summary.seriesInstanceUids) {
    out(`Processing series ${uid} (workflow series:${uid}):`);
    const result = await withProgress(platform, uid, (line) => out(`  ${line}`));
    const seriesView = (await get(`/api/series/${uid}`)) as {
      status: string;
      instanceCount: number;
      volume?: { dimensions: number[]; spacing: number[] };
      quality: { code: string; severity: string; message: string }[];
      error?: { code: string; message: string } | null;
    };
    out(
      `  ${seriesView.status}: ${seriesView.instanceCount} slices` +
        (seriesView.volume
          ? `, volume ${seriesView.volume.dimensions.join(' x ')} voxels of ${seriesView.volume.spacing.map((v) => Number(v.toFixed(3))).join(' x ')} mm`
          : '') +
        (result.lungRadsCategory ? `, AI Lung-RADS ${result.lungRadsCategory}` : ''),
    );
    for (const issue of seriesView.quality) out(`    ${issue.severity} ${issue.code}: ${issue.message}`);
    if (seriesView.error) out(`    error ${seriesView.error.code}: ${seriesView.error.message}`);
    if (result.volumeKey) {
      out(
        `  volume (NIfTI-1, int16 HU, opens in any NIfTI viewer): ${path.join(platform.config.dataDir, 'blobs', result.volumeKey)}`,
      );
    }
    const findings = (await get(`/api/series/${uid}/findings`)) as {
      run: { model: { id: string; version: string }; timingsMs: Record<string, number> | null } | null;
      findings: {
        centreLps: number[];
        meanDiameterMm: number;
        longAxisMm: number;
        shortAxisMm: number;
        type: string;
        score: number;
        maskBlobKey: string | null;
      }[];
    };
    if (!findings.run) {
      out('  no detection ran (the series was rejected or failed: see its quality and error above)');
      continue;
    }
    out(
      `  ${findings.findings.length} nodule finding(s) by ${findings.run.model.id}@${findings.run.model.version}:`,
    );
    for (const f of findings.findings) {
      out(
        `    ${f.type.padEnd(12)} ${f.meanDiameterMm.toFixed(1).padStart(5)} mm (${f.longAxisMm} x ${f.shortAxisMm}) ` +
          `p ${f.score.toFixed(3)} at LPS [${f.centreLps.map((v) => v.toFixed(1)).join(', ')}]`,
      );
    }
    out(
      '  (p: the calibrated probability that a finding is a nodule. The shipped model was trained with synthetic\n' +
        '   nodules in this scan, so this is a demonstration, not an evaluation: held-out figures are in\n' +
        `   ${path.join('models', 'cards', 'nodus-detector-2.md')})`,
    );
  }
  out();
  const worklist = (await get('/api/worklist')) as {
    items: {
      studyId: string;
      category: string | null;
      status: string;
      noduleCount: number;
      institutionCode: string;
    }[];
  };
  out(`Worklist (GET ${apiUrl}/api/worklist): highest Lung-RADS category first`);
  for (const item of worklist.items) {
    out(
      `  study ${item.studyId}  Lung-RADS ${item.category ?? '-'}  ${item.status}  ` +
        `${item.noduleCount} nodule(s)  institution ${item.institutionCode}`,
    );
  }
  const first = worklist.items[0];
  if (first) {
    const study = (await get(`/api/studies/${first.studyId}`)) as {
      review: { lungRads: { category: string; management: string; rules: string[] } | null } | null;
    };
    const lungRads = study.review?.lungRads;
    if (lungRads) {
      out(`  Lung-RADS v2022 ${lungRads.category}: ${lungRads.management}`);
      for (const rule of lungRads.rules) out(`    rule ${rule}`);
    }
  }
  out();
  await runResearchDemo(apiUrl, token, first?.studyId);
  out();
  out('Where to look:');
  const auth = `-H 'Authorization: Bearer ${token}'`;
  out(`  curl ${apiUrl}/readyz`);
  out(`  curl ${auth} ${apiUrl}/api/worklist`);
  if (first) out(`  curl ${auth} ${apiUrl}/api/studies/${first.studyId}`);
  if (summary.seriesInstanceUids[0]) {
    out(`  curl ${auth} ${apiUrl}/api/series/${summary.seriesInstanceUids[0]}/findings`);
  }
  out(
    '  review as a radiologist: nodus user add --email you@example.org --role radiologist --institution <code>; ' +
      'nodus token create --email you@example.org; then POST /api/studies/<id>/review-actions (see /openapi.json)',
  );
  if (first) {
    // A radiologist of the demo study's institution, to sign in to the workspace with.
    const email = 'radiologist@nodus.local';
    const user =
      (await findUserByEmail(platform.database.db, email)) ??
      (await createUser(platform.database.db, {
        email,
        displayName: 'Demo^Radiologist',
        role: 'radiologist',
        institutionCodes: [first.institutionCode],
      }));
    const { token: reader } = await issueToken(platform.database.db, user.id, { label: 'npm run demo' });
    out(`  ${apiUrl}/  (the workspace: sign in with the radiologist token ${reader})`);
    out();
    await runSharingDemo(apiUrl, reader, first.studyId, platform.config.dataDir);
    out();
  }
  const [studyAnswer] = (await get('/dicomweb/studies?limit=1')) as Record<string, { Value?: string[] }>[];
  const studyUid = studyAnswer?.['0020000D']?.Value?.[0];
  out(`  curl ${auth} '${apiUrl}/dicomweb/studies?PatientName=*&includefield=StudyDescription'  (QIDO-RS)`);
  if (studyUid) {
    out(
      `  curl ${auth} ${apiUrl}/dicomweb/studies/${studyUid}/series  (its series, then .../metadata, frames)`,
    );
    if (viewerUrl) {
      out(`  ${viewerUrl}/viewer?StudyInstanceUIDs=${studyUid}&token=${token}  (the study in OHIF)`);
    }
  }
  if (platform.temporalUiUrl)
    out(`  ${platform.temporalUiUrl}  (Temporal UI: the processSeries workflow history)`);
  // storescu from this machine may store into the demo study's institution (senders are configured).
  if (first) {
    await upsertApplicationEntity(platform.database.db, {
      aeTitle: 'STORESCU',
      address: '127.0.0.1',
      institutionCode: first.institutionCode,
      description: 'npm run demo: storescu on this machine',
    });
    out(
      `Send more: storescu to the DICOM line above (STORESCU from 127.0.0.1 stores into ${first.institutionCode}; ` +
        'other senders: nodus ae add), or STOW-RS to /dicomweb/studies.',
    );
  }
  out(
    'Offline: npm run --silent nodus -- detect <series-folder> --json; nodus eval --lidc <case-folder> (see README).',
  );
}
