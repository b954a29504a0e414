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
 * Adds to a flag's top features what on-call reads first: the value observed at the window's
 * last timestep and the value the model expected there ("flow 12.1, expected 9.8"), unscaled back
 * to the sensor's units. `reconstruction` is the model's output for that timestep, on the
 * model's scale (Scorer.reconstruct). A relative feature reached the model as its difference from
 * the window's mean, which the window does not keep: its values stay differences from that mean
 * (in sensor units, marked `relative`), rather than an absolute value made up around a guess.
 */
export function explainFlag(flag: Flag, window: Window, reconstruction: ArrayLike<number>, scaler: UnitScale): Flag {
  const F = scaler.features.length;
  const last = window.data.length - F;
  const relative = new Set(scaler.relativeIndices);
  const topFeatures = flag.topFeatures.map((c): FeatureContribution => {
    const j = scaler.features.indexOf(c.name);
    if (j < 0) return c;
    const scale = scaler.scale[j] as number;
    const shift = relative.has(j) ? 0 : (scaler.offset[j] as number);
    const observed = (window.data[last + j] as number) * scale + shift;
    const expected = (reconstruction[j] as number) * scale + shift;
    if (!Number.isFinite(observed) || !Number.isFinite(expected)) return c;
    return { ...c, observed: significant(observed), expected: significant(expected), ...(relative.has(j) ? { relative: true as const } : {}) };
  });
  return { ...flag, topFeatures };
}

/** Six significant digits: sensor values are rarely more precise, and flags stay short. */
function significant(x: number): number {
  return Number(x.toPrecision(6));
}
