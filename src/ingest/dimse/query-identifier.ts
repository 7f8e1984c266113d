import dcmjs from 'dcmjs';
import type { QidoLevel } from '../../api/dicomweb/qido-attributes.js';
import { DomainError } from '../../shared/errors.js';
import type { DicomJsonDataset } from '../../dicom/dicom-json.js';

/** QueryRetrieveLevel (0008,0052) values of the Study Root model and the QIDO-RS level each answers. */
const LEVELS: Readonly<Record<string, QidoLevel>> = { STUDY: 'study', SERIES: 'series', IMAGE: 'instance' };
const QIDO_LEVEL_NAMES: Readonly<Record<QidoLevel, string>> = {
  study: 'STUDY',
  series: 'SERIES',
  instance: 'IMAGE',
};

/** Keys of an identifier that are not matching or return keys. */
const NOT_KEYS = new Set(['QueryRetrieveLevel', 'SpecificCharacterSet', '_vrMap', 'QueryRetrieveView']);

export interface IdentifierQuery {
  level: QidoLevel;
  /** The matching keys as QIDO-RS query parameters (keywords; `\`-joined lists). */
  params: URLSearchParams;
  /** Every key of the identifier: what the answers must carry (PS3.4 C.2.2.1.2). */
  returnKeys: string[];
}

/** One value of a naturalized identifier element as QIDO-RS text: PN as its alphabetic group, lists `\`-joined. */
function alphabetic(value: object): string | undefined {
  const group = (value as { Alphabetic?: unknown }).Alphabetic;
  return group === undefined || group === null ? '' : typeof group === 'string' ? group.trim() : undefined;
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    const parts = (value as unknown[]).map((item) => {
      if (item && typeof item === 'object' && 'Alphabetic' in item) return alphabetic(item);
      return typeof item === 'string' || typeof item === 'number' ? String(item).trim() : undefined;
    });
    return parts.some((part) => part === undefined) ? undefined : parts.join('\\');
  }
  if (typeof value === 'object' && 'Alphabetic' in value) return alphabetic(value);
  return undefined;
}

/**
 * The query a C-FIND identifier (Study Root, PS3.4 C.6.2) asks, in the same terms as QIDO-RS, so one set
 * of PostgreSQL queries answers both. Throws VALIDATION_FAILED for a missing or unknown level.
 */
export function identifierQuery(elements: Record<string, unknown>): IdentifierQuery {
  const levelName = typeof elements.QueryRetrieveLevel === 'string' ? elements.QueryRetrieveLevel.trim() : '';
  const level = LEVELS[levelName];
  if (!level) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `QueryRetrieveLevel must be STUDY, SERIES or IMAGE, not ${JSON.stringify(levelName)}`,
    );
  }
  const params = new URLSearchParams();
  const returnKeys: string[] = [];
  for (const [keyword, value] of Object.entries(elements)) {
    if (NOT_KEYS.has(keyword)) continue;
    returnKeys.push(keyword);
    const text = asText(value);
    if (text === undefined) continue; // a sequence: not matched on, returned empty
    params.append(keyword, text);
  }
  return { level, params, returnKeys };
}

/**
 * A C-FIND response identifier: the return keys from a QIDO-RS answer (empty where it has no value), with
 * the level, UTF-8, and where to retrieve from.
 */
export function responseIdentifier(
  query: IdentifierQuery,
  answer: DicomJsonDataset,
  retrieveAeTitle: string,
): Record<string, unknown> {
  const wanted: DicomJsonDataset = {};
  const empty: Record<string, unknown> = {};
  for (const keyword of query.returnKeys) {
    const entry = dcmjs.data.DicomMetaDictionary.nameMap[keyword];
    const tag = entry?.tag.replace(/[(),]/g, '').toUpperCase();
    const element = tag === undefined ? undefined : answer[tag];
    if (element?.Value !== undefined && element.Value.length > 0) wanted[tag!] = element;
    else empty[keyword] = '';
  }
  return {
    ...empty,
    ...dcmjs.data.DicomMetaDictionary.naturalizeDataset(wanted),
    QueryRetrieveLevel: QIDO_LEVEL_NAMES[query.level],
    SpecificCharacterSet: 'ISO_IR 192',
    RetrieveAETitle: retrieveAeTitle,
  };
}
