import { describe, expect, it } from 'vitest';
import { parseQidoQuery, QIDO_MAX_LIMIT } from '../../../../src/api/dicomweb/qido-query.js';
import { needsStoredMetadata } from '../../../../src/api/dicomweb/qido-answer.js';
import { likePattern } from '../../../../src/db/repositories/dicomweb-query.js';

const parse = (level: 'study' | 'series' | 'instance', query: string) =>
  parseQidoQuery(level, new URLSearchParams(query));

describe('parseQidoQuery', () => {
  it('reads keys as keywords or hex tags, with wildcards, ranges and UID lists', () => {
    const query = parse(
      'study',
      'PatientName=*doe*&00100020=P1&StudyDate=20240101-20241231&StudyInstanceUID=1.2.3\\1.2.4,1.2.5&ModalitiesInStudy=CT\\SR',
    );
    expect(query.filters.map((f) => [f.attribute.keyword, f.kind])).toEqual([
      ['PatientName', 'text'],
      ['PatientID', 'text'],
      ['StudyDate', 'range'],
      ['StudyInstanceUID', 'uids'],
      ['ModalitiesInStudy', 'modalities'],
    ]);
    expect(query.filters[2]).toMatchObject({ from: '2024-01-01', to: '2024-12-31' });
    expect(query.filters[3]).toMatchObject({ uids: ['1.2.3', '1.2.4', '1.2.5'] });
    expect(query.filters[4]).toMatchObject({ modalities: ['CT', 'SR'] });
  });

  it('open ranges, single dates and times', () => {
    expect(parse('study', 'StudyDate=20240101-').filters[0]).toEqual(
      expect.objectContaining({ from: '2024-01-01' }),
    );
    expect(parse('study', 'StudyDate=-20240101').filters[0]).not.toHaveProperty('from');
    expect(parse('study', 'StudyDate=20240101').filters[0]).toMatchObject({
      from: '2024-01-01',
      to: '2024-01-01',
    });
    expect(parse('study', 'StudyTime=0800-1730').filters[0]).toMatchObject({
      from: '08:00:00',
      to: '17:30:00',
    });
  });

  it('empty values and * only ask for the attribute; includefield takes lists, keywords and all', () => {
    const query = parse(
      'study',
      '00100030=&PatientSex=*&includefield=00081030,StudyDescription&includefield=0008103E',
    );
    expect(query.filters).toEqual([]);
    expect([...(query.includeFields as Set<string>)].sort()).toEqual([
      '00081030',
      '0008103E',
      '00100030',
      '00100040',
    ]);
    expect(parse('instance', 'includefield=all').includeFields).toBe('all');
  });

  it('limit and offset; a large limit is lowered with a warning', () => {
    expect(parse('study', 'limit=101&offset=5')).toMatchObject({ limit: 101, offset: 5, warnings: [] });
    const capped = parse('study', `limit=${QIDO_MAX_LIMIT * 50}`);
    expect(capped.limit).toBe(QIDO_MAX_LIMIT);
    expect(capped.warnings).toEqual([`limit ${QIDO_MAX_LIMIT * 50} was lowered to ${QIDO_MAX_LIMIT}`]);
  });

  it('ignores, with a warning, keys that are not matching keys at the level', () => {
    const query = parse('study', 'SOPInstanceUID=1.2.3&PixelSpacing=1&00400275.00321060=x');
    expect(query.filters).toEqual([]);
    expect(query.warnings).toHaveLength(3);
    expect(parse('instance', 'SOPInstanceUID=1.2.3&Modality=CT&PatientID=x').filters).toHaveLength(3);
  });

  it.each([
    ['StudyDate=2024-01-01', /StudyDate/],
    ['StudyDate=20240230', /StudyDate.*not a calendar date/],
    ['StudyDate=20241231-20240101', /StudyDate \(00080020\) is an empty range/],
    ['StudyInstanceUID=1.2.abc', /StudyInstanceUID.*not a list of UIDs/],
    ['NoSuchKeyword=1', /NoSuchKeyword is neither a DICOM keyword/],
    ['limit=-1', /limit must be a non-negative integer/],
    ['offset=x', /offset must be/],
    ['includefield=Bogus', /includefield names no DICOM attribute/],
    ['SeriesNumber=3.5', /SeriesNumber.*integer/],
  ])('refuses %s naming the attribute', (query, message) => {
    const level = query.startsWith('SeriesNumber') ? 'series' : 'study';
    expect(() => parse(level, query)).toThrow(message);
  });
});

describe('likePattern', () => {
  it('maps DICOM wildcards and escapes LIKE characters', () => {
    expect(likePattern('*do?e*')).toBe('%do_e%');
    expect(likePattern('100%_a\\b')).toBe('100\\%\\_a\\\\b');
  });
});

describe('needsStoredMetadata', () => {
  it("reads instances' metadata only for fields the indexed columns and counts do not answer", () => {
    // What OHIF's study list asks: all indexed at the study level except Modality (a series attribute).
    expect(needsStoredMetadata(parse('study', 'includefield=00081030,00100030'))).toBe(false);
    expect(needsStoredMetadata(parse('study', 'includefield=00081030,00080060'))).toBe(true);
    expect(needsStoredMetadata(parse('series', 'includefield=0008103E,00080021&PatientID=x'))).toBe(false);
    expect(needsStoredMetadata(parse('instance', 'includefield=00280010,00280030'))).toBe(true);
    expect(needsStoredMetadata(parse('instance', 'includefield=00280010'))).toBe(false);
    expect(needsStoredMetadata(parse('study', 'includefield=00280010'))).toBe(true);
    expect(needsStoredMetadata(parse('study', 'includefield=all'))).toBe(true);
  });
});
