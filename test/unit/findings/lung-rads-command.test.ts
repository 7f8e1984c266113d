import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lungRadsCommand } from '../../../src/main/lungrads-command.js';
import { DomainError } from '../../../src/shared/errors.js';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nodus-lungrads-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Writes `content` (JSON unless a string) to a temp file and runs the command, capturing what it prints. */
async function run(content: unknown) {
  const file = path.join(dir, `input-${Math.random().toString(36).slice(2)}.json`);
  await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  let printed = '';
  const out = {
    write: (chunk: string | Uint8Array) => {
      printed += String(chunk);
      return true;
    },
  };
  const code = await lungRadsCommand(file, out);
  return { code, printed };
}

async function rejection(content: unknown): Promise<DomainError> {
  const error: unknown = await run(content).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('lungRadsCommand', () => {
  it('prints the category, modifiers, management, follow-up, rules and nodules as JSON', async () => {
    const { code, printed } = await run({
      priorExam: true,
      significantOtherFindings: true,
      nodules: [
        { id: 'a', type: 'solid', meanDiameterMm: 9.2, status: 'stable' },
        { id: 'b', type: 'part-solid', meanDiameterMm: 7, solidComponentMm: 3, status: 'growing' },
      ],
    });
    expect(code).toBe(0);
    const output = JSON.parse(printed) as Record<string, unknown>;
    expect(output).toMatchObject({
      version: 'v2022',
      category: '4A',
      modifiers: ['S'],
      followUpMonths: 3,
      nodules: [
        { id: 'a', index: 0, category: '3' },
        { id: 'b', index: 1, category: '4A' },
      ],
    });
    expect(output.management).toEqual(expect.stringContaining('3 months'));
    expect(output.rules).toEqual([
      'exam.most-suspicious: the exam takes the category of its most suspicious nodule -> 4A',
      'part-solid.new-or-growing.solid-lt4mm: new part-solid nodule >= 6 mm total, or growing part-solid nodule, with solid component < 4 mm -> 4A',
      'modifier.S: clinically significant or potentially significant finding other than lung cancer -> S',
    ]);
    expect(printed.endsWith('\n')).toBe(true);
  });

  it('accepts an exam without nodules (category 1)', async () => {
    const { printed } = await run({ priorExam: false, nodules: [] });
    expect(JSON.parse(printed)).toMatchObject({ category: '1', followUpMonths: 12, modifiers: [] });
  });

  const invalidRows: [description: string, content: unknown, fragments: string[]][] = [
    [
      'wrong field types and values',
      {
        priorExam: 'no',
        nodules: [
          { type: 'solid', meanDiameterMm: -3, status: 'baseline' },
          { type: 'solid', meanDiameterMm: 5, status: 'shrinking' },
        ],
      },
      ['priorExam', 'nodules.0.meanDiameterMm', 'nodules.1.status'],
    ],
    ['missing nodules', { priorExam: false }, ['nodules']],
    [
      'unknown field',
      { priorExam: false, nodules: [{ type: 'solid', meanDiameterMm: 5, status: 'baseline', size: 5 }] },
      ['nodules.0', 'size'],
    ],
    [
      'part-solid without solid component (domain rule)',
      { priorExam: false, nodules: [{ type: 'part-solid', meanDiameterMm: 8, status: 'baseline' }] },
      ['nodules[0].solidComponentMm is required'],
    ],
    [
      'stable nodule without a prior exam (domain rule)',
      { priorExam: false, nodules: [{ type: 'solid', meanDiameterMm: 8, status: 'stable' }] },
      ["status 'stable' needs a prior exam"],
    ],
    ['invalid JSON', '{ "priorExam": ', ['not valid JSON']],
    ['not an object', '[1, 2]', ['(root)']],
  ];

  it.each(invalidRows)('rejects %s with VALIDATION_FAILED', async (_description, content, fragments) => {
    const error = await rejection(content);
    expect(error.code).toBe('VALIDATION_FAILED');
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it('rejects a missing file with NOT_FOUND', async () => {
    const error: unknown = await lungRadsCommand(path.join(dir, 'absent.json'), { write: () => true }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('NOT_FOUND');
  });
});
