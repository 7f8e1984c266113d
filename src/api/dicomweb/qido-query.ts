import dcmjs from 'dcmjs';
import { DomainError } from '../../shared/errors.js';
import { isDicomUid } from '../../shared/dicom-uid.js';
import { LEVELS_ABOVE, QIDO_ATTRIBUTES, type QidoAttribute, type QidoLevel } from './qido-attributes.js';

/** One matching key of a query, already validated. */
export type QidoFilter =
  | { attribute: QidoAttribute; kind: 'text'; pattern: string }
  | { attribute: QidoAttribute; kind: 'uids'; uids: string[] }
  | { attribute: QidoAttribute; kind: 'range'; from?: string; to?: string }
  | { attribute: QidoAttribute; kind: 'integer'; value: number }
  | { attribute: QidoAttribute; kind: 'modalities'; modalities: string[] };

export interface QidoQuery {
  level: QidoLevel;
  filters: QidoFilter[];
  /** Tags to return beyond the level's default attributes; `all`: every attribute nodus has. */
  includeFields: Set<string> | 'all';
  limit: number;
  offset: number;
  /** Warning header texts (RFC 7234 code 299): keys nodus ignored, a limit it lowered. */
  warnings: string[];
}

/** Largest page a QIDO-RS answer holds; a larger `limit` is lowered to it (with a Warning). */
export const QIDO_MAX_LIMIT = 1000;
/** The page size without `limit`. */
export const QIDO_DEFAULT_LIMIT = 1000;

/** Query parameters that are not attributes (PS3.18 Table 8.3.4-1). */
const RESERVED = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);

const tagPattern = /^[0-9A-Fa-f]{8}$/;

/** The tag of an attribute named by keyword or by 8 hex digits; undefined when it names no attribute. */
export function resolveTag(key: string): string | undefined {
  if (tagPattern.test(key)) return key.toUpperCase();
  const entry = dcmjs.data.DicomMetaDictionary.nameMap[key];
  return entry?.tag?.replace(/[(),]/g, '').toUpperCase();
}

/** Keyword of a tag for messages: `PatientName (00100010)`. */
function named(key: string, tag: string): string {
  const attribute = QIDO_ATTRIBUTES.get(tag);
  const keyword = attribute?.keyword ?? (tagPattern.test(key) ? undefined : key);
  return keyword ? `${keyword} (${tag})` : tag;
}

/**
 * Parses a QIDO-RS query string (PS3.18 §8.3.4) for `level`. Matching keys may be keywords or tags;
 * empty values only ask for the attribute to be returned. Throws VALIDATION_FAILED naming the attribute
 * for a malformed value or an unknown name; keys nodus cannot match on are ignored with a warning.
 */
export function parseQidoQuery(level: QidoLevel, params: URLSearchParams): QidoQuery {
  const warnings: string[] = [];
  const filters: QidoFilter[] = [];
  let includeFields: Set<string> | 'all' = new Set();
  const levels = LEVELS_ABOVE[level];

  for (const value of params.getAll('includefield')) {
    for (const field of value.split(',').map((f) => f.trim())) {
      if (field === '') continue;
      if (field === 'all') {
        includeFields = 'all';
        continue;
      }
      const tag = resolveTag(field);
      if (!tag) throw invalid('includefield', `names no DICOM attribute: ${JSON.stringify(field)}`);
      if (includeFields !== 'all') includeFields.add(tag);
    }
  }

  for (const [key, raw] of params) {
    if (RESERVED.has(key)) continue;
    if (key.includes('.')) {
      warnings.push(`the sequence matching key ${key} is not supported and was ignored`);
      continue;
    }
    const tag = resolveTag(key);
    if (!tag) throw invalid(key, 'is neither a DICOM keyword nor an 8-digit tag');
    if (includeFields !== 'all') includeFields.add(tag);
    const value = raw.trim();
    if (value === '' || value === '*') continue; // universal matching
    const attribute = QIDO_ATTRIBUTES.get(tag);
    if (!attribute || !levels.includes(attribute.level)) {
      warnings.push(`${named(key, tag)} is not a matching key at the ${level} level and was ignored`);
      continue;
    }
    filters.push(filterFor(attribute, value, named(key, tag)));
  }

  return {
    level,
    filters,
    includeFields,
    ...paging(params, warnings),
    warnings,
  };
}

function paging(params: URLSearchParams, warnings: string[]): { limit: number; offset: number } {
  const count = (name: string): number | undefined => {
    const raw = params.get(name);
    if (raw === null || raw.trim() === '') return undefined;
    if (!/^\d+$/.test(raw.trim()))
      throw invalid(name, `must be a non-negative integer, not ${JSON.stringify(raw)}`);
    return Number(raw.trim());
  };
  let limit = count('limit') ?? QIDO_DEFAULT_LIMIT;
  if (limit > QIDO_MAX_LIMIT) {
    warnings.push(`limit ${limit} was lowered to ${QIDO_MAX_LIMIT}`);
    limit = QIDO_MAX_LIMIT;
  }
  const offset = count('offset') ?? 0;
  if (offset > Number.MAX_SAFE_INTEGER) throw invalid('offset', 'is too large');
  return { limit, offset };
}

function filterFor(attribute: QidoAttribute, value: string, name: string): QidoFilter {
  switch (attribute.match) {
    case 'uids': {
      const uids = value
        .split(/[\\,]/)
        .map((uid) => uid.trim())
        .filter((uid) => uid !== '');
      const bad = uids.find((uid) => !isDicomUid(uid));
      if (bad !== undefined) throw invalid(name, `is not a list of UIDs: ${JSON.stringify(bad)}`);
      return { attribute, kind: 'uids', uids };
    }
    case 'date':
      return { attribute, kind: 'range', ...range(value, name, /^\d{8}$/, isoDate, 'YYYYMMDD') };
    case 'time':
      return {
        attribute,
        kind: 'range',
        ...range(value, name, /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/, isoTime, 'HHMMSS'),
      };
    case 'integer': {
      if (!/^[+-]?\d{1,10}$/.test(value))
        throw invalid(name, `must be an integer, not ${JSON.stringify(value)}`);
      return { attribute, kind: 'integer', value: Number(value) };
    }
    case 'modalities': {
      const modalities = value
        .split(/[\\,]/)
        .map((m) => m.trim())
        .filter((m) => m !== '');
      const bad = modalities.find((m) => !/^[A-Z0-9 _]{1,16}$/.test(m));
      if (bad !== undefined) throw invalid(name, `is not a list of modalities: ${JSON.stringify(bad)}`);
      return { attribute, kind: 'modalities', modalities };
    }
    case 'text':
      if (value.length > 256) throw invalid(name, 'is longer than 256 characters');
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f]/.test(value)) throw invalid(name, 'contains control characters');
      return { attribute, kind: 'text', pattern: value };
  }
}

/** A DICOM range matching value: `A`, `A-B`, `A-` or `-B` of `single`-formatted parts. */
function range(
  value: string,
  name: string,
  single: RegExp,
  toIso: (part: string, name: string) => string,
  format: string,
): { from?: string; to?: string } {
  const dash = value.indexOf('-');
  const parts = dash === -1 ? [value, value] : [value.slice(0, dash), value.slice(dash + 1)];
  const [from, to] = parts.map((part) => part.trim());
  if (dash !== -1 && from === '' && to === '') throw invalid(name, 'is an empty range');
  for (const part of [from, to]) {
    if (part !== '' && !single.test(part!)) {
      throw invalid(name, `must be ${format} or a range ${format}-${format}, not ${JSON.stringify(value)}`);
    }
  }
  const result: { from?: string; to?: string } = {};
  if (from) result.from = toIso(from, name);
  if (to) result.to = toIso(to, name);
  if (result.from && result.to && result.from > result.to) throw invalid(name, `is an empty range: ${value}`);
  return result;
}

function isoDate(part: string, name: string): string {
  const iso = `${part.slice(0, 4)}-${part.slice(4, 6)}-${part.slice(6, 8)}`;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) {
    throw invalid(name, `holds ${part}, which is not a calendar date`);
  }
  return iso;
}

function isoTime(part: string): string {
  return `${part.slice(0, 2)}:${part.slice(2, 4) || '00'}:${part.slice(4, 6) || '00'}`;
}

function invalid(name: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${name} ${message}`, { context: { attribute: name } });
}
