import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { SeismoError } from '../errors.js';
import type { InputConfig } from '../config/schema.js';
import type { PoisonRecord, Reading } from '../pipeline/types.js';
import { inTimestampRange, parseTimestamp, timestampProblem } from './decode.js';
import { delimiterHint } from './csv-hints.js';
import { timestampParser } from './timestamp-format.js';

/**
 * A plain decimal number: optional sign, digits with an optional fraction, optional exponent.
 * Number() alone would also take "0x10" (16), "0b1", "Infinity" and whitespace-only cells (0).
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV value cell: NaN for an empty cell (a missing value), undefined for anything not a finite decimal number. */
export function parseCell(cell: string): number | undefined {
  const t = cell.trim();
  if (t === '') return NaN;
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

export interface ParsedRows {
  readings: Reading[];
  poison: PoisonRecord[];
  /** Feature columns found in the header, in file order. */
  features: string[];
  /** Per reading, the label columns (e.g. anomaly, changepoint) when the file has them. */
  labels: Record<string, number>[];
  /** Per reading, its 1-based line in the file (bad and blank rows are skipped, so not index + 2). */
  lines: number[];
}

/**
 * Parses a CSV file into Readings. SKAB files are `;`-separated with a `datetime` column and
 * `anomaly`/`changepoint` labels; generic CSV takes its columns from config. A bad row becomes
 * a PoisonRecord with its line number; a file that cannot be used at all throws.
 */
export function parseCsv(text: string, source: string, input: InputConfig): ParsedRows {
  const delimiter = input.format === 'skab' ? ';' : input.delimiter;
  const timestampColumn = input.format === 'skab' ? 'datetime' : input.timestampColumn;
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(delimiter).map((h) => h.trim());
  // Two columns of one name would overwrite each other's values in every reading: refuse it.
  const twice = header.filter((h, i) => h !== '' && header.indexOf(h) !== i);
  if (twice.length > 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${source}:1: column ${[...new Set(twice)].map((h) => `"${h}"`).join(', ')} appears more than once in the header`);
  const tsIndex = header.indexOf(timestampColumn);
  if (tsIndex < 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${source}:1: no timestamp column "${timestampColumn}" in header [${header.join(', ')}]${delimiterHint(lines[0] ?? '', delimiter)}`);
  const entityIndex = input.entityColumn === undefined ? -1 : header.indexOf(input.entityColumn);
  if (input.entityColumn !== undefined && entityIndex < 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${source}:1: no entity column "${input.entityColumn}" in header`);
  const labelColumns = new Set(input.ignoreColumns);
  const featureIdx: number[] = [];
  const labelIdx: number[] = [];
  header.forEach((name, i) => {
    if (i === tsIndex || i === entityIndex || name === '') return;
    (labelColumns.has(name) ? labelIdx : featureIdx).push(i);
  });
  if (featureIdx.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${source}:1: no feature columns in header`);
  const defaultEntity = input.entity === 'default' ? basename(source, extname(source)) : input.entity;

  const parseLocal = timestampParser(input.timestampFormat, input.timezone, parseTimestamp);
  // The same range as every other timestamp: a zone can move a wall-clock time across a limit
  // (1970-01-01 00:30 in Berlin is 1969 in UTC), and a format gives any year it matches.
  const parseTs = (text: string): number => inTimestampRange(parseLocal(text));
  const out: ParsedRows = { readings: [], poison: [], features: featureIdx.map((i) => header[i] as string), labels: [], lines: [] };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '') continue;
    const cells = line.split(delimiter);
    const position = { source, line: n + 1 };
    if (cells.length !== header.length) {
      out.poison.push({ reason: 'bad_row', detail: `expected ${header.length} columns, got ${cells.length}`, position, raw: line });
      continue;
    }
    const ts = parseTs(cells[tsIndex] as string);
    if (!Number.isFinite(ts)) {
      const cell = cells[tsIndex] as string;
      const detail = input.timestampFormat === undefined ? `column "${timestampColumn}": ${timestampProblem(cell)} (set input.timestampFormat for other layouts)` : `cannot parse timestamp "${cell}" as ${input.timestampFormat}`;
      out.poison.push({ reason: 'invalid_timestamp', detail, position, raw: line });
      continue;
    }
    const values: Record<string, number> = {};
    let bad: string | undefined;
    for (const i of featureIdx) {
      // An empty cell is a missing value (the windower's policy decides); anything but a finite
      // decimal number (text, hex, Infinity, NaN, an overflowing 1e999) makes the row bad.
      const v = parseCell(cells[i] as string);
      if (v === undefined) {
        bad = `column "${header[i]}" is not a number: ${JSON.stringify((cells[i] as string).trim())} (only finite decimal numbers are read)`;
        break;
      }
      values[header[i] as string] = v;
    }
    if (bad !== undefined) {
      out.poison.push({ reason: 'bad_row', detail: bad, position, raw: line });
      continue;
    }
    const entity = entityIndex >= 0 ? (cells[entityIndex] as string).trim() : defaultEntity;
    if (entity === '') {
      out.poison.push({ reason: 'bad_row', detail: `column "${input.entityColumn}" (the entity id) is empty`, position, raw: line });
      continue;
    }
    const labels: Record<string, number> = {};
    for (const i of labelIdx) labels[header[i] as string] = Number(cells[i]);
    out.readings.push({ entity, ts, values });
    out.labels.push(labels);
    out.lines.push(n + 1);
  }
  return out;
}

export function readCsvFile(path: string, input: InputConfig): ParsedRows {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCsv(text, path, input);
}
