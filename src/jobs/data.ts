import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { PoisonRecord, Reading } from '../domain/types.js';
import { recordToReading } from '../source/source.js';
import { isCsvFile, readRecords, replayFiles } from '../source/replay.js';
import { parseCsv } from '../source/csv.js';
import type { WindowSet } from '../model/train.js';
import { chooseRelativeFeatures } from '../window/relative.js';
import { chooseSeasonal, SeasonalHistory, seasonalName } from '../window/seasonal.js';
import { Scaler } from '../window/scaler.js';
import { Windower } from '../window/windower.js';
import { readFileSync } from 'node:fs';

export interface LoadedReadings {
  /** Readings per entity, in arrival order. */
  byEntity: Map<string, Reading[]>;
  features: string[];
  poison: PoisonRecord[];
}

/**
 * Reads every file of a path through the same decoders the daemon uses. Features are the
 * config's list, or the numeric columns/keys found in the data, in first-seen order.
 */
export function loadReadings(path: string, cfg: SeismoConfig, maxRowsPerEntity?: number): LoadedReadings {
  const byEntity = new Map<string, Reading[]>();
  const poison: PoisonRecord[] = [];
  const seen: string[] = [];
  for (const { file, entity } of replayFiles(path)) {
    for (const record of readRecords(file, cfg.input, entity)) {
      const decoded = recordToReading(record, cfg.input.maxMessageBytes);
      if (!decoded.ok) {
        poison.push(decoded.poison);
        continue;
      }
      const reading = decoded.reading;
      const list = byEntity.get(reading.entity) ?? [];
      if (maxRowsPerEntity !== undefined && list.length >= maxRowsPerEntity) continue;
      list.push(reading);
      byEntity.set(reading.entity, list);
      for (const name of Object.keys(reading.values)) if (!seen.includes(name)) seen.push(name);
    }
  }
  const features = cfg.features ?? seen;
  if (byEntity.size === 0) {
    const why = poison.length > 0 ? `; ${rejectedSummary(poison).examples.join('; ')}` : '';
    throw new SeismoError('SEISMO_INPUT_INVALID', `${path}: no usable readings (${poison.length} rejected${why})`);
  }
  return { byEntity, features, poison };
}

/**
 * Rejected records of training data, for a warning: how many per reason and the first few by
 * file and line. Training goes on without them (as the daemon would dead-letter them), but a
 * model trained on fewer rows than the user thinks must say so.
 */
export function rejectedSummary(poison: PoisonRecord[], examples = 3): { rejected: number; byReason: Record<string, number>; examples: string[] } {
  const byReason: Record<string, number> = {};
  for (const p of poison) byReason[p.reason] = (byReason[p.reason] ?? 0) + 1;
  const at = (p: PoisonRecord) => `${p.position.source}${p.position.line !== undefined ? `:${p.position.line}` : ''}`;
  return { rejected: poison.length, byReason, examples: poison.slice(0, examples).map((p) => `${at(p)}: ${p.reason}: ${p.detail}`) };
}

/** Labels of a CSV file (e.g. SKAB's anomaly/changepoint), aligned with its readings. */
export function loadLabels(file: string, cfg: SeismoConfig): { readings: Reading[]; labels: Record<string, number>[]; lines: number[] } {
  if (!isCsvFile(file, cfg.input)) return { readings: [], labels: [], lines: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // A directory named *.csv, a file removed or unreadable: bad input, named, not an internal error.
    throw new SeismoError('SEISMO_INPUT_INVALID', `${file}: cannot read it: ${(err as Error).message}`);
  }
  const parsed = parseCsv(text, file, cfg.input.format === 'json' ? { ...cfg.input, format: 'csv' } : cfg.input);
  return { readings: parsed.readings, labels: parsed.labels, lines: parsed.lines };
}

/**
 * A 0/1 label column as bits. Labels are the ground truth of an evaluation, so anything but 0
 * or 1 ("yes", -1, 0.5, a continuous feature named by mistake; an empty cell reads as 0) stops
 * it, naming the file, the data row and the column, instead of counting as normal.
 */
export function binaryLabels(labels: Record<string, number>[], column: string, file: string, lines: number[]): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]?.[column] ?? 0;
    if (v !== 0 && v !== 1) throw new SeismoError('SEISMO_INPUT_INVALID', `${file}:${lines[i] ?? '?'}: label column "${column}" must hold 0 or 1, found ${Number.isNaN(v) ? 'a non-number' : v}`);
    out[i] = v;
  }
  return out;
}

/** Fits the scaler on the complete rows, and picks the features the model sees relative to each window. */
export function fitScaler(
  data: LoadedReadings,
  training: Pick<SeismoConfig['training'], 'scaler' | 'relativeFeatures' | 'relativeAutocorrelation'> & Partial<Pick<SeismoConfig['training'], 'seasonal' | 'seasonalAutocorrelation'>>,
  lookback = 1,
): Scaler {
  const { scaler } = fitScalerExplained(data, training, lookback);
  return scaler;
}

/** fitScaler, and why no seasonal columns were added when none were. */
export function fitScalerExplained(
  data: LoadedReadings,
  training: Pick<SeismoConfig['training'], 'scaler' | 'relativeFeatures' | 'relativeAutocorrelation'> & Partial<Pick<SeismoConfig['training'], 'seasonal' | 'seasonalAutocorrelation'>>,
  lookback = 1,
): { scaler: Scaler; seasonalReason?: string } {
  const rows: number[][] = [];
  const perEntity: number[][][] = [];
  const perEntityTs: number[][] = [];
  for (const readings of data.byEntity.values()) {
    const entityRows: number[][] = [];
    const entityTs: number[] = [];
    for (const r of readings) {
      const row = data.features.map((f) => r.values[f] ?? NaN);
      if (row.every(Number.isFinite)) {
        entityRows.push(row);
        entityTs.push(r.ts);
      }
    }
    rows.push(...entityRows);
    perEntity.push(entityRows);
    perEntityTs.push(entityTs);
  }
  if (rows.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `no complete rows with features [${data.features.join(', ')}] to fit the scaler on`);
  const scaler = Scaler.fit(training.scaler, data.features, rows);
  const columns = data.features.map((_, j) => perEntity.map((entityRows) => entityRows.map((row) => row[j] as number)));
  const means = columns.map((col) => {
    let sum = 0, n = 0;
    for (const seq of col) for (const v of seq) { sum += v; n++; }
    return sum / n;
  });
  let withRelative: Scaler;
  try {
    withRelative = scaler.withRelative(chooseRelativeFeatures(training.relativeFeatures, data.features, columns, means, training.relativeAutocorrelation));
  } catch (err) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `training.relativeFeatures: ${(err as Error).message}`);
  }
  const decision = chooseSeasonal(training.seasonal ?? 'none', data.features, perEntityTs, columns, lookback, training.seasonalAutocorrelation ?? 0.5);
  if (decision.spec === undefined) return { scaler: withRelative, ...(decision.reason !== undefined ? { seasonalReason: decision.reason } : {}) };
  const spec = decision.spec;
  // The seasonal columns are scaled like the others: fitted on the training rows' own
  // differences, computed by the same history the windower keeps.
  const sources = spec.of.map((name) => data.features.indexOf(name));
  const derived: number[][] = [];
  perEntity.forEach((entityRows, e) => {
    const history = new SeasonalHistory(spec);
    const raw = new Float64Array(sources.length);
    const diff = new Float64Array(sources.length);
    entityRows.forEach((row, i) => {
      sources.forEach((j, k) => (raw[k] = row[j] as number));
      const ts = perEntityTs[e]?.[i] as number;
      if (history.differences(ts, raw, diff)) derived.push(Array.from(diff));
      history.push(ts, raw, NaN, NaN);
    });
  });
  if (derived.length === 0) return { scaler: withRelative, seasonalReason: 'no training reading has one a day earlier' };
  const names = spec.of.map(seasonalName);
  const fitted = Scaler.fit(training.scaler, names, derived);
  return { scaler: withRelative.withSeasonal(spec, names, Array.from(fitted.offset), Array.from(fitted.scale)) };
}

export interface EntityWindows {
  entity: string;
  set: WindowSet;
  startTs: Float64Array;
  endTs: Float64Array;
}

/** Runs each entity's readings through the streaming Windower and packs the windows densely. */
export function windowize(data: LoadedReadings, scaler: Scaler, cfg: SeismoConfig): EntityWindows[] {
  const T = cfg.window.lookback;
  const F = scaler.features.length;
  const out: EntityWindows[] = [];
  for (const [entity, readings] of data.byEntity) {
    // Every window, whatever window.stride says: stride thins out scoring, not the training set.
    const windower = new Windower({ ...cfg.window, stride: 1 }, scaler);
    const buffer = new Float32Array(Math.max(0, readings.length) * T * F);
    const startTs = new Float64Array(readings.length);
    const endTs = new Float64Array(readings.length);
    let count = 0;
    for (const r of readings) {
      const res = windower.push(r);
      if (res.kind !== 'window') continue;
      // Start-up transients are not the normal behaviour to learn.
      if ((res.window.run ?? Infinity) <= cfg.window.warmupWindows) continue;
      buffer.set(res.window.data, count * T * F);
      startTs[count] = res.window.startTs;
      endTs[count] = res.window.endTs;
      count++;
    }
    out.push({ entity, set: { data: buffer.subarray(0, count * T * F), count, lookback: T, features: F }, startTs: startTs.subarray(0, count), endTs: endTs.subarray(0, count) });
  }
  return out;
}

export function concatWindowSets(sets: WindowSet[], lookback: number, features: number): WindowSet {
  const count = sets.reduce((n, s) => n + s.count, 0);
  const data = new Float32Array(count * lookback * features);
  let at = 0;
  for (const s of sets) {
    data.set(s.data, at);
    at += s.data.length;
  }
  return { data, count, lookback, features };
}

/** Per entity, time intervals [start, end] (epoch ms, inclusive) whose data must not be learned as normal. */
export type Intervals = Map<string, [number, number][]>;

const overlaps = (list: [number, number][] | undefined, start: number, end: number) => list !== undefined && list.some(([a, b]) => start <= b && end >= a);

/** The readings outside the intervals (for fitting the scaler on normal rows only). */
export function readingsOutside(data: LoadedReadings, intervals: Intervals): LoadedReadings {
  const byEntity = new Map<string, Reading[]>();
  for (const [entity, readings] of data.byEntity) byEntity.set(entity, readings.filter((r) => !overlaps(intervals.get(entity), r.ts, r.ts)));
  return { ...data, byEntity };
}

/** Drops every window that touches an interval; the rest keep their order. */
export function windowsOutside(e: EntityWindows, intervals: Intervals): EntityWindows {
  const list = intervals.get(e.entity);
  if (list === undefined || list.length === 0) return e;
  const size = e.set.lookback * e.set.features;
  const keep: number[] = [];
  for (let i = 0; i < e.set.count; i++) if (!overlaps(list, e.startTs[i] as number, e.endTs[i] as number)) keep.push(i);
  const data = new Float32Array(keep.length * size);
  keep.forEach((src, dst) => data.set(e.set.data.subarray(src * size, (src + 1) * size), dst * size));
  return {
    entity: e.entity,
    set: { ...e.set, data, count: keep.length },
    startTs: Float64Array.from(keep, (i) => e.startTs[i] as number),
    endTs: Float64Array.from(keep, (i) => e.endTs[i] as number),
  };
}
