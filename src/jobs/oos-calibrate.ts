import type * as tf from '@tensorflow/tfjs';
import type { SeismoConfig } from '../config/schema.js';
import { calibrateThreshold, falseAlertRate } from '../detect/calibrate.js';
import { SeismoError } from '../errors.js';
import { blockedFolds, rateThreshold, windowsPerDay, type Block } from '../detect/oos-calibration.js';
import { quantileThreshold } from '../detect/threshold.js';
import type { ThresholdState } from '../model/artifact.js';
import { sliceWindows, splitChronological, trainAutoencoder, type WindowSet } from '../model/train.js';
import { buildModel, scoringModel } from '../model/variants.js';
import { Scorer } from '../score/scorer.js';
import { concatWindowSets, type EntityWindows } from './data.js';
import { smoothedPerEntity } from './train-job.js';

/** True when the threshold needs more than the held-out tail's pooled errors (see calibrateOutOfSample). */
export function wantsOutOfSample(cfg: SeismoConfig): boolean {
  return cfg.threshold.calibration === 'blocked-cv' || falseAlertRate(cfg.threshold) !== undefined;
}

function scoreSmoothed(model: tf.LayersModel, set: WindowSet, cfg: SeismoConfig): Float32Array {
  const scorer = new Scorer(model, set.lookback, set.features, cfg.scoring.maxBatch);
  try {
    return smoothedPerEntity(scorer.scoreAll(set.data, set.count), [set.count], cfg.alerts.smoothWindows);
  } finally {
    scorer.dispose();
  }
}

/**
 * Held-out score sequences (one per entity and fold, each smoothed as the alert tracker smooths)
 * from blocked cross-validation: per fold, a fresh model of the same config (seed shifted by the
 * fold) trains on the other blocks of every entity, minus a purge of one lookback around the
 * held-out block, with early stopping on the chronological tail of those windows, and scores the
 * held-out block. Fold models see (k-1)/k of the data, so their errors are if anything a little
 * higher than the final model's: a conservative threshold, which is the side to err on.
 */
export async function blockedCvScores(cfg: SeismoConfig, perEntity: EntityWindows[]): Promise<Float32Array[]> {
  const k = cfg.threshold.folds;
  const T = cfg.window.lookback;
  const usable = perEntity.filter((e) => e.set.count >= k * (T + 2));
  const plans = usable.map((e) => ({ e, folds: blockedFolds(e.set.count, k, T) }));
  const sequences: Float32Array[] = [];
  for (let fold = 0; fold < k; fold++) {
    const trainSets: WindowSet[] = [];
    for (const { e, folds } of plans) for (const b of (folds[fold] as { train: Block[] }).train) trainSets.push(sliceWindows(e.set, b.from, b.to));
    const F = usable[0]?.set.features ?? 0;
    const all = concatWindowSets(trainSets, T, F);
    if (all.count < 4) continue;
    const { train, validation } = splitChronological(all, cfg.model.validationSplit);
    const modelCfg = { ...cfg.model, seed: cfg.model.seed + 1 + fold };
    const trained = buildModel(modelCfg, T, F);
    try {
      await trainAutoencoder(trained, train, validation, modelCfg);
      const model = scoringModel(cfg.model, trained);
      for (const { e, folds } of plans) {
        const held = (folds[fold] as { heldOut: Block }).heldOut;
        sequences.push(scoreSmoothed(model, sliceWindows(e.set, held.from, held.to), cfg));
      }
    } finally {
      trained.dispose();
    }
  }
  return sequences;
}

/**
 * The starting threshold from scores the model did not train on. `threshold.calibration`:
 * `holdout` uses the final model's scores of each entity's held-out tail, `blocked-cv` the
 * cross-validated scores of the whole training stretch. With method `rate` (or `falseAlertsPerDay` set) the
 * level is the one those scores would cross that often per entity per day (rateThreshold);
 * otherwise `threshold.method` applies to them as usual. Divided by `threshold.sensitivity`.
 */
export async function calibrateOutOfSample(cfg: SeismoConfig, model: tf.LayersModel, perEntity: EntityWindows[], validationTails: WindowSet[]): Promise<ThresholdState> {
  const state = await outOfSampleThreshold(cfg, model, perEntity, validationTails);
  // A threshold of 0 (every held-out score 0: a constant series the model reproduces exactly)
  // would flag any change at all and divides scores by 0 in the metrics: refuse it by name.
  if (!(state.value > 0) || !Number.isFinite(state.value)) throw new SeismoError('SEISMO_TRAINING_FAILED', `out-of-sample calibration gave threshold ${state.value}: the held-out scores are all ${state.base} (constant training data?)`);
  return state;
}

async function outOfSampleThreshold(cfg: SeismoConfig, model: tf.LayersModel, perEntity: EntityWindows[], validationTails: WindowSet[]): Promise<ThresholdState> {
  const sequences = cfg.threshold.calibration === 'blocked-cv' ? await blockedCvScores(cfg, perEntity) : validationTails.map((v) => scoreSmoothed(model, v, cfg));
  const nonEmpty = sequences.filter((s) => s.length > 0);
  if (nonEmpty.length === 0) throw new SeismoError('SEISMO_TRAINING_FAILED', noHeldOutWindows(cfg, perEntity));
  const pooled = Float32Array.from(nonEmpty.flatMap((s) => Array.from(s)));
  const rate = falseAlertRate(cfg.threshold);
  const outOfSample = { calibration: cfg.threshold.calibration };
  if (rate === undefined) return { ...calibrateThreshold(pooled, cfg.threshold), outOfSample };
  const perDays = perEntity.map((e) => windowsPerDay(e.endTs)).filter(Number.isFinite);
  const perDay = perDays.length > 0 ? perDays.sort((a, b) => a - b)[Math.floor(perDays.length / 2)] as number : NaN;
  const r = rateThreshold(nonEmpty, perDay, rate, cfg.threshold.potInitialQuantile);
  const sensitivity = cfg.threshold.sensitivity;
  const q = quantileThreshold(pooled, cfg.threshold.quantile, cfg.threshold.multiplier);
  const rated = { ...outOfSample, falseAlertsPerDay: rate };
  if (r.how === 'pot' && r.pot) return { ...q, method: 'pot', value: r.value / sensitivity, sensitivity, pot: { ...r.pot, risk: r.risk }, outOfSample: rated };
  return { ...q, method: 'quantile', value: r.value / sensitivity, sensitivity, outOfSample: rated };
}

/** Why out-of-sample calibration had nothing to score, with the numbers and what would fix it. */
function noHeldOutWindows(cfg: SeismoConfig, perEntity: EntityWindows[]): string {
  const most = perEntity.reduce((m, e) => Math.max(m, e.set.count), 0);
  if (cfg.threshold.calibration !== 'blocked-cv') return `out-of-sample calibration: no held-out windows to score (the longest entity has ${most} training windows); train on more data`;
  const k = cfg.threshold.folds;
  const T = cfg.window.lookback;
  return (
    `out-of-sample calibration (blocked-cv, ${k} folds) needs at least ${k * (T + 2)} training windows in one entity (folds x (lookback + 2)), ` +
    `and the longest has ${most}: train on more data, or set a smaller threshold.folds or window.lookback, or threshold.calibration: holdout`
  );
}
