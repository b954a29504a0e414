import { fitGpd, potQuantile } from './pot.js';
import { quantile } from './threshold.js';

/**
 * A prototype, not wired into the daemon: a per-entity threshold that follows slow drift of
 * normal scores without learning anomalies as normal (issue 13, item 3).
 *
 * DSPOT-style (Siffer et al. 2017): scores are taken relative to the moving mean of recent calm
 * scores; above a level t (from calibration), the excesses of those residuals are fitted by a
 * generalized Pareto tail and the threshold is the mean plus the residual exceeded with
 * probability `risk`. What makes it safe to run unattended:
 * - bounded memory: only the last `depth` calm scores and `maxPeaks` excesses are kept, and the
 *   observation count is capped at `horizon`, so the tail describes the recent past and the state has a fixed size
 *   (it must fit a state store entry per entity);
 * - no learning from anomalies: a score is learnt only when the caller says the entity is calm
 *   (no open alert) and the score is below the current threshold;
 * - bounded adaptation: each refit may move the threshold by at most a factor `maxStep`, and
 *   never outside [initial / maxDrift, initial x maxDrift] of the calibrated threshold, so a
 *   slow creep of anomalies cannot walk the threshold away, and drift larger than that is a
 *   case for retraining, not for adaptation.
 */
export interface OnlineThresholdConfig {
  risk: number;
  /** Quantile of the calibration residuals above which excesses are peaks (POT's initial level). */
  levelQuantile: number;
  maxPeaks: number;
  /** Calm scores in the moving mean the residuals are taken from (DSPOT's depth). */
  depth: number;
  horizon: number;
  maxStep: number;
  maxDrift: number;
}

export const DEFAULT_ONLINE: OnlineThresholdConfig = { risk: 1e-3, levelQuantile: 0.95, maxPeaks: 64, depth: 200, horizon: 5000, maxStep: 1.02, maxDrift: 3 };

/** [threshold, offset, n, depth, ...recent calm scores, ...peaks]: everything needed to resume exactly. */
export type OnlineSnapshot = number[];

export class OnlineThreshold {
  private peaks: number[] = [];
  private recent: number[];
  private n: number;
  private value: number;
  /** Threshold minus the moving mean: where a residual becomes an alarm. */
  private offset: number;
  private readonly level: number;

  /**
   * `initial`: the calibrated threshold; `calibration`: the calibration scores (in order), which
   * seed the moving mean, the tail level and the peak set. Scores are judged relative to the
   * mean of the last `depth` calm scores (DSPOT), so a drift of the bulk of normal scores moves
   * the threshold with it, while the tail above the level is refitted from calm scores only.
   */
  constructor(
    private readonly initial: number,
    calibration: ArrayLike<number>,
    private readonly cfg: OnlineThresholdConfig = DEFAULT_ONLINE,
  ) {
    const values = Array.from(calibration);
    if (values.length <= cfg.depth) throw new Error(`OnlineThreshold: needs more than depth=${cfg.depth} calibration scores, got ${values.length}`);
    const residuals: number[] = [];
    let sum = 0;
    values.forEach((v, i) => {
      if (i >= cfg.depth) residuals.push(v - sum / cfg.depth);
      sum += v;
      if (i >= cfg.depth) sum -= values[i - cfg.depth] as number;
    });
    this.recent = values.slice(-cfg.depth);
    this.level = quantile(residuals, cfg.levelQuantile);
    this.peaks = residuals.filter((r) => r > this.level).map((r) => r - this.level).slice(-cfg.maxPeaks);
    this.n = Math.min(cfg.horizon, residuals.length);
    this.value = initial;
    this.offset = initial - this.mean();
    if (!(this.offset > this.level)) throw new Error(`OnlineThreshold: the threshold ${initial} is not above the calibration scores' tail level`);
  }

  get threshold(): number {
    return this.value;
  }

  /** Judges one score; learns from it only when `calm` (no open alert) and it is below the threshold. */
  observe(score: number, calm: boolean): boolean {
    const above = score > this.value;
    if (above || !calm || !Number.isFinite(score)) return above;
    const residual = score - this.mean();
    this.recent.push(score);
    if (this.recent.length > this.cfg.depth) this.recent.shift();
    this.n = Math.min(this.cfg.horizon, this.n + 1);
    if (residual > this.level) {
      this.peaks.push(residual - this.level);
      if (this.peaks.length > this.cfg.maxPeaks) this.peaks.shift();
      const z = potQuantile(this.level, fitGpd(this.peaks), this.n, this.peaks.length, this.cfg.risk);
      if (Number.isFinite(z) && z > this.level) this.offset = z;
    }
    this.value = this.bounded(this.mean() + this.offset);
    return false;
  }

  private mean(): number {
    return this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
  }

  private bounded(z: number): number {
    const stepped = Math.min(this.value * this.cfg.maxStep, Math.max(this.value / this.cfg.maxStep, z));
    return Math.min(this.initial * this.cfg.maxDrift, Math.max(this.initial / this.cfg.maxDrift, stepped));
  }

  snapshot(): OnlineSnapshot {
    return [this.value, this.offset, this.n, this.recent.length, ...this.recent, ...this.peaks];
  }

  restore(snap: OnlineSnapshot): void {
    const [value, offset, n, depth] = snap;
    if (value === undefined || offset === undefined || n === undefined || depth === undefined || !(value > 0) || depth > this.cfg.depth || snap.length - 4 - depth > this.cfg.maxPeaks || snap.length < 4 + depth) {
      throw new Error(`OnlineThreshold.restore: bad snapshot of ${snap.length} numbers`);
    }
    this.value = value;
    this.offset = offset;
    this.n = n;
    this.recent = snap.slice(4, 4 + depth);
    this.peaks = snap.slice(4 + depth);
  }
}
