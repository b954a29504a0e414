/** Other separators a CSV header is commonly written with. */
const CANDIDATES = [';', ',', '\t', '|'];

const name = (d: string) => (d === '\t' ? 'a tab' : `"${d}"`);

/**
 * When a header does not split into the expected columns, says which separator it looks
 * written with and what to set (SKAB files are `;`-separated; the default is `,`). Empty when
 * no other separator fits better. Said, not acted on: a guessed delimiter could silently
 * misread a file whose header merely contains the character.
 */
export function delimiterHint(headerLine: string, delimiter: string): string {
  const columns = headerLine.split(delimiter).length;
  const better = CANDIDATES.filter((d) => d !== delimiter).map((d) => ({ d, n: headerLine.split(d).length })).filter((c) => c.n > columns).sort((a, b) => b.n - a.n)[0];
  if (better === undefined) return '';
  const skab = better.d === ';' && /(^|;)\s*datetime\s*(;|$)/.test(headerLine) ? 'input.format: skab (SKAB files) or ' : '';
  return `; the header looks ${name(better.d)}-separated (${better.n} columns), not ${name(delimiter)}: set ${skab}input.delimiter: ${JSON.stringify(better.d)}`;
}
