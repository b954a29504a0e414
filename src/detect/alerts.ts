import { createHash } from 'node:crypto';
import type { AlertsConfig } from '../config/schema.js';
import type { FeatureContribution, Flag, FlagState, WindowScore } from '../pipeline/types.js';

interface EntityAlert {
  /** Bit history of the last openN windows: above threshold or not. */
  recent: boolean[];
  open: boolean;
  openedAt: number;
  calmRun: number;
  cooldownLeft: number;
  lastEmittedSeverity: number;
  peak: WindowScore | undefined;
  updates: number;
}

/**
 * The per-entity alert lifecycle: quiet -> open -> (update)* -> resolved -> cooldown -> quiet.
 * Opening needs k of the last n windows over the threshold, so one noisy window does not page
 * anyone; resolving needs `resolveAfter` windows below a lower level (hysteresis), so a score
 * hovering at the threshold does not flap. Pure and synchronous: tests drive it directly.
 */
export class AlertTracker {
  private readonly states = new Map<string, EntityAlert>();

  constructor(
    private readonly cfg: AlertsConfig,
    private readonly threshold: number,
    private readonly features: string[],
    private readonly modelVersion: string,
  ) {}

  /** Feeds one scored window; returns the flag it causes, if any. */
  observe(s: WindowScore): Flag | undefined {
    let st = this.states.get(s.entity);
    if (st === undefined) {
      st = { recent: [], open: false, openedAt: 0, calmRun: 0, cooldownLeft: 0, lastEmittedSeverity: 0, peak: undefined, updates: 0 };
      this.states.set(s.entity, st);
    }
    const above = s.score > this.threshold;
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
      st.openedAt = s.endTs;
      st.calmRun = 0;
      st.peak = s;
      st.updates = 0;
      st.lastEmittedSeverity = s.score / this.threshold;
      return this.flag(s, 'open', st);
    }

    if (s.score < this.threshold * this.cfg.resolveRatio) st.calmRun++;
    else st.calmRun = 0;
    if (st.peak === undefined || s.score > st.peak.score) st.peak = s;

    if (st.calmRun >= this.cfg.resolveAfter) {
      st.open = false;
      st.recent = [];
      st.cooldownLeft = this.cfg.cooldownWindows;
      return this.flag(s, 'resolved', st);
    }
    const severity = s.score / this.threshold;
    if (severity >= st.lastEmittedSeverity * this.cfg.updateRatio) {
      st.lastEmittedSeverity = severity;
      st.updates++;
      return this.flag(s, 'update', st);
    }
    return undefined;
  }

  openCount(): number {
    let n = 0;
    for (const st of this.states.values()) if (st.open) n++;
    return n;
  }

  drop(entity: string): void {
    this.states.delete(entity);
  }

  private flag(s: WindowScore, state: FlagState, st: EntityAlert): Flag {
    // Stable across replays of the same data, so consumers can drop duplicates by id.
    const id = createHash('sha256').update(`${s.entity}|${st.openedAt}|${state}|${st.updates}|${this.modelVersion}`).digest('hex').slice(0, 32);
    return {
      id,
      entity: s.entity,
      state,
      windowStart: new Date(s.startTs).toISOString(),
      windowEnd: new Date(s.endTs).toISOString(),
      score: round(s.score),
      threshold: round(this.threshold),
      severity: round(s.score / this.threshold),
      topFeatures: topFeatures(s.featureErrors, this.features, this.cfg.topFeatures),
      model: this.modelVersion,
    };
  }
}

/** Each feature's share of the window's reconstruction error, largest first. */
export function topFeatures(errors: Float32Array, names: string[], k: number): FeatureContribution[] {
  let total = 0;
  for (const e of errors) total += e;
  return Array.from(errors, (error, i) => ({ name: names[i] ?? `f${i}`, error: round(error), share: round(total > 0 ? error / total : 0) }))
    .sort((a, b) => b.error - a.error)
    .slice(0, k);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
