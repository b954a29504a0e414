/**
 * Turning window scores and alerts into per-row predictions, and per-row predictions into the
 * events other metrics need. Rows are one file's readings in order; a window is identified by
 * the row it ends at, because that is when a streaming detector can first act on it.
 */

/**
 * SKAB's published rule, causal form: row i is anomalous when every window ending in rows
 * i-lookback+1 .. i exists and scores above the threshold. `scores[i]` is the score of the window
 * ending at row i, NaN when no window ends there (the first lookback-1 rows, a reset).
 */
export function publishedRule(scores: ArrayLike<number>, threshold: number, lookback: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  let run = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    // NaN > threshold is false, so a missing window breaks the run.
    run = s > threshold ? run + 1 : 0;
    if (run >= lookback) out[i] = 1;
  }
  return out;
}

/** Rows covered by [from, to] intervals (inclusive), e.g. an alert from its open to its resolve. */
export function intervalsToRows(length: number, intervals: Array<[number, number]>): Uint8Array {
  const out = new Uint8Array(length);
  for (const [from, to] of intervals) for (let i = Math.max(0, from); i <= Math.min(length - 1, to); i++) out[i] = 1;
  return out;
}

/** Timestamps where a binary series changes value (0->1 and 1->0): the changepoints it claims. */
export function edges(pred: ArrayLike<number>, ts: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 1; i < pred.length; i++) if ((pred[i] as number) !== (pred[i - 1] as number)) out.push(ts[i] as number);
  return out;
}

export interface Episode {
  /** First and last row of a run of positive labels. */
  from: number;
  to: number;
}

export function episodes(labels: ArrayLike<number>): Episode[] {
  const out: Episode[] = [];
  let start = -1;
  for (let i = 0; i <= labels.length; i++) {
    const on = i < labels.length && (labels[i] as number) > 0;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      out.push({ from: start, to: i - 1 });
      start = -1;
    }
  }
  return out;
}

export interface DelayResult {
  episodes: number;
  detected: number;
  /** Per detected episode: time from its first row to its first predicted row, ms. */
  delaysMs: number[];
}

/** An episode is detected when any of its rows is predicted; its delay is to the first such row. */
export function detectionDelays(pred: ArrayLike<number>, labels: ArrayLike<number>, ts: ArrayLike<number>): DelayResult {
  const eps = episodes(labels);
  const delaysMs: number[] = [];
  for (const e of eps) {
    for (let i = e.from; i <= e.to; i++) {
      if ((pred[i] as number) > 0) {
        delaysMs.push((ts[i] as number) - (ts[e.from] as number));
        break;
      }
    }
  }
  return { episodes: eps.length, detected: delaysMs.length, delaysMs };
}
