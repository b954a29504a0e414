import type { SeismoConfig } from '../config/schema.js';
import { fbetaThreshold } from '../detect/fbeta.js';
import { SeismoError } from '../errors.js';
import { binaryLabels, loadLabels } from '../jobs/data.js';
import { trainFromData } from '../jobs/train-job.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { Reading } from '../pipeline/types.js';
import type { EpochReport } from '../model/train.js';
import { confusion, pointMetrics, type PointMetrics } from './metrics.js';
import { averagePrecision, recallAtFpr, rocAuc } from './ranking.js';
import { replayScores } from './replay.js';

export interface RareEventOptions {
  file: string;
  labelColumn: string;
  /** Predict an event this many rows ahead: the k rows before each positive row become positive. */
  shift: number;
  /** Columns that are neither features nor the label (ids, leaky columns). */
  drop: string[];
  /** Chronological fractions of rows for training and validation; the rest is the test split. */
  trainFraction: number;
  valFraction: number;
  seed: number;
  log: Logger;
  /** Training progress, one report per epoch (the `train` command's progress bar). */
  onEpoch?: (r: EpochReport) => void;
  /** What the run is doing now ("training on 750 label-0 rows"), for progress output. */
  onStage?: (message: string) => void;
}

export interface RareEventResult {
  rows: { train: number; val: number; test: number };
  trainingRows: number;
  /**
   * Rows the protocol leaves out, so a reader can account for every row: the event rows
   * themselves (label > 0; 1-based data rows, 1 = the first row after the header), out of
   * training and every metric; and the rows before them that the shift made positive, out of
   * training (they count in the validation and test metrics).
   */
  leftOut: { eventRows: number[]; precursorRowsInTraining: number };
  positives: { val: number; test: number };
  threshold: number;
  thresholdFrom: 'f1-on-validation' | 'calibration';
  rocAuc: number;
  prAuc: number;
  recallAtFpr5: number;
  test: PointMetrics;
}

/**
 * Curve shifting as in the rare-event (paper-break) tutorials: for each positive row t, rows
 * t-k .. t-1 are labelled positive, and the row t itself is left out of training and of every
 * metric (once the event happens, predicting it is no longer the question). Returns the shifted
 * labels and the mask of rows that count.
 */
export function shiftLabels(labels: ArrayLike<number>, k: number): { shifted: Uint8Array; counted: Uint8Array } {
  const shifted = new Uint8Array(labels.length);
  const counted = new Uint8Array(labels.length).fill(1);
  for (let t = 0; t < labels.length; t++) {
    if ((labels[t] as number) <= 0) continue;
    counted[t] = 0;
    for (let i = Math.max(0, t - k); i < t; i++) shifted[i] = 1;
  }
  for (let t = 0; t < labels.length; t++) if (counted[t] === 0) shifted[t] = 0;
  return { shifted, counted };
}

/** Contiguous runs of rows with `keep` set, as separate entities, so no window spans a removed row. */
function runsAsEntities(readings: Reading[], keep: (i: number) => boolean, to: number): Map<string, Reading[]> {
  const out = new Map<string, Reading[]>();
  let current: Reading[] = [];
  const flush = () => {
    if (current.length > 0) out.set(`run${out.size}`, current.map((r) => ({ ...r, entity: `run${out.size}` })));
    current = [];
  };
  for (let i = 0; i < to; i++) {
    if (keep(i)) current.push(readings[i] as Reading);
    else flush();
  }
  flush();
  return out;
}

/**
 * One long labelled CSV: train on the label-0 rows of the first split, replay the whole file
 * through the daemon, pick the threshold that maximises F1 on the validation split (or keep the
 * normal-data calibration when validation has no positives), then measure the test split.
 */
export async function evaluateRareEvent(base: SeismoConfig, opts: RareEventOptions): Promise<RareEventResult> {
  const cfg: SeismoConfig = {
    ...base,
    input: { ...base.input, format: base.input.format === 'skab' ? 'skab' : 'csv', ignoreColumns: [...new Set([...base.input.ignoreColumns, opts.labelColumn, ...opts.drop])] },
    model: { ...base.model, seed: opts.seed },
  };
  const { readings, labels, lines } = loadLabels(opts.file, cfg);
  if (readings.length === 0) throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.file}: no rows`);
  if (labels[0]?.[opts.labelColumn] === undefined) throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.file}: no label column "${opts.labelColumn}"`);
  const entities = new Set(readings.map((r) => r.entity));
  if (entities.size > 1) throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.file}: rare-event protocol takes one series, found ${entities.size} entities`);
  const raw = binaryLabels(labels, opts.labelColumn, opts.file, lines);
  const { shifted, counted } = shiftLabels(raw, opts.shift);
  const n = readings.length;
  const nTrain = Math.floor(n * opts.trainFraction);
  const nVal = Math.floor(n * opts.valFraction);
  const features = cfg.features ?? Object.keys(readings[0]?.values ?? {});
  const normal = (i: number) => shifted[i] === 0 && counted[i] === 1;
  const byEntity = runsAsEntities(readings, normal, nTrain);
  const trainingRows = [...byEntity.values()].reduce((a, r) => a + r.length, 0);
  const eventRows: number[] = [];
  // Data rows as the file numbers them (its line - 1): bad rows skipped in reading do not shift them.
  for (let i = 0; i < n; i++) if (counted[i] === 0) eventRows.push((lines[i] ?? i + 2) - 1);
  let precursorRowsInTraining = 0;
  for (let i = 0; i < nTrain; i++) if (shifted[i] === 1) precursorRowsInTraining++;
  const longestRun = Math.max(0, ...[...byEntity.values()].map((r) => r.length));
  if (longestRun <= cfg.window.lookback + 1) {
    throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.file}: the training part of --split ${opts.trainFraction},${opts.valFraction} (the first ${nTrain} of ${n} rows) holds no stretch of more than ${cfg.window.lookback + 1} label-0 rows (longest ${longestRun}; --shift ${opts.shift} makes the rows before each event positive): no window to train on. Give training a larger fraction`);
  }
  if (n - nTrain - nVal < 1) throw new SeismoError('SEISMO_INPUT_INVALID', `${opts.file}: --split ${opts.trainFraction},${opts.valFraction} leaves no test rows of ${n}`);
  opts.onStage?.(`training on ${trainingRows} label-0 rows of the first ${nTrain} (${eventRows.filter((r) => r <= nTrain).length} event rows and ${precursorRowsInTraining} rows before events left out)`);
  const { artifact } = await trainFromData(cfg, { byEntity, features, poison: [] }, opts.onEpoch);
  opts.onStage?.(`replaying ${n} rows through the daemon`);
  const replay = await replayScores(cfg, artifact, readings, opts.log, new Metrics());

  const split = (from: number, to: number) => {
    const scores: number[] = [];
    const ys: number[] = [];
    for (let i = from; i < to; i++) {
      const s = replay.scores[i] as number;
      if (counted[i] === 1 && Number.isFinite(s)) {
        scores.push(s);
        ys.push(shifted[i] as number);
      }
    }
    return { scores, ys };
  };
  const val = split(nTrain, nTrain + nVal);
  const test = split(nTrain + nVal, n);
  const valPositives = val.ys.reduce((a, b) => a + b, 0);
  const calibrated = artifact.threshold?.value ?? NaN;
  const threshold = valPositives > 0 ? fbetaThreshold(val.scores, val.ys, 1).value : calibrated;
  return {
    rows: { train: nTrain, val: nVal, test: n - nTrain - nVal },
    trainingRows,
    leftOut: { eventRows, precursorRowsInTraining },
    positives: { val: valPositives, test: test.ys.reduce((a, b) => a + b, 0) },
    threshold,
    thresholdFrom: valPositives > 0 ? 'f1-on-validation' : 'calibration',
    rocAuc: rocAuc(test.scores, test.ys),
    prAuc: averagePrecision(test.scores, test.ys),
    recallAtFpr5: recallAtFpr(test.scores, test.ys, 0.05),
    test: pointMetrics(confusion(test.scores.map((s) => (s > threshold ? 1 : 0)), test.ys)),
  };
}

/** At most this many event rows are listed in Markdown; the JSON report has them all. */
const LISTED_EVENT_ROWS = 30;

export function rareEventMarkdown(r: RareEventResult): string {
  const m = r.test;
  const events = r.leftOut.eventRows;
  const listed = events.slice(0, LISTED_EVENT_ROWS).join(', ') + (events.length > LISTED_EVENT_ROWS ? `, … (${events.length - LISTED_EVENT_ROWS} more in rare-event.json)` : '');
  return [
    `Rows: train ${r.rows.train} (${r.trainingRows} label-0 rows used), validation ${r.rows.val} (${r.positives.val} positive), test ${r.rows.test} (${r.positives.test} positive).`,
    `Left out: ${events.length} event rows (label > 0), from training and every metric${events.length > 0 ? ` (data rows ${listed})` : ''}; ${r.leftOut.precursorRowsInTraining} rows before events (positive after the shift) from training.`,
    `Threshold ${r.threshold.toPrecision(4)} (${r.thresholdFrom}).`,
    '',
    '| ROC AUC | PR AUC | recall at FPR 5% | precision | recall | F1 |',
    '|---|---|---|---|---|---|',
    `| ${r.rocAuc.toFixed(3)} | ${r.prAuc.toFixed(3)} | ${r.recallAtFpr5.toFixed(3)} | ${m.precision.toFixed(3)} | ${m.recall.toFixed(3)} | ${m.f1.toFixed(3)} |`,
    '',
    'Confusion matrix (test split):',
    '',
    '| | predicted 1 | predicted 0 |',
    '|---|---|---|',
    `| actual 1 | ${m.tp} | ${m.fn} |`,
    `| actual 0 | ${m.fp} | ${m.tn} |`,
  ].join('\n');
}
