/**
 * Threshold-free quality of a score against binary labels: how well the score ranks positives
 * above negatives. NaN scores (rows without a window) must be removed by the caller.
 */

/** ROC AUC as the Mann-Whitney statistic: P(score of a positive > score of a negative), ties count half. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    // Tied scores share the mean of their 1-based ranks.
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if ((labels[idx[k] as number] as number) > 0) {
        pos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

interface Cut {
  tp: number;
  fp: number;
}

/** Cumulative counts at each distinct score, from the highest down (predict positive when score >= it). */
function cuts(scores: ArrayLike<number>, labels: ArrayLike<number>): { cuts: Cut[]; pos: number; neg: number } {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const out: Cut[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if ((labels[idx[k] as number] as number) > 0) tp++;
    else fp++;
    const next = idx[k + 1];
    if (next === undefined || scores[next] !== scores[idx[k] as number]) out.push({ tp, fp });
  }
  return { cuts: out, pos: tp, neg: fp };
}

/** PR AUC as average precision: sum over cuts of (recall gained) x precision there. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { cuts: cs, pos } = cuts(scores, labels);
  if (pos === 0) return NaN;
  let ap = 0;
  let lastRecall = 0;
  for (const c of cs) {
    const recall = c.tp / pos;
    ap += (recall - lastRecall) * (c.tp / (c.tp + c.fp));
    lastRecall = recall;
  }
  return ap;
}

/** The best recall any threshold reaches while its false positive rate stays <= maxFpr. */
export function recallAtFpr(scores: ArrayLike<number>, labels: ArrayLike<number>, maxFpr: number): number {
  const { cuts: cs, pos, neg } = cuts(scores, labels);
  if (pos === 0 || neg === 0) return NaN;
  let best = 0;
  for (const c of cs) if (c.fp / neg <= maxFpr) best = Math.max(best, c.tp / pos);
  return best;
}
