/**
 * RFC 4180 output: a field holding the separator, a double quote, CR or LF is quoted, its
 * quotes doubled. Entity ids are free text (`line 3, pump "A"`); written raw, one comma shifts
 * every later column and one newline splits the row.
 */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record (without its line ending). */
export function csvRow(values: (string | number)[]): string {
  return values.map(csvField).join(',');
}
