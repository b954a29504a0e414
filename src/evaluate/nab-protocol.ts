import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import { quantile } from '../detect/threshold.js';
import { SeismoError } from '../errors.js';
import { trainFromData } from '../jobs/train-job.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { parseTimestamp } from '../source/decode.js';
import { parseCsv } from '../source/csv.js';
import { NAB_PROFILES, normalisedNab, probationRows, rowWindows, scoreNabFile, type NabFileScore, type RowWindow } from './nab-score.js';
import { runInWorkers } from './file-pool.js';
import { replayScores } from './replay.js';
import { alertEpisodes } from './skab.js';

/** One NAB data file and its label windows (epoch ms). */
export interface NabFile {
  category: string;
  /** File name, e.g. nyc_taxi.csv. */
  name: string;
  /** Path relative to the corpus folder, the key of combined_windows.json. */
  key: string;
  path: string;
  windows: Array<[number, number]>;
}

/**
 * The corpus' files with their windows from combined_windows.json, optionally only some
 * categories (sub-folders). A file missing from the labels, or a label naming a missing file,
 * is an error: scoring a partial corpus silently would change every normalised score.
 */
export function nabFiles(dir: string, categories?: string[]): NabFile[] {
  const labelsPath = join(dir, 'combined_windows.json');
  if (!existsSync(labelsPath)) throw new SeismoError('SEISMO_INPUT_INVALID', `${dir}: no combined_windows.json (expected the NAB data folder)`);
  let labels: Record<string, unknown>;
  try {
    labels = JSON.parse(readFileSync(labelsPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: not JSON: ${(err as Error).message}`);
  }
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: expected an object of "category/file.csv": [[start, end], ...], got ${Array.isArray(labels) ? 'an array' : String(labels)}`);
  const folders = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory()).sort();
  const unknown = (categories ?? []).filter((c) => !folders.includes(c));
  if (unknown.length > 0) throw new SeismoError('SEISMO_CONFIG_INVALID', `--categories: no folder ${unknown.join(', ')} in ${dir} (have ${folders.join(', ')})`);
  const files: NabFile[] = [];
  for (const category of folders) {
    if (categories !== undefined && !categories.includes(category)) continue;
    for (const name of readdirSync(join(dir, category)).filter((f) => f.endsWith('.csv')).sort()) {
      const key = `${category}/${name}`;
      const raw = labels[key];
      if (raw === undefined) throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: no windows for ${key}`);
      if (!Array.isArray(raw)) throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: ${key}: expected a list of [start, end] windows, got ${JSON.stringify(raw)}`);
      const windows = raw.map((w: unknown, i): [number, number] => {
        const pair = Array.isArray(w) && w.length === 2 && w.every((t) => typeof t === 'string') ? (w as [string, string]) : undefined;
        const [a, b] = pair ? [parseTimestamp(pair[0]), parseTimestamp(pair[1])] : [NaN, NaN];
        if (!Number.isFinite(a) || !Number.isFinite(b) || b < a) throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: ${key} window ${i}: bad [start, end] ${JSON.stringify(w)}`);
        return [a, b];
      });
      files.push({ category, name, key, path: join(dir, key), windows });
    }
  }
  if (files.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${dir}: no NAB CSV files${categories ? ` in ${categories.join(', ')}` : ''}`);
  const found = new Set(files.map((f) => f.key));
  const orphans = Object.keys(labels).filter((key) => (categories === undefined || categories.includes(key.split('/')[0] as string)) && !found.has(key));
  if (orphans.length > 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${labelsPath}: windows for ${orphans.length} file(s) not in ${dir}: ${orphans.slice(0, 3).join(', ')}${orphans.length > 3 ? ', …' : ''}`);
  return files;
}

/**
 * A gap that resets the window: the configured window.maxGapSeconds, or 12 typical sampling
 * intervals of the file's training rows if that is longer. NAB streams are sampled every 5 s
 * to 1 h and some irregularly (traffic sensors report every 5-40 min); a fixed 300 s would
 * reset an hourly stream at every reading. 12 median intervals is an outage, not jitter.
 */
export function effectiveMaxGapSeconds(ts: ArrayLike<number>, configured: number): number {
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number);
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) return configured;
  return Math.max(configured, (12 * quantile(gaps, 0.5)) / 1000);
}

/** One file replayed with one seed. */
export interface NabRun {
  file: NabFile;
  seed: number;
  ts: Float64Array;
  values: Float64Array;
  scores: Float64Array;
  featureErrors: Array<Float32Array | undefined>;
  probation: number;
  threshold: number;
  maxGapSeconds: number;
  /** 1 while an alert is open. */
  alertOpen: Uint8Array;
  /** Rows where an alert opened: the detections. */
  openings: number[];
  windows: RowWindow[];
  /** Raw score per profile, in NAB_PROFILES order. */
  nab: NabFileScore[];
  trainingSeconds: number;
  /** Why no model could be trained on the probationary rows, if it could not (no alerts then). */
  refused?: string;
}

/** Rows where the 0/1 series switches on. */
export function openingRows(open: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < open.length; i++) if ((open[i] as number) > 0 && (i === 0 || (open[i - 1] as number) === 0)) out.push(i);
  return out;
}

/**
 * Per file: train a fresh model (scaler included) on the probationary rows, replay the whole
 * file through a Daemon, run the alert tracker on the scores with the calibrated threshold; an
 * alert opening is a detection. Nothing is tuned per file.
 */
export async function evaluateNabFile(base: SeismoConfig, file: NabFile, seed: number, log: Logger, metrics: Metrics): Promise<NabRun> {
  const input = { ...base.input, format: 'csv' as const, delimiter: ',', timestampColumn: 'timestamp', entity: 'default', entityColumn: undefined, ignoreColumns: ['label'] };
  const { entityColumn: _drop, ...inputNoEntity } = input;
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (err) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `${file.path}: cannot read it: ${(err as Error).message}`);
  }
  const parsed = parseCsv(text, file.path, inputNoEntity);
  const readings = parsed.readings;
  const probation = probationRows(readings.length);
  const ts = Float64Array.from(readings, (r) => r.ts);
  const maxGapSeconds = effectiveMaxGapSeconds(ts.subarray(0, probation), base.window.maxGapSeconds);
  const cfg: SeismoConfig = { ...base, input: inputNoEntity, window: { ...base.window, maxGapSeconds }, model: { ...base.model, seed } };
  if (probation <= cfg.window.lookback + 2) throw new SeismoError('SEISMO_INPUT_INVALID', `${file.key}: ${readings.length} rows leave ${probation} probationary rows, too few for lookback ${cfg.window.lookback}`);
  const entity = basename(file.name, '.csv');
  const features = Object.keys(readings[0]?.values ?? {});
  const windows = rowWindows(ts, file.windows);
  const values = Float64Array.from(readings, (r) => r.values[features[0] as string] ?? NaN);
  let trained: Awaited<ReturnType<typeof trainFromData>>;
  try {
    trained = await trainFromData(cfg, { byEntity: new Map([[entity, readings.slice(0, probation)]]), features, poison: [] });
  } catch (err) {
    // Training refused (e.g. a constant probationary stretch): as for a user, no model means no
    // alerts on this stream. Scored as such and named in the per-file table, never skipped.
    if (!(err instanceof SeismoError) || (err.code !== 'SEISMO_TRAINING_FAILED' && err.code !== 'SEISMO_INPUT_INVALID')) throw err;
    log.warn({ file: file.key, reason: err.message }, 'NAB: training refused, the stream gets no alerts');
    const none = new Uint8Array(readings.length);
    return { file, seed, ts, values, scores: new Float64Array(readings.length).fill(NaN), featureErrors: new Array<Float32Array | undefined>(readings.length), probation, threshold: NaN, maxGapSeconds, alertOpen: none, openings: [], windows, nab: NAB_PROFILES.map((p) => scoreNabFile(readings.length, windows, [], p)), trainingSeconds: 0, refused: err.message };
  }
  const { artifact } = trained;
  const threshold = artifact.threshold?.value;
  if (threshold === undefined) throw new SeismoError('SEISMO_INTERNAL', `${file.key}: training produced no threshold`);
  const replay = await replayScores(cfg, artifact, readings, log, metrics);
  // An alert opening is a detection, an escalation's new alert included.
  const { open: alertOpen, openings } = alertEpisodes(cfg, threshold, { ts, scores: replay.scores, featureErrors: replay.featureErrors, runs: replay.runs, features: artifact.scaler.features });
  return {
    file,
    seed,
    ts,
    values,
    scores: replay.scores,
    featureErrors: replay.featureErrors,
    probation,
    threshold,
    maxGapSeconds,
    alertOpen,
    openings,
    windows,
    nab: NAB_PROFILES.map((p) => scoreNabFile(readings.length, windows, openings, p)),
    trainingSeconds: artifact.manifest.training.seconds,
  };
}

export interface NabOptions {
  data: string;
  seeds: number[];
  categories?: string[] | undefined;
  log: Logger;
  /** Files evaluated side by side, each on a worker thread of its own (1: in this thread). */
  jobs?: number;
  onRun?: (done: number, total: number, run: NabRun) => void;
}

export async function evaluateNab(cfg: SeismoConfig, opts: NabOptions): Promise<NabRun[]> {
  const files = nabFiles(opts.data, opts.categories);
  const total = files.length * opts.seeds.length;
  // One task, or one job: in this thread (a worker would only add a second TensorFlow runtime).
  if (Math.min(opts.jobs ?? 1, total) > 1) {
    const tasks = opts.seeds.flatMap((seed) => files.map((file) => ({ protocol: 'nab' as const, file, seed })));
    return runInWorkers<NabRun>(cfg, tasks, opts.jobs ?? 1, (done, run) => opts.onRun?.(done, total, run));
  }
  const metrics = new Metrics();
  const runs: NabRun[] = [];
  for (const seed of opts.seeds) {
    for (const file of files) {
      runs.push(await evaluateNabFile(cfg, file, seed, opts.log, metrics));
      opts.onRun?.(runs.length, total, runs[runs.length - 1] as NabRun);
    }
  }
  return runs;
}

/** Normalised score per profile of a set of runs of one seed. */
export function nabScores(runs: NabRun[]): Record<string, number> {
  return Object.fromEntries(NAB_PROFILES.map((p, k) => [p.name, normalisedNab(runs.map((r) => r.nab[k] as NabFileScore), p)]));
}

/** Alerts (openings after probation) per day of post-probation data, in files or stretches without windows. */
export function falseAlertsPerDay(runs: NabRun[]): number {
  let alerts = 0;
  let ms = 0;
  for (const r of runs) {
    const counted = r.openings.filter((i) => i >= r.probation && !r.windows.some((w) => i >= w.from && i <= w.to));
    alerts += counted.length;
    const end = r.ts[r.ts.length - 1] as number;
    const start = r.ts[r.probation] as number;
    // Time inside windows is not "at rest".
    const inWindows = r.windows.reduce((a, w) => a + Math.max(0, (r.ts[w.to] as number) - Math.max(start, r.ts[w.from] as number)), 0);
    ms += end - start - inWindows;
  }
  return ms > 0 ? alerts / (ms / 86_400_000) : NaN;
}
