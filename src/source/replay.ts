import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import type { InputConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import { parseCsv } from './csv.js';
import { parseTimestamp } from './decode.js';
import type { RecordProcessor, Source, SourceRecord } from './source.js';
import type { Reading } from '../domain/types.js';

/** A file's extension, lower case: `.CSV` from a Windows export is a CSV file too. */
function extensionOf(file: string): string {
  return extname(file).toLowerCase();
}

/**
 * Whether a data file is read as CSV: by its extension (.csv; .ndjson and .jsonl are NDJSON), and
 * a file with any other extension (.txt, none) by `input.format`, as the user said the data is.
 */
export function isCsvFile(file: string, input: Pick<InputConfig, 'format'>): boolean {
  const ext = extensionOf(file);
  if (ext === '.csv') return true;
  if (ext === '.ndjson' || ext === '.jsonl') return false;
  return input.format === 'csv' || input.format === 'skab';
}

/** Lists the data files of a path: the file itself, or a directory's .csv/.ndjson/.jsonl files (any case), sorted. */
export function dataFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isDirectory()) return [path];
  const listed = readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => ['.csv', '.ndjson', '.jsonl'].includes(extensionOf(f)))
    .map((f) => join(path, f))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  // One file reached twice (a symlinked folder, a link loop) is read once: its rows would
  // otherwise be replayed again as another entity.
  const seen = new Set<string>();
  const files = listed.filter((f) => {
    let real: string;
    try {
      real = realpathSync(f);
    } catch {
      return true; // a dangling link: reading it names the problem
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
  if (files.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${path}: no .csv, .ndjson or .jsonl files`);
  return files;
}

/**
 * The entity id of a CSV file's rows when neither an entity column nor `input.entity` names
 * one: the file's path relative to the replayed directory, without extension ("valve1/0" and
 * "valve2/0" for two files both called 0.csv, which would otherwise merge into one entity), or
 * its name without extension when a single file is replayed.
 */
export function fileEntity(root: string, file: string): string {
  const rel = file === root ? basename(file) : relative(root, file);
  return rel.slice(0, rel.length - extname(rel).length).split(sep).join('/');
}

/** The data files of a path, each with the entity id its CSV rows get by default (fileEntity). */
export function replayFiles(path: string): { file: string; entity: string }[] {
  return dataFiles(path).map((file) => ({ file, entity: fileEntity(path, file) }));
}

/**
 * Reads one file into source records: NDJSON lines stay raw (the decoder judges them), CSV rows
 * are parsed here; `entity` is the id CSV rows get when the config names none (see fileEntity).
 */
export function readRecords(file: string, input: InputConfig, entity?: string): SourceRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  // A byte-order mark (editors on Windows write one) is not part of the first line's JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (isCsvFile(file, input)) {
    const csvInput = input.format === 'json' ? { ...input, format: 'csv' as const } : input;
    const parsed = parseCsv(text, file, entity !== undefined && input.entity === 'default' ? { ...csvInput, entity } : csvInput);
    const records: SourceRecord[] = parsed.readings.map((reading, i) => ({ kind: 'reading', reading, position: { source: file, line: parsed.lines[i] as number } }));
    // Poison rows are delivered in file order with the good ones, so counts and DLQ see them.
    for (const poison of parsed.poison) records.push({ kind: 'poison', poison });
    return records;
  }
  const records: SourceRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') records.push({ kind: 'raw', text: line, position: { source: file, line: i + 1 } });
  });
  return records;
}

/**
 * Replays record lists (one per file): as fast as possible (speed 0), or paced at speed x real
 * time by the readings' own timestamps. Records are handed over in chunks; the next chunk waits
 * for the previous one to be acknowledged, as a Kafka source would.
 *
 * Pacing follows each record's gap to the previous timed record, not a clock started at the
 * first record: one bad timestamp (a reading stamped 2099, or a first one stamped 0) would
 * otherwise hold every later record for decades, with the daemon ready and silent. A gap back in
 * time is no wait (the windower judges the record), nor is a gap longer than `maxGapMs` (the
 * window's maxGapSeconds): it restarts the windows anyway, so waiting it out would show nothing.
 */
export class ReplaySource implements Source {
  private stopped = false;
  private paused: Promise<void> | undefined;
  private resumePaused: (() => void) | undefined;
  /** Cuts a pacing sleep short, so stop() takes effect at once. */
  private wake: (() => void) | undefined;

  constructor(
    private readonly lists: () => Iterable<SourceRecord[]>,
    private readonly speed: number,
    private readonly chunkSize: number,
    private readonly maxGapMs = Infinity,
  ) {}

  async start(processor: RecordProcessor): Promise<void> {
    const handler = async (records: SourceRecord[]) => void (await processor.process(records));
    for (const records of this.lists()) {
      if (this.speed > 0) await this.paced(records, handler);
      else {
        for (let i = 0; i < records.length && !this.stopped; i += this.chunkSize) {
          await this.paused;
          await handler(records.slice(i, i + this.chunkSize));
        }
      }
      if (this.stopped) return;
    }
  }

  private async paced(records: SourceRecord[], handler: (records: SourceRecord[]) => Promise<void>): Promise<void> {
    const tsOf = (r: SourceRecord) => (r.kind === 'reading' ? r.reading.ts : r.kind === 'raw' ? rawTimestamp(r.text) : undefined);
    let previous: number | undefined; // stream time of the last timed record handed over
    let previousDue = performance.now(); // wall time it was due (due times add up, so no drift)
    let i = 0;
    while (i < records.length && !this.stopped) {
      await this.paused;
      const now = performance.now();
      let j = i;
      let wait = 0;
      while (j < records.length && j - i < this.chunkSize) {
        const t = tsOf(records[j] as SourceRecord);
        if (t !== undefined && Number.isFinite(t)) {
          const gap = previous === undefined ? 0 : t - previous;
          const due = previous === undefined ? now : previousDue + (gap > 0 && gap <= this.maxGapMs ? gap / this.speed : 0);
          if (due > now) {
            wait = due - now;
            break;
          }
          previous = t;
          previousDue = due;
        }
        j++;
      }
      if (j === i) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(1000, Math.max(1, wait)));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      await handler(records.slice(i, j));
      i = j;
    }
  }

  pause(): void {
    this.paused ??= new Promise((resolve) => (this.resumePaused = resolve));
  }

  resume(): void {
    this.resumePaused?.();
    this.paused = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.resume();
  }
}

/**
 * The records of a replay time range (`seismo run|score --from/--to`): readings at or after
 * `from` and before `to`. Records whose time cannot be read (poison, unparseable raw lines) are
 * kept: the decoder judges them and they are counted as they would be in a full replay.
 */
export function inTimeRange(records: SourceRecord[], range: { from?: number; to?: number }): SourceRecord[] {
  if (range.from === undefined && range.to === undefined) return records;
  const from = range.from ?? -Infinity;
  const to = range.to ?? Infinity;
  return records.filter((r) => {
    const ts = r.kind === 'reading' ? r.reading.ts : r.kind === 'raw' ? rawTimestamp(r.text) : undefined;
    return ts === undefined || (ts >= from && ts < to);
  });
}

/** The timestamp of a raw JSON reading, for pacing only; undefined when it has none (the decoder will judge it). */
function rawTimestamp(text: string): number | undefined {
  try {
    const ts = (JSON.parse(text) as { ts?: unknown }).ts;
    const parsed = typeof ts === 'string' || typeof ts === 'number' ? parseTimestamp(ts) : NaN;
    return Number.isFinite(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** What a replay's time range left of the data, when it left nothing (see fileSource). */
export interface EmptyRange {
  /** Records read from the files. */
  records: number;
  /** Earliest and latest reading time in them (epoch ms), when any could be read. */
  first?: number;
  last?: number;
}

/**
 * Replays a file, or every data file of a directory in name order, optionally only a time range
 * of it. Files are read lazily, one at a time. When a range leaves no record at all, `onEmptyRange`
 * hears what the data spans: a replay that prints nothing must say why (`--from` after the data).
 */
export function fileSource(path: string, input: InputConfig, speed: number, chunkSize: number, range: { from?: number; to?: number } = {}, onEmptyRange?: (e: EmptyRange) => void, maxGapMs = Infinity): ReplaySource {
  const files = replayFiles(path);
  const ranged = range.from !== undefined || range.to !== undefined;
  return new ReplaySource(function* () {
    let kept = 0;
    const seen: EmptyRange = { records: 0 };
    for (const { file, entity } of files) {
      const records = readRecords(file, input, entity);
      const inRange = inTimeRange(records, range);
      kept += inRange.length;
      if (ranged && kept === 0) {
        seen.records += records.length;
        for (const r of records) {
          const ts = r.kind === 'reading' ? r.reading.ts : r.kind === 'raw' ? rawTimestamp(r.text) : undefined;
          if (ts === undefined) continue;
          if (seen.first === undefined || ts < seen.first) seen.first = ts;
          if (seen.last === undefined || ts > seen.last) seen.last = ts;
        }
      }
      yield inRange;
    }
    if (ranged && kept === 0) onEmptyRange?.(seen);
  }, speed, chunkSize, maxGapMs);
}

/** The warning for a replay range that selected nothing. */
export function emptyRangeMessage(path: string, range: { from?: number; to?: number }, e: EmptyRange): string {
  const at = (ms: number | undefined) => (ms === undefined ? 'the start' : new Date(ms).toISOString());
  const span = e.first !== undefined && e.last !== undefined ? `; its readings span ${new Date(e.first).toISOString()} to ${new Date(e.last).toISOString()}` : '';
  return `--from/--to [${at(range.from)}, ${range.to === undefined ? 'the end' : new Date(range.to).toISOString()}) selects none of the ${e.records} records of ${path}${span}: nothing was replayed`;
}

/** Replays readings held in memory (the demo's simulator output). */
export function memorySource(readings: Reading[], speed: number, chunkSize: number, source = 'memory', maxGapMs = Infinity): ReplaySource {
  const records: SourceRecord[] = readings.map((reading, i) => ({ kind: 'reading', reading, position: { source, line: i + 1 } }));
  return new ReplaySource(() => [records], speed, chunkSize, maxGapMs);
}
