import { dirname, relative } from 'node:path';
import { statSync } from 'node:fs';
import type { SeismoConfig } from '../config/schema.js';
import { AlertTracker } from '../detect/alerts.js';
import { quantile } from '../detect/threshold.js';
import { SeismoError } from '../errors.js';
import { binaryLabels, loadLabels } from '../jobs/data.js';
import { trainFromData } from '../jobs/train-job.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { dataFiles, isCsvFile } from '../source/replay.js';
import { replayScores } from './replay.js';
import { runInWorkers } from './file-pool.js';
import { publishedRule } from './rules.js';

export const EVAL_METHODS = ['published', 'seismo'] as const;
export type EvalMethod = (typeof EVAL_METHODS)[number];

/** The SKAB leaderboard's constants: fit on the first 400 rows, threshold 1.5 x q0.99 of training errors. */
export const SKAB_PROTOCOL = { trainRows: 400, quantile: 0.99, multiplier: 1.5, nabWindowMs: 60_000 } as const;

/** One labelled file replayed with one seed. Arrays are per row of the file. */
export interface FileRun {
  file: string;
  seed: number;
  features: string[];
  ts: Float64Array;
  anomaly: Uint8Array;
  changepoint: Uint8Array;
  /** Score of the window ending at each row (NaN where none ends). */
  scores: Float64Array;
  featureErrors: Array<Float32Array | undefined>;
  /** Run number of the window ending at each row (NaN where none is scored); see alertRows. */
  runs?: Float64Array;
  /** Rows before this one trained the model; metrics count only the rows from here on. */
  trainRows: number;
  thresholds: Partial<Record<EvalMethod, number>>;
  predictions: Partial<Record<EvalMethod, Uint8Array>>;
  trainingSeconds: number;
  epochs: number;
  poison: number;
}

export interface SkabOptions {
  data: string;
  seeds: number[];
  methods: EvalMethod[];
  log: Logger;
  /** Files evaluated side by side, each on a worker thread of its own (1: in this thread). */
  jobs?: number;
  /** Called after each file x seed, for a progress bar. */
  onRun?: (done: number, total: number, run: FileRun) => void;
}

/** Labelled files under `data`: every CSV with an `anomaly` column (anomaly-free.csv has none). */
export function labelledFiles(data: string, cfg: SeismoConfig): string[] {
  return dataFiles(data).filter((f) => isCsvFile(f, cfg.input) && loadLabels(f, cfg).labels[0]?.anomaly !== undefined);
}

/**
 * The SKAB protocol through Seismo's own code: per file and seed, train a fresh model on the
 * first 400 rows (the scaler too), replay the whole file through a Daemon, then label rows by
 * each method. `published` is the leaderboard's point rule on a threshold of 1.5 x q0.99 of the
 * training windows' errors; `seismo` is `seismo train`'s calibration (threshold.* on the held-out
 * tail of those 400 rows) with the daemon's alert state machine (alerts.*): a row is anomalous
 * while an alert is open.
 */
export async function evaluateSkab(base: SeismoConfig, opts: SkabOptions): Promise<FileRun[]> {
  const cfg: SeismoConfig = { ...base, input: { ...base.input, format: 'skab' } };
  const files = labelledFiles(opts.data, cfg);
  // File names in tables are relative to the data folder (valve1/0.csv), or to a single file's folder.
  const root = statSync(opts.data).isDirectory() ? opts.data : dirname(opts.data);
  if (files.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.data}: no SKAB CSV files with an anomaly column`);
  const total = files.length * opts.seeds.length;
  // One task, or one job: in this thread (a worker would only add a second TensorFlow runtime).
  if (Math.min(opts.jobs ?? 1, total) > 1) {
    const tasks = opts.seeds.flatMap((seed) => files.map((file) => ({ protocol: 'skab' as const, file, name: relative(root, file), seed, methods: opts.methods })));
    return runInWorkers<FileRun>(cfg, tasks, opts.jobs ?? 1, (done, run) => opts.onRun?.(done, total, run));
  }
  const metrics = new Metrics();
  const runs: FileRun[] = [];
  for (const seed of opts.seeds) {
    for (const file of files) {
      const run = await evaluateFile(cfg, file, relative(root, file), seed, opts, metrics);
      runs.push(run);
      opts.onRun?.(runs.length, total, run);
    }
  }
  return runs;
}

/** One file with one seed (in this thread, or in an evaluation worker). */
export async function evaluateFile(base: SeismoConfig, file: string, name: string, seed: number, opts: Pick<SkabOptions, 'methods' | 'log'>, metrics: Metrics): Promise<FileRun> {
  const cfg: SeismoConfig = { ...base, model: { ...base.model, seed } };
  const { readings, labels, lines } = loadLabels(file, cfg);
  // Checked before training: a bad label stops the evaluation at once.
  const anomaly = binaryLabels(labels, 'anomaly', file, lines);
  const changepoint = binaryLabels(labels, 'changepoint', file, lines);
  const trainRows = SKAB_PROTOCOL.trainRows;
  if (readings.length <= trainRows + cfg.window.lookback) throw new SeismoError('SEISMO_INPUT_INVALID', `${file}: ${readings.length} rows, need more than ${trainRows + cfg.window.lookback}`);
  const entity = (readings[0] as (typeof readings)[number]).entity;
  const features = cfg.features ?? Object.keys(readings[0]?.values ?? {});
  const trained = await trainFromData(cfg, { byEntity: new Map([[entity, readings.slice(0, trainRows)]]), features, poison: [] });
  const { artifact } = trained;
  const replay = await replayScores(cfg, artifact, readings, opts.log, metrics);

  const ts = Float64Array.from(readings, (r) => r.ts);
  const run: FileRun = {
    file: name,
    seed,
    features: artifact.scaler.features,
    ts,
    anomaly,
    changepoint,
    scores: replay.scores,
    featureErrors: replay.featureErrors,
    runs: replay.runs,
    trainRows,
    thresholds: {},
    predictions: {},
    trainingSeconds: artifact.manifest.training.seconds,
    epochs: artifact.manifest.training.epochsRun,
    poison: replay.poison.length,
  };
  if (opts.methods.includes('published')) {
    const trainingErrors = Array.from(replay.scores.subarray(0, trainRows)).filter(Number.isFinite);
    const threshold = SKAB_PROTOCOL.multiplier * quantile(trainingErrors, SKAB_PROTOCOL.quantile);
    run.thresholds.published = threshold;
    run.predictions.published = publishedRule(replay.scores, threshold, cfg.window.lookback);
  }
  if (opts.methods.includes('seismo')) {
    const threshold = artifact.threshold?.value;
    if (threshold === undefined) throw new SeismoError('SEISMO_INTERNAL', `${file}: training produced no threshold`);
    run.thresholds.seismo = threshold;
    run.predictions.seismo = alertRows(cfg, threshold, run);
  }
  return run;
}

/** Rows during which the daemon's alert tracker holds an open alert (open through resolve). */
export function alertRows(cfg: SeismoConfig, threshold: number, run: Pick<FileRun, 'ts' | 'scores' | 'featureErrors' | 'features' | 'runs'>): Uint8Array {
  return alertEpisodes(cfg, threshold, run).open;
}

/**
 * The alert tracker run over a file's scores: the rows an alert is open, and the rows where one
 * opened. An escalation (alerts.escalateRatio) opens a new alert on a row that is already open,
 * so the openings are recorded from the flags, not read off the 0/1 series.
 */
export function alertEpisodes(cfg: SeismoConfig, threshold: number, run: Pick<FileRun, 'ts' | 'scores' | 'featureErrors' | 'features' | 'runs'>): { open: Uint8Array; openings: number[] } {
  const tracker = new AlertTracker(cfg.alerts, threshold, run.features, 'evaluate', cfg.window.warmupWindows);
  const open = new Uint8Array(run.scores.length);
  const openings: number[] = [];
  // With window.stride > 1 most rows have no scored window by design: the daemon's own run
  // numbers say where a ring (re)started. With stride 1 (as before the option existed):
  // consecutive scored rows; where a window ring (re)started, score smoothing starts over too.
  const daemonRuns = cfg.window.stride > 1 ? run.runs : undefined;
  let windowRun = 0;
  for (let i = 0; i < run.scores.length; i++) {
    const score = run.scores[i] as number;
    if (Number.isFinite(score)) {
      const endTs = run.ts[i] as number;
      windowRun = daemonRuns !== undefined ? (daemonRuns[i] as number) : windowRun + 1;
      const flag = tracker.observe({ entity: 'e', startTs: endTs, endTs, score, run: windowRun, featureErrors: run.featureErrors[i] ?? new Float32Array(run.features.length) });
      if (flag?.state === 'open') openings.push(i);
    } else if (daemonRuns === undefined) {
      windowRun = 0;
    }
    open[i] = tracker.openCount() > 0 ? 1 : 0;
  }
  return { open, openings };
}
