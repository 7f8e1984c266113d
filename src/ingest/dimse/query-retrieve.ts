import {
  instanceAnswer,
  needsStoredMetadata,
  seriesAnswer,
  studyAnswer,
} from '../../api/dicomweb/qido-answer.js';
import { parseQidoQuery, QIDO_MAX_LIMIT, type QidoQuery } from '../../api/dicomweb/qido-query.js';
import type { Database } from '../../db/client.js';
import {
  searchInstances,
  searchSeries,
  searchStudies,
  type InstanceRow,
  type QidoScope,
} from '../../db/repositories/dicomweb-query.js';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';
import { DomainError } from '../../shared/errors.js';
import { identifierQuery, responseIdentifier } from './query-identifier.js';

/** C-FIND answers carry no URLs; the QIDO-RS answer builders want a base. */
const NO_BASE_URL = '';

/** Keys a C-MOVE or C-GET identifier selects instances by, per level (PS3.4 C.4.2.2.1, C.4.3.2.1). */
const RETRIEVE_KEYS = {
  study: ['StudyInstanceUID'],
  series: ['StudyInstanceUID', 'SeriesInstanceUID'],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'],
} as const;

/**
 * The matches of a Study Root C-FIND identifier in the institutions given (undefined: all), as response
 * identifiers, page by page from the same PostgreSQL queries as QIDO-RS. `retrieveAeTitle` is where the
 * caller may C-MOVE/C-GET them from (nodus itself).
 */
export async function* findMatches(
  db: Database,
  elements: Record<string, unknown>,
  institutionIds: readonly string[] | undefined,
  retrieveAeTitle: string,
): AsyncGenerator<Record<string, unknown>> {
  const identifier = identifierQuery(elements);
  const query = parseQidoQuery(identifier.level, identifier.params);
  const scope: QidoScope = { institutionIds, withMetadata: needsStoredMetadata(query) };
  for (let offset = 0; ; offset += QIDO_MAX_LIMIT) {
    const page: QidoQuery = { ...query, limit: QIDO_MAX_LIMIT, offset };
    const answers = await answerPage(db, page, scope);
    for (const answer of answers) yield responseIdentifier(identifier, answer, retrieveAeTitle);
    if (answers.length < QIDO_MAX_LIMIT) return;
  }
}

async function answerPage(db: Database, query: QidoQuery, scope: QidoScope): Promise<DicomJsonDataset[]> {
  switch (query.level) {
    case 'study':
      return (await searchStudies(db, query, scope)).map((row) => studyAnswer(row, query, NO_BASE_URL));
    case 'series':
      return (await searchSeries(db, query, scope)).map((row) =>
        seriesAnswer(row, query, NO_BASE_URL, false),
      );
    case 'instance':
      return (await searchInstances(db, query, scope)).map((row) =>
        instanceAnswer(row, query, NO_BASE_URL, 'none'),
      );
  }
}

/**
 * The instances a C-MOVE or C-GET identifier selects (by the unique keys of its level, UID lists allowed),
 * in series and instance order. Throws VALIDATION_FAILED when a level's unique key is missing.
 */
export async function instancesToSend(
  db: Database,
  elements: Record<string, unknown>,
  institutionIds: readonly string[] | undefined,
): Promise<InstanceRow[]> {
  const identifier = identifierQuery(elements);
  const params = new URLSearchParams();
  for (const keyword of RETRIEVE_KEYS[identifier.level]) {
    const value = identifier.params.get(keyword);
    if (value) params.set(keyword, value);
  }
  const lowest = RETRIEVE_KEYS[identifier.level].at(-1)!;
  if (!params.get(lowest)) {
    throw new DomainError('VALIDATION_FAILED', `a ${identifier.level} level retrieve needs ${lowest}`);
  }
  const query = parseQidoQuery('instance', params);
  const rows: InstanceRow[] = [];
  for (let offset = 0; ; offset += QIDO_MAX_LIMIT) {
    const page = await searchInstances(
      db,
      { ...query, limit: QIDO_MAX_LIMIT, offset },
      { institutionIds, withMetadata: false },
    );
    rows.push(...page);
    if (page.length < QIDO_MAX_LIMIT) return rows;
  }
}
