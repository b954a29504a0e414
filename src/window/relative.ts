/**
 * Which features the model should see relative to each window (their shape) rather than
 * absolute (their level).
 *
 * Why: a slow, drift-dominated signal (a temperature, a thermocouple) wanders over a range that
 * a few hundred training rows cannot show. Its training standard deviation is tiny next to how
 * far its level moves in normal operation, so a model that judges its level flags every shift
 * of the operating point. Judged by its shape within the window, the same signal still shows
 * a fast change and stops raising alarms when the level settles somewhere new. Noisy, fast
 * features keep their level, which is where sustained faults (a flow that drops) show.
 *
 * `auto` picks the features whose lag-1 autocorrelation over the training rows exceeds a
 * limit: above 0.5, more of a reading's variance carries over to the next reading than not,
 * i.e. the slow part of the signal dominates its noise.
 */
export type RelativeChoice = 'none' | 'auto' | string[];

/** Lag-1 autocorrelation of one feature, pooled over several sequences (one per entity), around `mean`. */
export function lag1Autocorrelation(sequences: ArrayLike<number>[], mean: number): number {
  let num = 0;
  let den = 0;
  for (const seq of sequences) {
    for (let i = 0; i < seq.length; i++) {
      const d = (seq[i] as number) - mean;
      den += d * d;
      if (i > 0) num += d * ((seq[i - 1] as number) - mean);
    }
  }
  return den > 0 ? num / den : 0;
}

/**
 * The relative features for `choice`. `columns[j]` holds feature j's training values, one
 * array per entity in time order; `means[j]` its training mean.
 */
export function chooseRelativeFeatures(choice: RelativeChoice, features: string[], columns: ArrayLike<number>[][], means: ArrayLike<number>, limit: number): string[] {
  if (choice === 'none') return [];
  if (choice !== 'auto') {
    const unknown = choice.filter((name) => !features.includes(name));
    if (unknown.length > 0) throw new Error(`relative features not among the model's features: ${unknown.join(', ')}`);
    return features.filter((name) => choice.includes(name));
  }
  return features.filter((_, j) => lag1Autocorrelation(columns[j] ?? [], means[j] as number) > limit);
}

/**
 * Subtracts each listed feature's mean over the window, in place. `data` is one window,
 * row-major [lookback][features].
 */
export function centerWindow(data: Float32Array, lookback: number, features: number, indices: readonly number[]): void {
  for (const j of indices) {
    let sum = 0;
    for (let t = 0; t < lookback; t++) sum += data[t * features + j] as number;
    const mean = sum / lookback;
    for (let t = 0; t < lookback; t++) data[t * features + j] = (data[t * features + j] as number) - mean;
  }
}
