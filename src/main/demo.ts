import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles } from '../ingest/import-files.js';
import { writePhantom } from './phantom-command.js';
import type { Platform } from './platform.js';

/** The shared real CT data set next to the checkout, unless NODUS_SAMPLE_DIR says otherwise. */
export function sampleDataDir(configured: string | undefined): string {
  return configured ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
}

/** The series the demo imports: the LIDC-IDRI-0001 chest CT (133 slices). */
export const DEMO_SERIES = path.join('lidc', 'LIDC-IDRI-0001');

/**
 * The main job as far as it exists: import a real chest CT, let its processSeries workflow run,
 * and print the results and where to look.
 */
export async function runDemo(platform: Platform, apiUrl: string, where: string): Promise<void> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('nodus demo: the platform is up');
  out(where);
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
    out(`Waiting for workflow series:${uid} (quiet period ${platform.config.seriesQuietPeriodMs} ms) ...`);
    const result = await platform.seriesWorkflows.result(uid);
    const response = await fetch(`${apiUrl}/api/series/${uid}`);
    out(`  workflow result: ${JSON.stringify(result)}`);
    if (result.volumeKey) {
      out(
        `  volume (NIfTI-1, int16 HU, opens in any NIfTI viewer): ${path.join(platform.config.dataDir, 'blobs', result.volumeKey)}`,
      );
    }
    out(`  GET ${apiUrl}/api/series/${uid}`);
    out(`  ${JSON.stringify(await response.json())}`);
    const findings = (await (await fetch(`${apiUrl}/api/series/${uid}/findings`)).json()) as {
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
    out(`  GET ${apiUrl}/api/series/${uid}/findings`);
    if (!findings.run) {
      out('  no detection ran (the series was rejected or failed: see its quality and error above)');
      continue;
    }
    out(
      `  ${findings.findings.length} nodule finding(s) by ${findings.run.model.id}@${findings.run.model.version} ` +
        `(timings ms: ${JSON.stringify(findings.run.timingsMs)})`,
    );
    for (const f of findings.findings) {
      out(
        `    ${f.type.padEnd(12)} ${f.meanDiameterMm.toFixed(1).padStart(5)} mm (${f.longAxisMm} x ${f.shortAxisMm}) ` +
          `score ${f.score.toFixed(3)} at LPS [${f.centreLps.map((v) => v.toFixed(1)).join(', ')}]` +
          (f.maskBlobKey ? `  mask ${path.join(platform.config.dataDir, 'blobs', f.maskBlobKey)}` : ''),
      );
    }
  }
  out();
  out('Where to look:');
  out(`  curl ${apiUrl}/readyz`);
  if (summary.seriesInstanceUids[0]) {
    out(`  curl ${apiUrl}/api/series/${summary.seriesInstanceUids[0]}`);
    out(`  curl ${apiUrl}/api/series/${summary.seriesInstanceUids[0]}/findings`);
  }
  if (platform.temporalUiUrl)
    out(`  ${platform.temporalUiUrl}  (Temporal UI: the processSeries workflow history)`);
  out('Send more: storescu to the DICOM line above, or STOW-RS to /dicomweb/studies.');
  out(
    'Offline: npm run --silent nodus -- detect <series-folder> --json; nodus eval --lidc <case-folder> (see README).',
  );
  out('Lung-RADS, review and cohorts join this workflow as they are built (see README).');
}
