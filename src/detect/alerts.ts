import { createHash } from 'node:crypto';
import type { AlertsConfig } from '../config/schema.js';
import type { FeatureContribution, Flag, FlagState, WindowScore } from '../domain/types.js';

interface EntityAlert {
  /** Bit history of the last openN windows: above threshold or not. */
  recent: boolean[];
  open: boolean;
  openedAt: number;
  calmRun: number;
  cooldownLeft: number;
  lastEmittedSeverity: number;
  peakScore: number;
  updates: number;
}

/** A window score as the state machine judges it: `score` smoothed, `windowScore` the window's own, against `judgedThreshold`. */
type Judged = WindowScore & { windowScore?: number; judgedThreshold?: number };

/**
 * An entity's adaptive baseline (alerts.adaptiveHalfLifeWindows > 0): the mean of its calm
 * scores, an exponential moving average after the first `adaptiveWarmupWindows` of them, and
 * the reference mean those first ones set. The entity's threshold is the calibrated one times
 * mean / reference, within [1 / adaptiveMaxDrift, adaptiveMaxDrift].
 */
interface Baseline {
  ref: number;
  mean: number;
  n: number;
}

/**
 * The last `smoothWindows` window scores of one entity. Not checkpointed: a restart rebuilds it
 * by re-scoring the windows just before the restart point (the windower keeps their offsets).
 */
interface ScoreHistory {
  scores: Float64Array;
  head: number;
  count: number;
}

/** How the alert tracker judged one window (AlertTracker.lastVerdict). */
export interface Verdict {
  /** The score compared with the threshold (smoothed with alerts.smoothWindows > 1). */
  score: number;
  threshold: number;
  /** The entity's alert was open before or after this window (it opened, stayed open, or resolved on it). */
  inAlert: boolean;
}

/** [recent bits, recent length, open, openedAt, calmRun, cooldownLeft, lastEmittedSeverity, peakScore, updates, baseline ref?, mean?, n?]. */
export type AlertSnapshot = [number, number, number, number, number, number, number, number, number, number?, number?, number?];

/**
 * The per-entity alert lifecycle: quiet -> open -> (update)* -> resolved -> cooldown -> quiet.
 * Opening needs k of the last n windows over the threshold, so one noisy window does not page
 * anyone; resolving needs `resolveAfter` windows below a lower level (hysteresis), so a score
 * hovering at the threshold does not flap. Pure and synchronous: tests drive it directly.
 */
export class AlertTracker {
  private readonly states = new Map<string, EntityAlert>();
  private readonly histories = new Map<string, ScoreHistory>();
  private readonly baselines = new Map<string, Baseline>();
  /** Kept incrementally: the daemon exports it after every batch. */
  private open = 0;
  /**
   * What the last observe() judged (undefined for a warm-up window): the score compared, the
   * threshold it was compared with, and whether the entity's alert was open before or after it.
   * The refit policy reads it to keep abnormal windows out of its buffer and drift test.
   */
  lastVerdict: Verdict | undefined;

  /**
   * `warmupWindows`: the first windows of each run (window.warmupWindows) are start-up
   * transients; they are neither judged nor kept in the score history.
   */
  constructor(
    private readonly cfg: AlertsConfig,
    private threshold: number,
    private readonly features: string[],
    private modelVersion: string,
    private readonly warmupWindows = 0,
  ) {}

  /**
   * Adds a window's score to the entity's smoothing history without judging it: for windows
   * re-scored after a restart, whose alert decisions were made (and checkpointed) before it.
   */
  remember(s: WindowScore): void {
    if (this.inWarmup(s)) return;
    this.smooth(finite(s));
  }

  /**
   * The score the state machine judges for this window (smoothed over the entity's last
   * windows when alerts.smoothWindows > 1), recorded in the history as observe() would; undefined
   * for a warm-up window, which is not judged. For `seismo score`, so its `above` says what
   * `seismo run` decides about the same window. Use a tracker of its own: it does not judge.
   */
  judgedScore(scored: WindowScore): number | undefined {
    if (this.inWarmup(scored)) return undefined;
    const raw = finite(scored);
    return this.cfg.smoothWindows > 1 ? this.smooth(raw) : raw.score;
  }

  /**
   * Feeds one scored window; returns the flag it causes, if any. With `smoothWindows` > 1 the
   * state machine judges the mean score of the entity's last smoothWindows windows (fewer
   * right after its window ring started), so a sustained small excess adds up while one noisy
   * window is diluted; flags report that smoothed score.
   */
  observe(scored: WindowScore): Flag | undefined {
    // An open alert survives a gap in the entity's data (or an out-of-order reset): the window
    // ring and the score history start over, warm-up windows are not judged, and the episode
    // resolves only on resolveAfter calm windows after it. A gap is not evidence that the fault
    // ended; resolving on it would page again when the data resumes (README, Flags).
    this.lastVerdict = undefined;
    if (this.inWarmup(scored)) return undefined;
    const raw = finite(scored);
    const thr = this.thresholdFor(raw.entity);
    const s: Judged = this.cfg.smoothWindows > 1 ? { ...raw, score: this.smooth(raw), windowScore: raw.score, judgedThreshold: thr } : { ...raw, judgedThreshold: thr };
    let st = this.states.get(s.entity);
    if (st === undefined) {
      st = { recent: [], open: false, openedAt: 0, calmRun: 0, cooldownLeft: 0, lastEmittedSeverity: 0, peakScore: 0, updates: 0 };
      this.states.set(s.entity, st);
    }
    const wasOpen = st.open;
    const flag = this.judge(s, st, thr);
    this.lastVerdict = { score: s.score, threshold: thr, inAlert: wasOpen || st.open };
    // Adaptation learns only from calm windows: below the threshold, with no alert open before
    // or after this one, so an anomaly is never learnt as the new normal.
    if (!st.open && flag === undefined && s.score <= thr) this.learn(s.entity, s.score);
    return flag;
  }

  private judge(s: Judged, st: EntityAlert, thr: number): Flag | undefined {
    const above = s.score > thr;
    st.recent.push(above);
    if (st.recent.length > this.cfg.openN) st.recent.shift();

    if (!st.open) {
      if (st.cooldownLeft > 0) {
        st.cooldownLeft--;
        return undefined;
      }
      const hits = st.recent.reduce((n, b) => n + (b ? 1 : 0), 0);
      if (hits < this.cfg.openK) return undefined;
      st.open = true;
      this.open++;
      st.openedAt = s.endTs;
      st.calmRun = 0;
      st.peakScore = s.score;
      st.updates = 0;
      st.lastEmittedSeverity = s.score / thr;
      return this.flag(s, 'open', st);
    }

    // Escalation: an abrupt jump far above everything this alert has seen is a second event (a
    // larger fault starting during the first one), paged as a new episode. Only openedAt, the
    // peak and the counters change, all of them checkpointed, so a restart decides the same.
    if (this.cfg.escalateRatio > 0 && st.peakScore > 0 && s.score > this.cfg.escalateRatio * st.peakScore) {
      const replaced = episodeIdOf(s.entity, st.openedAt);
      st.openedAt = s.endTs;
      st.calmRun = 0;
      st.peakScore = s.score;
      st.updates = 0;
      st.lastEmittedSeverity = s.score / thr;
      return { ...this.flag(s, 'open', st), escalatedFrom: replaced };
    }
    if (s.score < thr * this.cfg.resolveRatio) st.calmRun++;
    else st.calmRun = 0;
    if (s.score > st.peakScore) st.peakScore = s.score;

    // Minimum and maximum duration: a short blip that opened an alert does not resolve (and
    // page again) within minOpenSeconds; an alert still open after maxOpenSeconds resolves as
    // stale, so a later, different fault can open a new one. Both are computed from openedAt,
    // so there is no extra state to checkpoint and a restart decides the same.
    const openMs = s.endTs - st.openedAt;
    const calm = st.calmRun >= this.cfg.resolveAfter && openMs >= this.cfg.minOpenSeconds * 1000;
    const stale = !calm && this.cfg.maxOpenSeconds > 0 && openMs >= this.cfg.maxOpenSeconds * 1000;
    if (calm || stale) {
      st.open = false;
      this.open--;
      st.recent = [];
      st.cooldownLeft = this.cfg.cooldownWindows;
      return this.flag(s, 'resolved', st, stale);
    }
    const severity = s.score / thr;
    if (severity >= st.lastEmittedSeverity * this.cfg.updateRatio) {
      st.lastEmittedSeverity = severity;
      st.updates++;
      return this.flag(s, 'update', st);
    }
    return undefined;
  }

  /**
   * A hot-swapped model: open alerts carry on, judged against the new threshold from now on.
   * Score histories start over: the old model's scores are on another scale.
   */
  setModel(threshold: number, modelVersion: string): void {
    // An open alert's peak is on the old model's scale: rescaled by the thresholds, so the first
    // windows of a model whose errors run larger do not look like an escalation.
    const rescale = threshold / this.threshold;
    if (Number.isFinite(rescale) && rescale > 0) for (const st of this.states.values()) st.peakScore *= rescale;
    this.threshold = threshold;
    this.modelVersion = modelVersion;
    this.histories.clear();
    this.baselines.clear();
  }

  /**
   * True when the entity's state is indistinguishable from a fresh one (no open alert, no
   * cooldown, no recent exceedance): such state need not be checkpointed.
   */
  atRest(entity: string): boolean {
    const st = this.states.get(entity);
    return (st === undefined || (!st.open && st.cooldownLeft === 0 && !st.recent.includes(true))) && !this.baselines.has(entity);
  }

  /** Compact state of every entity not at rest, for a checkpoint (e.g. Kafka commit metadata). */
  snapshot(): Record<string, AlertSnapshot> {
    const out: Record<string, AlertSnapshot> = {};
    for (const [entity, st] of this.states) {
      if (this.atRest(entity)) continue;
      const recent = st.recent.reduce((bits, b, i) => bits | ((b ? 1 : 0) << i), 0);
      const b = this.baselines.get(entity);
      const head = [recent, st.recent.length, st.open ? 1 : 0, st.openedAt, st.calmRun, st.cooldownLeft, st.lastEmittedSeverity, st.peakScore, st.updates] as const;
      out[entity] = b ? [...head, b.ref, b.mean, b.n] : [...head];
    }
    return out;
  }

  restore(entity: string, snap: AlertSnapshot): void {
    const [recentBits, recentLength, open, openedAt, calmRun, cooldownLeft, lastEmittedSeverity, peakScore, updates, ref, mean, n] = snap;
    if (ref !== undefined && mean !== undefined && n !== undefined) this.baselines.set(entity, { ref, mean, n });
    else this.baselines.delete(entity);
    const recent = Array.from({ length: Math.min(recentLength, this.cfg.openN) }, (_, i) => ((recentBits >> i) & 1) === 1);
    // Not drop(): the score history is rebuilt by the replay, not by the snapshot.
    if (this.states.get(entity)?.open) this.open--;
    this.states.set(entity, { recent, open: open === 1, openedAt, calmRun, cooldownLeft, lastEmittedSeverity, peakScore, updates });
    if (open === 1) this.open++;
  }

  openCount(): number {
    return this.open;
  }

  drop(entity: string): void {
    if (this.states.get(entity)?.open) this.open--;
    this.states.delete(entity);
    this.histories.delete(entity);
    this.baselines.delete(entity);
  }

  /** The threshold this entity is judged against: the calibrated one, or with adaptation the calibrated one scaled by its baseline's drift. */
  private thresholdFor(entity: string): number {
    const b = this.baselines.get(entity);
    if (this.cfg.adaptiveHalfLifeWindows === 0 || b === undefined || b.n < this.cfg.adaptiveWarmupWindows || !(b.ref > 0)) return this.threshold;
    const drift = this.cfg.adaptiveMaxDrift;
    return this.threshold * Math.min(drift, Math.max(1 / drift, b.mean / b.ref));
  }

  private learn(entity: string, score: number): void {
    if (this.cfg.adaptiveHalfLifeWindows === 0) return;
    let b = this.baselines.get(entity);
    if (b === undefined) this.baselines.set(entity, (b = { ref: 0, mean: 0, n: 0 }));
    b.n++;
    if (b.n <= this.cfg.adaptiveWarmupWindows) {
      b.mean += (score - b.mean) / b.n;
      b.ref = b.mean;
    } else {
      // Bounded adaptation rate: a calm score moves the mean by 1 - 2^(-1/halfLife) of the gap.
      b.mean += (score - b.mean) * (1 - 2 ** (-1 / this.cfg.adaptiveHalfLifeWindows));
    }
  }

  private inWarmup(s: WindowScore): boolean {
    return s.run !== undefined && s.run <= this.warmupWindows;
  }

  /** Records the score in the entity's history; returns the history's mean. */
  private smooth(s: WindowScore): number {
    const size = this.cfg.smoothWindows;
    let h = this.histories.get(s.entity);
    if (h === undefined) {
      h = { scores: new Float64Array(size), head: 0, count: 0 };
      this.histories.set(s.entity, h);
    }
    // The window ring started over (a gap, an out-of-order reading): so does the history, with
    // the first window after the warm-up.
    if (s.run === this.warmupWindows + 1) h.count = 0;
    if (h.count < size) h.count++;
    h.scores[h.head] = s.score;
    h.head = (h.head + 1) % size;
    // Summed afresh from the ring (not kept as a running sum), so a history rebuilt after a
    // restart gives bit-identical means to the one that was never interrupted.
    let sum = 0;
    for (let i = 1; i <= h.count; i++) sum += h.scores[(h.head - i + size) % size] as number;
    return sum / h.count;
  }

  private flag(s: Judged, state: FlagState, st: EntityAlert, stale = false): Flag {
    // Stable across replays of the same data, so consumers can drop duplicates by id.
    const id = createHash('sha256').update(`${s.entity}|${st.openedAt}|${state}|${st.updates}|${this.modelVersion}`).digest('hex').slice(0, 32);
    return {
      id,
      // One per episode, shared by its open, updates and resolve, also across a model hot swap
      // (the episode carries on) and stable across replays.
      episodeId: episodeIdOf(s.entity, st.openedAt),
      openedAt: new Date(st.openedAt).toISOString(),
      entity: s.entity,
      state,
      windowStart: new Date(s.startTs).toISOString(),
      windowEnd: new Date(s.endTs).toISOString(),
      score: round(s.score),
      threshold: round(s.judgedThreshold ?? this.threshold),
      severity: round(s.score / (s.judgedThreshold ?? this.threshold)),
      ...(s.windowScore !== undefined ? { windowScore: round(s.windowScore) } : {}),
      topFeatures: topFeatures(s.featureErrors, this.features, this.cfg.topFeatures),
      model: this.modelVersion,
      ...(stale ? { stale: true as const } : {}),
    };
  }
}

function episodeIdOf(entity: string, openedAt: number): string {
  return createHash('sha256').update(`${entity}|${openedAt}`).digest('hex').slice(0, 16);
}

/** Each feature's share of the window's reconstruction error, largest first. */
export function topFeatures(errors: Float32Array, names: string[], k: number): FeatureContribution[] {
  let total = 0;
  for (const e of errors) total += e;
  return Array.from(errors, (error, i) => ({ name: names[i] ?? `f${i}`, error: round(error), share: round(total > 0 ? error / total : 0) }))
    .sort((a, b) => b.error - a.error)
    .slice(0, k);
}

/**
 * The largest score the tracker works with. A window whose error is not finite (a reading of
 * 1e30 overflows float32 in the model, Infinity - Infinity is NaN) is as anomalous as a window
 * can be: it is judged at this score, so it counts above any threshold, an open alert can still
 * resolve afterwards (NaN compares false with everything), and flags stay valid JSON.
 */
export const MAX_SCORE = 1e30;

/** A score the alert state machine and the metrics can use: non-finite and huge scores become MAX_SCORE. */
export function finiteScore(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), MAX_SCORE) : MAX_SCORE;
}

function finite(s: WindowScore): WindowScore {
  if (Number.isFinite(s.score) && s.score <= MAX_SCORE && s.featureErrors.every((e) => Number.isFinite(e))) return s;
  return { ...s, score: finiteScore(s.score), featureErrors: s.featureErrors.map((e) => finiteScore(e)) };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
