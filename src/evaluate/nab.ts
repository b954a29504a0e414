/**
 * NAB scoring (Lavin and Ahmad, "Evaluating Real-time Anomaly Detection Algorithms: the Numenta
 * Anomaly Benchmark", 2015), written from the paper's definition:
 *
 * - every labelled event owns a window; a detection inside a window scores
 *   A_TP x sigma(y) / sigma(-1), where y in [-1, 0] is its position relative to the window's end
 *   (-1 at the start) and sigma(y) = 2 / (1 + e^(5y)) - 1, so an early detection earns almost the
 *   full A_TP and one at the window's end earns 0; only the first detection of a window counts;
 * - a window without any detection costs A_FN;
 * - a detection outside every window costs A_FP x sigma(y) with y its distance past the end of
 *   the previous window in window lengths (sigma is negative there, -1 beyond 3 lengths or when
 *   no window precedes it);
 * - the corpus score is normalised as 100 x (S - S_null) / (S_perfect - S_null), where the null
 *   detector finds nothing (S_null = -A_FN x windows) and the perfect one detects each window at
 *   its start (S_perfect = A_TP x windows).
 *
 * SKAB's changepoint leaderboard puts the window to the right of each changepoint: [cp, cp + 60 s].
 * When two windows overlap, a detection is credited to the earliest-starting window holding it.
 */
export interface NabProfile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

export const NAB_PROFILES: readonly NabProfile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'lowFP', tp: 1, fp: 0.22, fn: 1 },
  { name: 'lowFN', tp: 1, fp: 0.11, fn: 2 },
];

/** sigma(y) = 2 / (1 + e^(5y)) - 1, clamped to -1 far behind a window (y > 3). */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

export interface NabWindow {
  start: number;
  end: number;
}

export interface NabRaw {
  /** Sum of the weighted scores. */
  score: number;
  windows: number;
  detectedWindows: number;
  falsePositives: number;
}

/** Windows of length `widthMs` starting at each event time (sorted by start). */
export function rightWindows(eventTimes: number[], widthMs: number): NabWindow[] {
  return [...eventTimes].sort((a, b) => a - b).map((t) => ({ start: t, end: t + widthMs }));
}

/** Raw NAB score of one file: detection timestamps against its windows, under one profile. */
export function nabRaw(windows: NabWindow[], detections: number[], profile: NabProfile): NabRaw {
  const sorted = [...detections].sort((a, b) => a - b);
  const credited = new Set<number>();
  let score = 0;
  let falsePositives = 0;
  for (const t of sorted) {
    const w = windows.findIndex((win) => t >= win.start && t <= win.end);
    if (w >= 0) {
      if (credited.has(w)) continue;
      credited.add(w);
      const win = windows[w] as NabWindow;
      const width = win.end - win.start;
      // -1 at the window's start, 0 at its end.
      const y = width > 0 ? -(win.end - t) / width : -1;
      score += (profile.tp * scaledSigmoid(y)) / scaledSigmoid(-1);
      continue;
    }
    falsePositives++;
    let previous: NabWindow | undefined;
    for (const win of windows) if (win.end < t && (previous === undefined || win.end > previous.end)) previous = win;
    const y = previous === undefined ? Infinity : (t - previous.end) / Math.max(1, previous.end - previous.start);
    score += profile.fp * scaledSigmoid(y);
  }
  score -= profile.fn * (windows.length - credited.size);
  return { score, windows: windows.length, detectedWindows: credited.size, falsePositives };
}

/** Normalised corpus score, 0 for the null detector and 100 for the perfect one. */
export function nabNormalised(raws: NabRaw[], profile: NabProfile): number {
  const score = raws.reduce((a, r) => a + r.score, 0);
  const windows = raws.reduce((a, r) => a + r.windows, 0);
  if (windows === 0) return NaN;
  const nullScore = -profile.fn * windows;
  const perfect = profile.tp * windows;
  return (100 * (score - nullScore)) / (perfect - nullScore);
}
