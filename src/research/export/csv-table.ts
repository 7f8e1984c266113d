/** A table cell: numbers are written in JavaScript's shortest round-trip form, null as an empty field. */
export type Cell = string | number | boolean | null;

/**
 * RFC 4180 CSV: a header line, then one line per row, CRLF line ends; a field with a comma, quote, CR or LF is
 * quoted and its quotes doubled. The same rows always give the same bytes.
 */
export function toCsv(columns: readonly string[], rows: readonly Readonly<Record<string, Cell>>[]): string {
  const lines = [columns.map(field).join(',')];
  for (const row of rows) lines.push(columns.map((column) => field(row[column] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function field(value: Cell): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
