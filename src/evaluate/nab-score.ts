import { NAB_PROFILES, scaledSigmoid, type NabProfile } from './nab.js';

/**
 * The NAB corpus scorer, by rows as the NAB README and its reference scorer count them (nab.ts
 * has the time-based variant SKAB's changepoint windows use):
 *
 * - the first min(floor(0.15 n), 750) rows of a file are probationary: detections there are
 *   ignored (windows there still count as missed if nothing later detects them);
 * - a window [a, b] (row indices, inclusive, width w = b - a + 1) credits only its earliest
 *   detection i with A_TP x sigma(-(b - i + 1) / w) / sigma(-1): exactly A_TP at the left edge,
 *   a small positive amount at the right edge;
 * - a detection outside every window costs A_FP x sigma(|i - b'| / (w' - 1)) against the last
 *   window [a', b'] that ended before it (sigma(y) = -1 beyond 3 window lengths), or A_FP x -1
 *   when no window precedes it;
 * - every window without a detection costs A_FN;
 * - corpus score 100 x (S - S_null) / (S_perfect - S_null), S_null = -A_FN x windows (nothing
 *   detected), S_perfect = A_TP x windows (each window detected at its left edge), so the null
 *   detector scores 0 and a detector whose false alarms cost more than its hits earn scores
 *   below 0 (the official runner, which picks one threshold for the corpus, would then choose
 *   to detect nothing and report 0).
 */

/** NAB's probationary period: min(floor(0.15 n), 0.15 x 5000). */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

export interface RowWindow {
  /** First and last row inside the window (inclusive). */
  from: number;
  to: number;
}

/** Label windows given as [start, end] timestamps (ms) mapped to the rows inside them. */
export function rowWindows(ts: ArrayLike<number>, windows: Array<[number, number]>): RowWindow[] {
  const out: RowWindow[] = [];
  for (const [start, end] of [...windows].sort((a, b) => a[0] - b[0])) {
    let from = -1;
    let to = -1;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i] as number;
      if (t >= start && t <= end) {
        if (from < 0) from = i;
        to = i;
      }
    }
    if (from >= 0) out.push({ from, to });
  }
  return out;
}

export interface NabFileScore {
  profile: string;
  score: number;
  windows: number;
  detected: number;
  falsePositives: number;
  /** Detections counted (after the probationary period). */
  detections: number;
}

/** One file's raw score under one profile; `detections` are row indices. */
export function scoreNabFile(rows: number, windows: RowWindow[], detections: number[], profile: NabProfile): NabFileScore {
  const probation = probationRows(rows);
  const sorted = [...new Set(detections)].filter((i) => i >= probation && i < rows).sort((a, b) => a - b);
  const credited = new Set<number>();
  let score = 0;
  let falsePositives = 0;
  for (const i of sorted) {
    const w = windows.findIndex((win) => i >= win.from && i <= win.to);
    if (w >= 0) {
      if (credited.has(w)) continue;
      credited.add(w);
      const win = windows[w] as RowWindow;
      const width = win.to - win.from + 1;
      score += (profile.tp * scaledSigmoid(-(win.to - i + 1) / width)) / scaledSigmoid(-1);
      continue;
    }
    falsePositives++;
    let previous: RowWindow | undefined;
    for (const win of windows) if (win.to < i && (previous === undefined || win.to > previous.to)) previous = win;
    const unweighted = previous === undefined ? -1 : scaledSigmoid(Math.abs(i - previous.to) / Math.max(1, previous.to - previous.from));
    score += profile.fp * unweighted;
  }
  score -= profile.fn * (windows.length - credited.size);
  return { profile: profile.name, score, windows: windows.length, detected: credited.size, falsePositives, detections: sorted.length };
}

/** 100 x (S - S_null) / (S_perfect - S_null) over a set of files' raw scores under one profile. */
export function normalisedNab(scores: NabFileScore[], profile: NabProfile): number {
  const s = scores.reduce((a, x) => a + x.score, 0);
  const windows = scores.reduce((a, x) => a + x.windows, 0);
  if (windows === 0) return NaN;
  const nullScore = -profile.fn * windows;
  return (100 * (s - nullScore)) / (profile.tp * windows - nullScore);
}

export { NAB_PROFILES };
