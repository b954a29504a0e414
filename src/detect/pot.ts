import { quantile } from './threshold.js';

/**
 * Peaks over threshold (extreme value theory): above a high enough level t, the excesses of
 * almost any distribution follow a generalized Pareto distribution GPD(xi, sigma)
 * (Pickands-Balkema-de Haan). Fitting that tail lets us place a threshold at a risk far smaller
 * than 1 / (number of calibration errors), where an empirical quantile has no data.
 * Method as in Siffer et al., "Anomaly Detection in Streams with Extreme Value Theory" (KDD 2017).
 */
export interface GpdFit {
  /** Shape: 0 is an exponential tail, > 0 heavy, < 0 bounded. */
  xi: number;
  sigma: number;
  logLikelihood: number;
}

/**
 * Maximum-likelihood GPD fit of positive excesses, through Grimshaw's reduction to one
 * parameter theta = xi / sigma: for a given theta the likelihood is maximised by
 * xi = mean(log(1 + theta y)), sigma = xi / theta, so log L(theta) = -n (log(xi/theta) + xi + 1).
 * A log-spaced grid over theta on both sides of 0 (plus the exponential limit theta -> 0) finds
 * the basin, golden-section search polishes it. No root finding, so no convergence failures.
 */
export function fitGpd(excesses: ArrayLike<number>): GpdFit {
  const y = Float64Array.from(excesses);
  const n = y.length;
  if (n === 0) throw new Error('fitGpd: no excesses');
  let mean = 0;
  let max = 0;
  for (const v of y) {
    if (!(v >= 0)) throw new Error(`fitGpd: excess ${v} is not >= 0`);
    mean += v / n;
    if (v > max) max = v;
  }
  if (mean === 0) return { xi: 0, sigma: 0, logLikelihood: Infinity };
  const exponential: GpdFit = { xi: 0, sigma: mean, logLikelihood: -n * (Math.log(mean) + 1) };
  if (n < 3) return exponential;

  const profile = (theta: number): GpdFit | undefined => {
    if (theta === 0 || 1 + theta * max <= 0) return undefined;
    let xi = 0;
    for (const v of y) xi += Math.log1p(theta * v);
    xi /= n;
    const sigma = xi / theta;
    // xi < -1 makes the likelihood unbounded (mass piles at the endpoint): not a tail model.
    if (!(sigma > 0) || xi < -1) return undefined;
    return { xi, sigma, logLikelihood: -n * (Math.log(sigma) + xi + 1) };
  };

  const candidates: number[] = [];
  for (let p = -4; p <= 3; p += 0.1) {
    const scale = 10 ** p / mean;
    candidates.push(scale);
    // Negative theta is bounded by -1 / max(y).
    candidates.push(-Math.min(scale, (1 - 1e-9) / max));
  }
  candidates.sort((a, b) => a - b);
  let best = exponential;
  let bestIdx = -1;
  candidates.forEach((theta, i) => {
    const fit = profile(theta);
    if (fit && fit.logLikelihood > best.logLikelihood) {
      best = fit;
      bestIdx = i;
    }
  });
  if (bestIdx < 0) return best;
  let lo = candidates[Math.max(0, bestIdx - 1)] as number;
  let hi = candidates[Math.min(candidates.length - 1, bestIdx + 1)] as number;
  const ll = (theta: number) => profile(theta)?.logLikelihood ?? -Infinity;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let iter = 0; iter < 60; iter++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (ll(a) >= ll(b)) hi = b;
    else lo = a;
  }
  const polished = profile((lo + hi) / 2);
  return polished && polished.logLikelihood > best.logLikelihood ? polished : best;
}

export interface PotThreshold {
  value: number;
  /** The initial level t whose excesses were fitted. */
  initial: number;
  peaks: number;
  xi: number;
  sigma: number;
}

/**
 * The level exceeded with probability `risk`: z = t + sigma/xi ((risk n / N_t)^-xi - 1), or
 * t - sigma log(risk n / N_t) for an exponential tail, with n observations of which N_t exceed t.
 * A risk not inside the fitted tail (risk >= N_t / n) is just the empirical (1 - risk) quantile.
 */
export function potQuantile(t: number, fit: GpdFit, n: number, peaks: number, risk: number): number {
  const r = (risk * n) / peaks;
  if (peaks === 0 || r >= 1) return NaN;
  if (Math.abs(fit.xi) < 1e-9) return t - fit.sigma * Math.log(r);
  return t + (fit.sigma / fit.xi) * (r ** -fit.xi - 1);
}

export function potThreshold(values: ArrayLike<number>, initialQuantile: number, risk: number): PotThreshold {
  const t = quantile(values, initialQuantile);
  const excesses: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > t) excesses.push(v - t);
  }
  const fit = excesses.length > 0 ? fitGpd(excesses) : { xi: 0, sigma: 0, logLikelihood: 0 };
  const z = potQuantile(t, fit, values.length, excesses.length, risk);
  return { value: Number.isFinite(z) ? z : quantile(values, 1 - risk), initial: t, peaks: excesses.length, xi: fit.xi, sigma: fit.sigma };
}

/**
 * SPOT: the streaming form. Calibrated on an initial batch, then each new value is either an
 * alarm (above the threshold; not learnt from, so anomalies do not raise the bar), a new peak
 * (between t and the threshold; the tail is refitted), or ordinary. With `depth` > 0 it is
 * DSPOT: values are taken relative to the mean of the last `depth` normal values, which
 * follows a slow drift of the score's level.
 */
export class Spot {
  private readonly peaks: number[] = [];
  private n: number;
  private readonly t: number;
  private z: number;
  private readonly recent: number[] = [];
  private recentSum = 0;

  constructor(initial: ArrayLike<number>, private readonly risk: number, initialQuantile = 0.98, private readonly depth = 0) {
    let values = Array.from(initial);
    if (depth > 0) {
      if (values.length <= depth) throw new Error(`DSPOT needs more than depth=${depth} initial values`);
      const residuals: number[] = [];
      for (const v of values) {
        if (this.recent.length === depth) residuals.push(v - this.recentSum / depth);
        this.remember(v);
      }
      values = residuals;
    }
    const init = potThreshold(values, initialQuantile, risk);
    this.t = init.initial;
    for (const v of values) if (v > this.t) this.peaks.push(v - this.t);
    this.n = values.length;
    this.z = init.value;
  }

  /** The current threshold on the raw value scale. */
  get threshold(): number {
    return this.z + this.level();
  }

  /** Feeds one value; true when it is an alarm. */
  step(value: number): boolean {
    const x = value - this.level();
    if (x > this.z) return true;
    this.n++;
    if (x > this.t) {
      this.peaks.push(x - this.t);
      const z = potQuantile(this.t, fitGpd(this.peaks), this.n, this.peaks.length, this.risk);
      if (Number.isFinite(z)) this.z = z;
    }
    this.remember(value);
    return false;
  }

  private level(): number {
    return this.depth > 0 ? this.recentSum / this.recent.length : 0;
  }

  private remember(v: number): void {
    if (this.depth === 0) return;
    this.recent.push(v);
    this.recentSum += v;
    if (this.recent.length > this.depth) this.recentSum -= this.recent.shift() as number;
  }
}
