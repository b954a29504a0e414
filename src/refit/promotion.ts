import type { Flag } from '../domain/types.js';

/** The promotion rule's parameters (refit.keepSeverity, refit.minGain, refit.shadowWindows). */
export interface PromotionRule {
  shadowWindows: number;
  keepSeverity: number;
  minGain: number;
}

interface Episode {
  entity: string;
  opened: number;
  /** Resolve time, or Infinity while open. */
  end: number;
  peak: number;
}

export type Decision =
  | { promote: true; reason: string; summary: ShadowSummary }
  | { promote: false; reason: 'too_few_windows' | 'lost_episode' | 'more_alerts' | 'no_gain'; detail: string; summary: ShadowSummary };

export interface ShadowSummary {
  windows: number;
  liveOpenings: number;
  candidateOpenings: number;
  /** 95th percentile of score / threshold on the windows the live model judged calm, per model. */
  liveCalmP95: number;
  candidateCalmP95: number;
  /** Live episodes at or above keepSeverity, and how many of them the candidate opened too. */
  clearLiveEpisodes: number;
  clearEpisodesKept: number;
}

/**
 * What the live model and the candidate did on the same windows during the shadow period, and
 * the promotion rule that judges it (docs/architecture.md, "Continual learning"):
 *   1. keep: every live episode of the period whose peak severity reached keepSeverity was opened
 *      by the candidate too (an episode of the same entity overlapping it in time);
 *   2. quieter: the candidate opened no more alerts than the live model; and
 *   3. better: it opened fewer, or, as many, it lowered the 95th percentile of score / threshold
 *      on the windows the live model judged calm by at least minGain (more headroom below the
 *      threshold on normal data: fewer false alerts to come).
 * Pure: tests and the refit controller feed it flags and paired scores.
 */
export class ShadowComparison {
  private readonly live = new Map<string, Episode>();
  private readonly candidate = new Map<string, Episode>();
  private readonly liveCalm: number[] = [];
  private readonly candidateCalm: number[] = [];
  windows = 0;

  /** A window the candidate judged. */
  countWindow(): void {
    this.windows++;
  }

  liveFlag(flag: Flag): void {
    track(this.live, flag);
  }

  candidateFlag(flag: Flag): void {
    track(this.candidate, flag);
  }

  /** The same window, judged calm by the live model: both models' score / threshold. */
  calmPair(liveNormalised: number, candidateNormalised: number): void {
    this.liveCalm.push(liveNormalised);
    this.candidateCalm.push(candidateNormalised);
  }

  summary(keepSeverity: number): ShadowSummary {
    const clear = [...this.live.values()].filter((e) => e.peak >= keepSeverity);
    const cands = [...this.candidate.values()];
    const kept = clear.filter((l) => cands.some((c) => c.entity === l.entity && c.opened <= l.end && c.end >= l.opened));
    return {
      windows: this.windows,
      liveOpenings: this.live.size,
      candidateOpenings: this.candidate.size,
      liveCalmP95: percentile(this.liveCalm, 0.95),
      candidateCalmP95: percentile(this.candidateCalm, 0.95),
      clearLiveEpisodes: clear.length,
      clearEpisodesKept: kept.length,
    };
  }

  decide(rule: PromotionRule): Decision {
    const s = this.summary(rule.keepSeverity);
    if (s.windows < rule.shadowWindows) return { promote: false, reason: 'too_few_windows', detail: `${s.windows} shadow windows, the rule needs ${rule.shadowWindows}`, summary: s };
    if (s.clearEpisodesKept < s.clearLiveEpisodes) {
      return { promote: false, reason: 'lost_episode', detail: `the candidate missed ${s.clearLiveEpisodes - s.clearEpisodesKept} of ${s.clearLiveEpisodes} live alert episodes with severity >= ${rule.keepSeverity}`, summary: s };
    }
    if (s.candidateOpenings > s.liveOpenings) return { promote: false, reason: 'more_alerts', detail: `the candidate opened ${s.candidateOpenings} alerts, the live model ${s.liveOpenings}`, summary: s };
    if (s.candidateOpenings < s.liveOpenings) return { promote: true, reason: `fewer alert openings (${s.candidateOpenings} vs ${s.liveOpenings}), every clear live episode kept`, summary: s };
    const gain = s.liveCalmP95 > 0 ? 1 - s.candidateCalmP95 / s.liveCalmP95 : 0;
    if (!(s.liveCalmP95 > 0) || !(gain >= rule.minGain)) {
      return { promote: false, reason: 'no_gain', detail: `as many openings (${s.liveOpenings}); calm p95 score/threshold ${fmt(s.candidateCalmP95)} vs live ${fmt(s.liveCalmP95)}: gain ${fmt(gain)} < refit.minGain ${rule.minGain}`, summary: s };
    }
    return { promote: true, reason: `as many openings (${s.liveOpenings}), calm p95 score/threshold ${fmt(s.candidateCalmP95)} vs live ${fmt(s.liveCalmP95)} (gain ${fmt(gain)} >= ${rule.minGain})`, summary: s };
  }
}

function track(episodes: Map<string, Episode>, flag: Flag): void {
  const opened = Date.parse(flag.openedAt);
  const at = Date.parse(flag.windowEnd);
  let e = episodes.get(flag.episodeId);
  if (e === undefined) {
    // An episode open before the shadow period began is not one of its openings.
    if (flag.state !== 'open') return;
    e = { entity: flag.entity, opened, end: Infinity, peak: 0 };
    episodes.set(flag.episodeId, e);
  }
  e.peak = Math.max(e.peak, flag.severity);
  if (flag.state === 'resolved') e.end = at;
  // An escalation ends the episode it replaces (that one gets no resolved flag).
  const replaced = flag.escalatedFrom !== undefined ? episodes.get(flag.escalatedFrom) : undefined;
  if (replaced !== undefined && replaced.end === Infinity) replaced.end = at;
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}
