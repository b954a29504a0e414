import type { FeatureContribution, Flag, Window } from '../domain/types.js';

/** What explaining needs of the scaler the window was built with (src/window/scaler.ts). */
export interface UnitScale {
  readonly features: string[];
  readonly offset: ArrayLike<number>;
  readonly scale: ArrayLike<number>;
  /** Features centred on the window's mean before the model saw them (relative.ts). */
  readonly relativeIndices: readonly number[];
}

/**
 * Adds to a flag's top features what on-call reads first: the value observed and the value the
 * model expected ("flow 12.1, expected 9.8"), unscaled back to the sensor's units, at the reading
 * where that feature's reconstruction error in the window is largest, and which reading that is
 * (`readingsBeforeEnd`, 0 = the last). Not always the last reading: an alert opens on the k-th
 * window over the threshold, by which time a one-reading spike lies k - 1 readings back, and the
 * last reading of the feature at fault may be a normal one. `reconstruction` is the model's
 * output for the whole window, on the model's scale (Scorer.reconstruct). A relative feature
 * reached the model as its difference from the window's mean, which the window does not keep:
 * its values stay differences from that mean (in sensor units, marked `relative`), rather than an
 * absolute value made up around a guess.
 */
export function explainFlag(flag: Flag, window: Window, reconstruction: ArrayLike<number>, scaler: UnitScale): Flag {
  const F = scaler.features.length;
  const T = Math.floor(window.data.length / F);
  const relative = new Set(scaler.relativeIndices);
  const topFeatures = flag.topFeatures.map((c): FeatureContribution => {
    const j = scaler.features.indexOf(c.name);
    if (j < 0) return c;
    const t = worstTimestep(window.data, reconstruction, T, F, j);
    if (t < 0) return c;
    const scale = scaler.scale[j] as number;
    const shift = relative.has(j) ? 0 : (scaler.offset[j] as number);
    const observed = (window.data[t * F + j] as number) * scale + shift;
    const expected = (reconstruction[t * F + j] as number) * scale + shift;
    if (!Number.isFinite(observed) || !Number.isFinite(expected)) return c;
    return { ...c, observed: significant(observed), expected: significant(expected), readingsBeforeEnd: T - 1 - t, ...(relative.has(j) ? { relative: true as const } : {}) };
  });
  return { ...flag, topFeatures };
}

/** The timestep where feature j's squared error is largest (the latest of equals), or -1 if every one is NaN. */
function worstTimestep(data: ArrayLike<number>, reconstruction: ArrayLike<number>, T: number, F: number, j: number): number {
  let best = -1;
  let bestError = -1;
  for (let t = 0; t < T; t++) {
    const d = (data[t * F + j] as number) - (reconstruction[t * F + j] as number);
    const e = d * d;
    // NaN says nothing; an infinite error is the largest there is.
    if (!Number.isNaN(e) && e >= bestError) {
      best = t;
      bestError = e;
    }
  }
  return best;
}

/** Six significant digits: sensor values are rarely more precise, and flags stay short. */
function significant(x: number): number {
  return Number(x.toPrecision(6));
}
