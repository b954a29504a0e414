/**
 * Seasonal-difference features: for a feature with a daily rhythm, the model also sees how far
 * each reading is from the reading one period (a day) earlier.
 *
 * Why: a lookback window of minutes cannot tell 3 a.m. from 3 p.m. A stream that stays flat
 * through its usual afternoon peak, misses a daily jump, or carries a holiday's traffic on a
 * working day has values that are each normal somewhere in the day; only the comparison with
 * the same time yesterday shows them (NAB's art_daily_* and nyc_taxi are such cases).
 *
 * `auto` keeps a feature's seasonal difference when the training rows span at least two periods
 * and the feature's autocorrelation at one period's lag exceeds a limit: the rhythm is strong
 * enough that yesterday predicts today. The derived column is named `<feature>@1d` and is
 * appended after the input features; it is scaled and windowed like any other column.
 */
import { SeismoError } from '../errors.js';

/** `auto` tests each feature; a spec (a running model's) is taken as it is, for a hot-swappable refit. */
export type SeasonalChoice = 'none' | 'auto' | SeasonalSpec;

/** What an artifact records: the period, how close a past reading must be, which features get a difference. */
export interface SeasonalSpec {
  periodMs: number;
  /** A reading counts as "one period earlier" when its time is within this of ts - period. */
  toleranceMs: number;
  /** Input features (by name) that get a seasonal difference, in derived-column order. */
  of: string[];
  /** History slots per entity: enough readings to cover one period plus slack. */
  capacity: number;
}

export const DAY_MS = 86_400_000;
/** A history of more readings than this per entity is refused (memory per entity); see chooseSeasonal. */
export const MAX_SEASONAL_CAPACITY = 4096;
/** Nor more bytes than this per entity (time, position, clock and one value per seasonal feature). */
export const MAX_SEASONAL_BYTES = 256 * 1024;

/**
 * Readings one period spans at the sampling interval a spec's tolerance implies (training sets
 * the tolerance to half the interval): a history with fewer slots can never reach one period back.
 */
export function readingsPerPeriod(spec: Pick<SeasonalSpec, 'periodMs' | 'toleranceMs'>): number {
  return Math.round(spec.periodMs / (2 * spec.toleranceMs));
}

/** Bytes one entity's history holds. */
export function seasonalBytes(capacity: number, features: number): number {
  return capacity * (3 + features) * 8;
}

/**
 * Why a model with seasonal spec `next` cannot replace one with `running` live, or undefined when
 * it can: windowers keep per-entity history for the running spec only, so any difference (other
 * features, period, tolerance or history size) would need history nobody kept.
 */
export function seasonalMismatch(next: SeasonalSpec | undefined, running: SeasonalSpec | undefined): string | undefined {
  const text = (s: SeasonalSpec | undefined) => (s === undefined ? 'none' : JSON.stringify(s));
  return text(next) === text(running) ? undefined : `seasonal columns ${text(next)}, the running model has ${text(running)}`;
}

export function seasonalName(feature: string): string {
  return `${feature}@1d`;
}

/**
 * Per-entity ring of past readings (time, raw values of the seasonal features, source position)
 * that answers "what was the value one period before ts". Times are increasing (the windower
 * rejects or restarts on out-of-order readings before they get here).
 */
export class SeasonalHistory {
  private readonly ts: Float64Array;
  private readonly values: Float64Array;
  private readonly seqs: Float64Array;
  private readonly clocks: Float64Array;
  private head = 0;
  private count = 0;

  constructor(private readonly spec: SeasonalSpec) {
    const c = spec.capacity;
    this.ts = new Float64Array(c);
    this.values = new Float64Array(c * spec.of.length);
    this.seqs = new Float64Array(c);
    this.clocks = new Float64Array(c);
  }

  /** Index of slot k-th oldest. */
  private slot(k: number): number {
    const c = this.spec.capacity;
    return (this.head - this.count + k + c) % c;
  }

  /**
   * Writes each seasonal feature's difference to one period earlier into `out` (same order as
   * spec.of) and returns true, or returns false when no reading lies close enough to ts - period.
   */
  differences(ts: number, raw: ArrayLike<number>, out: Float64Array, outAt = 0): boolean {
    const target = ts - this.spec.periodMs;
    // Binary search for the first slot with time >= target - tolerance.
    let lo = 0;
    let hi = this.count;
    const from = target - this.spec.toleranceMs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ts[this.slot(mid)] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    let best = -1;
    let bestDistance = Infinity;
    for (let k = lo; k < this.count; k++) {
      const t = this.ts[this.slot(k)] as number;
      if (t > target + this.spec.toleranceMs) break;
      const d = Math.abs(t - target);
      if (d < bestDistance) {
        best = this.slot(k);
        bestDistance = d;
      }
    }
    if (best < 0) return false;
    const s = this.spec.of.length;
    for (let j = 0; j < s; j++) out[outAt + j] = (raw[j] as number) - (this.values[best * s + j] as number);
    return true;
  }

  /**
   * True when the history is full and even its oldest reading is later than one period before
   * `ts`: readings come faster than the history was sized for (the stream is sampled faster than
   * the training data, or a corrupted capacity), so no lookup can ever succeed until they slow
   * down. The windower counts these: otherwise the entity would fill forever without a sign.
   */
  tooShortFor(ts: number): boolean {
    if (this.count < this.spec.capacity) return false;
    return (this.ts[this.slot(0)] as number) > ts - this.spec.periodMs + this.spec.toleranceMs;
  }

  /** Remembers a reading (raw values of spec.of, in order). */
  push(ts: number, raw: ArrayLike<number>, seq: number, clockBefore: number): void {
    const s = this.spec.of.length;
    const at = this.head;
    this.ts[at] = ts;
    for (let j = 0; j < s; j++) this.values[at * s + j] = raw[j] as number;
    this.seqs[at] = seq;
    this.clocks[at] = clockBefore;
    this.head = (this.head + 1) % this.spec.capacity;
    if (this.count < this.spec.capacity) this.count++;
  }

  /**
   * The oldest remembered reading a restart needs so that a reading at or after `fromTs` finds
   * the same reading one period earlier: its source position and the lane clock before it.
   */
  oldestNeeded(fromTs: number): { seq: number; clockBefore: number } | undefined {
    const from = fromTs - this.spec.periodMs - this.spec.toleranceMs;
    for (let k = 0; k < this.count; k++) {
      const i = this.slot(k);
      if ((this.ts[i] as number) >= from) return { seq: this.seqs[i] as number, clockBefore: this.clocks[i] as number };
    }
    return undefined;
  }
}

/** Median of the positive differences of consecutive timestamps, per entity, pooled. */
export function medianIntervalMs(series: ArrayLike<number>[]): number {
  const gaps: number[] = [];
  for (const ts of series) for (let i = 1; i < ts.length; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number);
    if (d > 0) gaps.push(d);
  }
  if (gaps.length === 0) return NaN;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] as number;
}

/**
 * Correlation between a feature and itself `lag` rows earlier, over the lagged pairs of every
 * entity pooled (Pearson's r of the pairs). Unlike the textbook estimator, which divides the
 * n - lag products by all n rows, this is not shrunk towards 0 when the data spans only a few
 * lags: over 2.6 days of a daily rhythm the textbook one reaches at most 0.62 of the truth.
 */
export function lagAutocorrelation(sequences: ArrayLike<number>[], lag: number): number {
  let n = 0;
  let sumNow = 0;
  let sumThen = 0;
  for (const seq of sequences) for (let i = lag; i < seq.length; i++) { sumNow += seq[i] as number; sumThen += seq[i - lag] as number; n++; }
  if (n < 2) return 0;
  const meanNow = sumNow / n;
  const meanThen = sumThen / n;
  let cov = 0;
  let varNow = 0;
  let varThen = 0;
  for (const seq of sequences) {
    for (let i = lag; i < seq.length; i++) {
      const a = (seq[i] as number) - meanNow;
      const b = (seq[i - lag] as number) - meanThen;
      cov += a * b;
      varNow += a * a;
      varThen += b * b;
    }
  }
  return varNow > 0 && varThen > 0 ? cov / Math.sqrt(varNow * varThen) : 0;
}

/**
 * A daily rhythm, not mere persistence: the correlation one day back passes `limit` and is higher
 * than half a day back. A periodic signal peaks at its period; a slow trend or a level that
 * wanders correlates the more the closer the lag, so it fails the second test (on the NAB
 * selection streams: cpu_utilization_asg_misconfiguration, 0.56 at a day and 0.63 at half a day,
 * opened 24 alerts with a seasonal column against 13 without).
 */
export function hasDailyRhythm(sequences: ArrayLike<number>[], lag: number, limit: number): boolean {
  const atDay = lagAutocorrelation(sequences, lag);
  return atDay > limit && atDay > lagAutocorrelation(sequences, Math.round(lag / 2));
}

export interface SeasonalDecision {
  spec?: SeasonalSpec;
  /** Why no seasonal features were chosen (for the training log), when none were. */
  reason?: string;
}

/**
 * Which features get a daily difference. `timestamps[e]` and `columns[j][e]` hold entity e's
 * training timestamps and feature j's values; `lookback` rows more than two periods are needed.
 */
export function chooseSeasonal(choice: SeasonalChoice, features: string[], timestamps: ArrayLike<number>[], columns: ArrayLike<number>[][], lookback: number, limit: number): SeasonalDecision {
  if (choice === 'none') return { reason: 'training.seasonal is none' };
  if (typeof choice === 'object') return { spec: pinnedSeasonal(choice, features, timestamps, lookback) };
  const interval = medianIntervalMs(timestamps);
  if (!Number.isFinite(interval)) return { reason: 'too few timestamps to find the sampling interval' };
  const lag = Math.round(DAY_MS / interval);
  if (lag < 2) return { reason: `sampling interval ${interval / 1000} s: less than two readings per day` };
  const capacity = Math.ceil(lag * 1.25) + lookback + 2;
  if (capacity > MAX_SEASONAL_CAPACITY) return { reason: `a day is ${lag} readings at the ${interval / 1000} s interval, more than the ${MAX_SEASONAL_CAPACITY} a history may hold per entity` };
  const longest = Math.max(...timestamps.map((ts) => ts.length));
  if (longest < 2 * lag + lookback) return { reason: `the training data spans ${longest} readings per entity at most, under two days (${2 * lag + lookback} readings) at the ${interval / 1000} s interval` };
  const of = features.filter((_, j) => hasDailyRhythm(columns[j] ?? [], lag, limit));
  if (of.length === 0) return { reason: `no feature has a daily rhythm: none correlates above ${limit} with itself one day (${lag} readings) earlier and more than half a day earlier` };
  if (seasonalBytes(capacity, of.length) > MAX_SEASONAL_BYTES) return { reason: `a day of history for ${of.length} features is ${Math.round(seasonalBytes(capacity, of.length) / 1024)} KiB per entity, more than ${MAX_SEASONAL_BYTES / 1024} KiB` };
  return { spec: { periodMs: DAY_MS, toleranceMs: interval / 2, of, capacity } };
}

/**
 * A given spec (a running model's columns) checked against the training data instead of chosen
 * by the rhythm test: a refit candidate must carry exactly the running model's columns to be
 * swapped in, so data that cannot fit them fail training with the reason, rather than giving a
 * model that would be refused after its whole shadow period.
 */
function pinnedSeasonal(spec: SeasonalSpec, features: string[], timestamps: ArrayLike<number>[], lookback: number): SeasonalSpec {
  const missing = spec.of.filter((f) => !features.includes(f));
  if (missing.length > 0) throw new SeismoError('SEISMO_CONFIG_INVALID', `training.seasonal: ${missing.map((f) => `"${f}"`).join(', ')} ${missing.length === 1 ? 'is not a feature' : 'are not features'} of the training data (features: ${features.join(', ')})`);
  const lag = readingsPerPeriod(spec);
  if (spec.capacity < lag + lookback) throw new SeismoError('SEISMO_CONFIG_INVALID', `training.seasonal: capacity ${spec.capacity} cannot hold one period (${lag} readings at a tolerance of ${spec.toleranceMs} ms) plus the lookback (${lookback})`);
  const longest = Math.max(0, ...timestamps.map((ts) => ts.length));
  if (longest < 2 * lag + lookback) throw new SeismoError('SEISMO_TRAINING_FAILED', `training.seasonal names the columns [${spec.of.join(', ')}] but the training data span ${longest} readings per entity at most, under two periods (${2 * lag + lookback} readings)`);
  return { periodMs: spec.periodMs, toleranceMs: spec.toleranceMs, of: [...spec.of], capacity: spec.capacity };
}
