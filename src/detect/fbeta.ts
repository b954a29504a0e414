/**
 * The threshold that maximises F-beta on labelled scores (beta > 1 favours recall, < 1
 * precision). Only for data with labels (a validation split); it is tuned to those labels, so
 * it must be judged on other data.
 */
export interface FbetaThreshold {
  /** Predict positive when score > value. */
  value: number;
  fbeta: number;
  precision: number;
  recall: number;
}

export function fbetaThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, beta = 1): FbetaThreshold {
  if (scores.length !== labels.length) throw new Error(`fbetaThreshold: ${scores.length} scores for ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i).filter((i) => Number.isFinite(scores[i] as number));
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const positives = order.reduce((n, i) => n + ((labels[i] as number) > 0 ? 1 : 0), 0);
  const b2 = beta * beta;
  let best: FbetaThreshold = { value: Infinity, fbeta: 0, precision: 0, recall: 0 };
  let tp = 0;
  let predicted = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    tp += (labels[i] as number) > 0 ? 1 : 0;
    predicted++;
    const s = scores[i] as number;
    const next = k + 1 < order.length ? (scores[order[k + 1] as number] as number) : undefined;
    // Ties must fall on the same side of the cut: only cut between distinct scores.
    if (next !== undefined && next === s) continue;
    const precision = tp / predicted;
    const recall = positives > 0 ? tp / positives : 0;
    const f = precision + recall > 0 ? ((1 + b2) * precision * recall) / (b2 * precision + recall) : 0;
    if (f > best.fbeta) best = { value: next === undefined ? s - Math.abs(s) * 1e-9 - 1e-12 : (s + next) / 2, fbeta: f, precision, recall };
  }
  return best;
}
