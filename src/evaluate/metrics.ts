/**
 * Point-wise detection metrics, as the SKAB outlier leaderboard counts them: every labelled row
 * is one sample, and rows of all files are pooled before the ratios are taken (so a long file
 * weighs more than a short one).
 */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface PointMetrics extends Confusion {
  precision: number;
  recall: number;
  f1: number;
  /** False alarm rate: FP / actual negatives. */
  far: number;
  /** Missing alarm rate: FN / actual positives. */
  mar: number;
}

export function confusion(predicted: ArrayLike<number>, actual: ArrayLike<number>): Confusion {
  if (predicted.length !== actual.length) throw new Error(`confusion: ${predicted.length} predictions for ${actual.length} labels`);
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < actual.length; i++) {
    const p = (predicted[i] as number) > 0;
    const a = (actual[i] as number) > 0;
    if (p && a) c.tp++;
    else if (p) c.fp++;
    else if (a) c.fn++;
    else c.tn++;
  }
  return c;
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

/** Ratios with an empty denominator are 0 (nothing to find, nothing found), never NaN. */
export function pointMetrics(c: Confusion): PointMetrics {
  const ratio = (n: number, d: number) => (d > 0 ? n / d : 0);
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  return {
    ...c,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    far: ratio(c.fp, c.fp + c.tn),
    mar: ratio(c.fn, c.fn + c.tp),
  };
}

export interface MeanStd {
  mean: number;
  std: number;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function meanStd(values: number[]): MeanStd {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { mean: NaN, std: NaN };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance = finite.length > 1 ? finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (finite.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}
