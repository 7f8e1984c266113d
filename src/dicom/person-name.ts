/** Most bytes of a PN component group: 64 characters (PS3.5 Table 6.2-1), counted here as UTF-8 bytes. */
const MAX_GROUP_BYTES = 64;
/** Components of a PN component group: family, given, middle, prefix, suffix (PS3.5 §6.2.1.1). */
const MAX_COMPONENTS = 5;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * A person's name as a DICOM PN value (PS3.5 §6.2.1.1), alphabetic component group only:
 * `Family^Given[^Middle^Prefix^Suffix]`. What it accepts, in this order:
 * - a PN already (it has a `^`): its first component group, at most five components;
 * - an e-mail address (a user with no better name): the local part without its `+tag`, its `.`/`_`
 *   separated words as a display name, e.g. `jane.doe@example.org` -> `doe^jane`, `r@example.org` -> `r^`;
 * - `Family, Given`: -> `Family^Given`;
 * - a display name `Given [Middle...] Family`: the last word is the family name, the others the given names.
 *
 * A name of one word is the family name, written with its delimiter (`Name^`): PS3.5 lets trailing
 * delimiters stay, and the value then reads as components, not as the retired free-text form. Characters a
 * component cannot hold (`\` separates values, `=` component groups, `^` components; control characters)
 * and `@` become spaces. The value is cut to 64 bytes of UTF-8 (so also 64 characters), keeping a `^`.
 * Empty when nothing is left.
 */
export function toPersonName(name: string): string {
  const text = name.trim();
  if (text.includes('^')) return fit(text.split('=')[0]!.split('^'));
  if (EMAIL.test(text)) {
    const local = text.slice(0, text.indexOf('@')).split('+')[0]!;
    return fromDisplayName(local.replace(/[._]+/g, ' '));
  }
  return fromDisplayName(text);
}

function fromDisplayName(text: string): string {
  const comma = text.indexOf(',');
  if (comma >= 0) return fit([text.slice(0, comma), text.slice(comma + 1)]);
  const words = clean(text).split(' ').filter(Boolean);
  return fit(words.length > 1 ? [words.at(-1)!, words.slice(0, -1).join(' ')] : words);
}

/** Cleans the components, drops trailing empty ones and fits the group in MAX_GROUP_BYTES. */
function fit(components: string[]): string {
  const parts = components.slice(0, MAX_COMPONENTS).map(clean);
  while (parts.length > 0 && parts.at(-1) === '') parts.pop();
  if (parts.length === 0) return '';
  let value = parts.length === 1 ? `${parts[0]}^` : parts.join('^');
  if (utf8Bytes(value) > MAX_GROUP_BYTES) {
    value = cut(value, MAX_GROUP_BYTES);
    if (!value.includes('^')) value = `${cut(value, MAX_GROUP_BYTES - 1).trimEnd()}^`;
    return fit(value.split('^'));
  }
  return value;
}

function clean(component: string): string {
  return component
    .replace(/[\p{Cc}\\=^@]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The longest prefix of `text`, whole code points, of at most `bytes` bytes of UTF-8. */
function cut(text: string, bytes: number): string {
  let out = '';
  for (const char of text) {
    if (utf8Bytes(out + char) > bytes) break;
    out += char;
  }
  return out;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
