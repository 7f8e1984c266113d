import fs from 'node:fs/promises';
import { assessLungRads } from '../findings/lung-rads/lung-rads.js';
import { parseLungRadsInput } from '../findings/lung-rads/lung-rads-input.js';
import { DomainError } from '../shared/errors.js';

/**
 * `nodus lungrads <file.json>`: reads `{ "priorExam": boolean, "nodules": [...] }` (see
 * lung-rads-input.ts), assigns the Lung-RADS v2022 category and prints it as JSON. Returns the exit code.
 *
 * @throws DomainError `NOT_FOUND` when the file cannot be read, `VALIDATION_FAILED` for invalid JSON or input.
 */
export async function lungRadsCommand(
  file: string,
  out: Pick<NodeJS.WritableStream, 'write'> = process.stdout,
): Promise<number> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    throw new DomainError('NOT_FOUND', `cannot read ${file}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DomainError('VALIDATION_FAILED', `${file} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const result = assessLungRads(parseLungRadsInput(json));
  const { version, category, modifiers, management, followUpMonths, rules, nodules } = result;
  out.write(
    `${JSON.stringify({ version, category, modifiers, management, followUpMonths, rules, nodules }, null, 2)}\n`,
  );
  return 0;
}
