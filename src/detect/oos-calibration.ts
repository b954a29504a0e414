import { potQuantile, potThreshold } from './pot.js';
import { quantile } from './threshold.js';

/**
 * Pure parts of out-of-sample calibration (see src/jobs/oos-calibrate.ts for the training).
 *
 * Why: a threshold set on the errors of windows the model was fitted on (or on a short tail
 * chosen for early stopping) underestimates the errors of ordinary normal windows the model
 * has never seen, so alerts open in normal operation. Blocked cross-validation scores every
 * stretch of the training data with a model that did not see it; the threshold comes from
 * those scores, smoothed exactly as the alert tracker smooths.
 */

/** A contiguous block [from, to) of one entity's windows. */
export interface Block {
  from: number;
  to: number;
}

/**
 * k chronological blocks of `count` consecutive stride-1 windows, plus the windows each fold
 * may train on: everything outside its held-out block and a purge of `purge` windows on each
 * side (stride-1 windows overlap: a window within lookback of the block shares rows with it,
 * so training on it would leak the held-out rows).
 */
export function blockedFolds(count: number, k: number, purge: number): Array<{ heldOut: Block; train: Block[] }> {
  if (!Number.isInteger(k) || k < 2) throw new Error(`blockedFolds: k must be an integer >= 2, got ${k}`);
  if (count < k) throw new Error(`blockedFolds: ${count} windows cannot make ${k} blocks`);
  const edges = Array.from({ length: k + 1 }, (_, i) => Math.round((i * count) / k));
  return edges.slice(0, k).map((from, i) => {
    const to = edges[i + 1] as number;
    const train: Block[] = [];
    if (from - purge > 0) train.push({ from: 0, to: from - purge });
    if (to + purge < count) train.push({ from: to + purge, to: count });
    return { heldOut: { from, to }, train };
  });
}

/** Windows per day at the median spacing of consecutive window end times (irregular sampling allowed). */
export function windowsPerDay(endTs: ArrayLike<number>): number {
  const gaps: number[] = [];
  for (let i = 1; i < endTs.length; i++) {
    const d = (endTs[i] as number) - (endTs[i - 1] as number);
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) return NaN;
  return 86_400_000 / quantile(gaps, 0.5);
}

/** Up-crossings of `level` (a score above it after one at or below it, or first), summed over sequences. */
export function upcrossings(sequences: ArrayLike<number>[], level: number): number {
  let n = 0;
  for (const seq of sequences) {
    let above = false;
    for (let i = 0; i < seq.length; i++) {
      const now = (seq[i] as number) > level;
      if (now && !above) n++;
      above = now;
    }
  }
  return n;
}

/** Below this many allowed crossings over the held-out stretch, counting them is too noisy: extrapolate. */
export const MIN_COUNTED_CROSSINGS = 10;

export interface RateThreshold {
  value: number;
  /** How it was found: `empirical` (enough held-out data to count crossings) or `pot` (tail extrapolation). */
  how: 'empirical' | 'pot';
  /** Per-window exceedance probability that matches the target rate. */
  risk: number;
  /** Mean number of consecutive windows above the fitted level per crossing (1 / extremal index). */
  clusterSize: number;
  pot?: { initial: number; peaks: number; xi: number; sigma: number };
}

/**
 * The level at which held-out smoothed scores would open `alertsPerDay` alerts per entity per
 * day, an alert being counted as an up-crossing (the tracker's k-of-n opening and cooldown only
 * remove crossings, so the realised rate is at most this). When the held-out data spans enough
 * days to see that many crossings (at least MIN_COUNTED_CROSSINGS) the level is read off them; otherwise the tail is extrapolated
 * by peaks over threshold: crossings per window ~ P(score > z) / clusterSize, with clusterSize
 * the mean run length above the initial level (smoothed scores come in runs, not alone).
 */
export function rateThreshold(sequences: ArrayLike<number>[], perDay: number, alertsPerDay: number, initialQuantile: number): RateThreshold {
  if (!(alertsPerDay > 0)) throw new Error(`rateThreshold: alertsPerDay must be > 0, got ${alertsPerDay}`);
  if (!(perDay > 0)) throw new Error(`rateThreshold: windows per day must be > 0, got ${perDay}`);
  const all: number[] = [];
  for (const s of sequences) for (let i = 0; i < s.length; i++) all.push(s[i] as number);
  if (all.length === 0) throw new Error('rateThreshold: no held-out scores');
  const days = all.length / perDay;
  const allowed = alertsPerDay * days;
  const risk0 = alertsPerDay / perDay;
  // Runs get shorter as the level rises (for Gaussian-like scores the extremal index tends to 1),
  // so the run length is measured as high as there are still ~20 exceedances to average over:
  // measured lower it would be overestimated and the threshold set too low.
  const t = quantile(all, Math.max(initialQuantile, 1 - 20 / all.length));
  const above = all.filter((v) => v > t).length;
  const clusterSize = above > 0 ? above / Math.max(1, upcrossings(sequences, t)) : 1;
  if (allowed >= MIN_COUNTED_CROSSINGS) {
    // Enough data: scanning down from the top, the lowest level before crossings first exceed
    // `allowed` (crossings are not strictly monotone in the level: a run can split in two).
    const levels = [...new Set(all)].sort((a, b) => b - a);
    let lo = 0;
    for (let i = 0; i < levels.length; i++) {
      if (upcrossings(sequences, levels[i] as number) > allowed) break;
      lo = i;
    }
    return { value: levels[lo] as number, how: 'empirical', risk: risk0 * clusterSize, clusterSize };
  }
  const risk = Math.min(0.5, risk0 * clusterSize);
  const pot = potThreshold(all, initialQuantile, risk);
  if (pot.xi >= 0 || pot.peaks === 0) return { value: pot.value, how: 'pot', risk, clusterSize, pot: { initial: pot.initial, peaks: pot.peaks, xi: pot.xi, sigma: pot.sigma } };
  // A bounded tail (xi < 0) fitted to a few dozen peaks is mostly noise, and believing it puts the
  // level just above the largest score seen: extrapolate with the exponential tail (xi = 0, the
  // Gaussian's limit) instead, which errs towards fewer alerts, the side a budget should err on.
  let excess = 0;
  for (const v of all) if (v > pot.initial) excess += v - pot.initial;
  const sigma = excess / pot.peaks;
  const value = potQuantile(pot.initial, { xi: 0, sigma, logLikelihood: NaN }, all.length, pot.peaks, risk);
  return { value: Number.isFinite(value) ? value : pot.value, how: 'pot', risk, clusterSize, pot: { initial: pot.initial, peaks: pot.peaks, xi: 0, sigma } };
}
