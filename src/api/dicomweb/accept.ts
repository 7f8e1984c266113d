import { parseMediaType, type MediaType } from './multipart-related.js';

/** One media range of an Accept header, with its quality. */
export interface AcceptedRange extends MediaType {
  q: number;
}

/** Splits at commas outside quoted strings (a `type="..."` parameter may hold anything). */
function splitRanges(header: string): string[] {
  const ranges: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i += 1) {
    const ch = header[i];
    if (ch === '\\' && quoted) i += 1;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      ranges.push(header.slice(start, i));
      start = i + 1;
    }
  }
  ranges.push(header.slice(start));
  return ranges.map((r) => r.trim()).filter((r) => r !== '');
}

/**
 * The media ranges of an Accept header, best first (RFC 9110 §12.5.1); `*\/*` when absent. Ranges that do
 * not parse are skipped, so one odd entry does not refuse the request.
 */
export function parseAccept(header: string | undefined | null): AcceptedRange[] {
  if (header === undefined || header === null || header.trim() === '') {
    return [{ essence: '*/*', parameters: Object.create(null) as Record<string, string>, q: 1 }];
  }
  const ranges: AcceptedRange[] = [];
  for (const text of splitRanges(header)) {
    const media = parseMediaType(text);
    if (!media) continue;
    const q = media.parameters.q === undefined ? 1 : Number(media.parameters.q);
    ranges.push({ ...media, q: Number.isFinite(q) ? q : 0 });
  }
  return ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
}

/** Whether a media range covers `type/subtype`. */
export function rangeCovers(range: MediaType, essence: string): boolean {
  if (range.essence === '*/*' || range.essence === essence) return true;
  return range.essence.endsWith('/*') && essence.startsWith(range.essence.slice(0, -1));
}

/** Whether the caller accepts DICOM JSON (application/dicom+json, application/json or a wildcard). */
export function acceptsDicomJson(header: string | undefined): boolean {
  return parseAccept(header).some(
    (range) => rangeCovers(range, 'application/dicom+json') || range.essence === 'application/json',
  );
}
