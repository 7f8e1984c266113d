interface Snapshot {
  id: string;
  status: 'freezing' | 'frozen' | 'failed';
  error: string | null;
  studyCount: number | null;
  fileCount: number | null;
  totalBytes: number | null;
}

/**
 * The research part of the demo, through the API: a project with a label vocabulary, a label, a cohort
 * previewed and saved, a frozen snapshot and its de-identified export written by the export workflow.
 */
export async function runResearchDemo(apiUrl: string, token: string, studyId: string | undefined) {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async <T>(
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> => {
    const response = await fetch(`${apiUrl}${route}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('the research demo timed out');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  out('Research: a labelled cohort, frozen and exported de-identified');
  const projects = await call<{ id: string; name: string }[]>('GET', '/api/projects');
  const project =
    projects.json.find((p) => p.name === 'demo') ??
    (
      await call<{ id: string; name: string }>('POST', '/api/projects', {
        name: 'demo',
        description: 'nodus demo',
      })
    ).json;
  await call('POST', `/api/projects/${project.id}/vocabularies`, {
    name: 'follow-up-outcome',
    target: 'study',
    kind: 'category',
    codes: [
      { code: 'stable', meaning: 'stable at follow-up' },
      { code: 'grew', meaning: 'grew at follow-up' },
      { code: 'cancer', meaning: 'lung cancer diagnosed' },
    ],
  }); // 409 on a second demo run: the vocabulary is kept
  if (studyId) {
    const label = await call('POST', `/api/projects/${project.id}/labels`, {
      vocabulary: 'follow-up-outcome',
      studyId,
      code: 'stable',
      source: 'reader',
      evidence: 'follow-up',
    });
    out(
      `  POST /api/projects/${project.id}/labels  -> ${label.status} (follow-up-outcome = stable, by a reader)`,
    );
  }
  const definition = { reviewStatus: ['ready', 'in-review', 'signed-off'], sliceThicknessMm: { max: 3 } };
  const preview = await call('POST', `/api/projects/${project.id}/cohorts/preview`, { definition });
  out(`  cohort ${JSON.stringify(definition)}`);
  out(`  preview: ${JSON.stringify(preview.json)}`);
  const saved = await call<{ cohort: { id: string } }>('POST', `/api/projects/${project.id}/cohorts`, {
    name: `thin-slice screened studies ${new Date().toISOString()}`,
    definition,
  });
  const cohortId = saved.json.cohort.id;
  const created = await call<Snapshot>('POST', `/api/cohorts/${cohortId}/snapshots`, {});
  if (created.status !== 202) {
    out(`  snapshot refused: ${JSON.stringify(created.json)}`);
    return;
  }
  const snapshot = await until(async () => {
    const s = (await call<Snapshot>('GET', `/api/snapshots/${created.json.id}`)).json;
    return s.status === 'freezing' ? undefined : s;
  });
  if (snapshot.status !== 'frozen') {
    out(`  snapshot failed: ${snapshot.error}`);
    return;
  }
  out(
    `  snapshot ${snapshot.id} frozen: ${snapshot.studyCount} studies, ${snapshot.fileCount} files, ` +
      `${((snapshot.totalBytes ?? 0) / 1e6).toFixed(1)} MB (every file's SHA-256 in its manifest)`,
  );
  await call('POST', `/api/snapshots/${snapshot.id}/exports`, {});
  const exported = await until(async () => {
    const status = (
      await call<{ status: string; outDir: string; error?: string; progress?: { filesDone: number } }>(
        'GET',
        `/api/snapshots/${snapshot.id}/exports`,
      )
    ).json;
    return status.status === 'running' || status.status === 'not-started' ? undefined : status;
  });
  out(`  export workflow ${exported.status}: ${exported.error ?? exported.outDir}`);
  const auth = `-H 'Authorization: Bearer ${token}'`;
  out(`  curl ${auth} ${apiUrl}/api/snapshots/${snapshot.id}/manifest`);
  out(
    `  curl ${auth} ${apiUrl}/api/snapshots/${snapshot.id}/archive -o snapshot.tar   (the same bytes every time)`,
  );
  out(`  npm run --silent nodus -- export ${snapshot.id} --out <folder>`);
  if (!process.env.NODUS_DEID_KEY) {
    out('  (pseudonyms are keyed by a key made for this run; set NODUS_DEID_KEY to keep them stable)');
  }
}
