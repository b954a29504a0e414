/**
 * Per-feature affine scaling, fitted on training rows only and stored in the artifact so the
 * daemon scales exactly as training did. scaled = (x - offset) / scale.
 */
import type { SeasonalSpec } from './seasonal.js';

export type ScalerKind = 'standard' | 'minmax';

export interface ScalerState {
  kind: ScalerKind;
  features: string[];
  offset: number[];
  scale: number[];
  /**
   * Features the model sees relative to each window (the window's mean subtracted after
   * scaling; see relative.ts). Absent in artifacts from before this existed: none.
   */
  relative?: string[];
  /**
   * Seasonal differences (seasonal.ts): the last `seasonal.of.length` entries of `features` are
   * derived columns the windower computes, not keys of a reading. Absent: none.
   */
  seasonal?: SeasonalSpec;
}

export class Scaler {
  readonly offset: Float64Array;
  readonly scale: Float64Array;
  /** Indices of `state.relative` in feature order. */
  readonly relativeIndices: readonly number[];

  constructor(readonly state: ScalerState) {
    this.offset = Float64Array.from(state.offset);
    this.scale = Float64Array.from(state.scale);
    this.relativeIndices = (state.relative ?? []).map((name) => {
      const j = state.features.indexOf(name);
      if (j < 0) throw new Error(`scaler: relative feature "${name}" is not one of its features`);
      return j;
    });
  }

  /** The same scaling with a different set of relative features. */
  withRelative(relative: string[]): Scaler {
    return new Scaler({ ...this.state, relative: [...relative] });
  }

  /** The model's columns: the input features, then any derived seasonal columns. */
  get features(): string[] {
    return this.state.features;
  }

  /** The features a reading carries (the model's columns without the derived ones). */
  get inputFeatures(): string[] {
    return this.state.features.slice(0, this.state.features.length - (this.state.seasonal?.of.length ?? 0));
  }

  /** The same scaling with seasonal columns appended (their offset and scale given). */
  withSeasonal(spec: SeasonalSpec, names: string[], offset: number[], scale: number[]): Scaler {
    return new Scaler({ ...this.state, features: [...this.state.features, ...names], offset: [...this.state.offset, ...offset], scale: [...this.state.scale, ...scale], seasonal: spec });
  }

  /** Fits on rows (feature order = `features`). Constant features get scale 1, not a division by 0. */
  static fit(kind: ScalerKind, features: string[], rows: ArrayLike<number>[]): Scaler {
    const f = features.length;
    if (rows.length === 0) throw new Error('cannot fit a scaler on zero rows');
    const offset: number[] = new Array<number>(f).fill(0);
    const scale: number[] = new Array<number>(f).fill(1);
    for (let j = 0; j < f; j++) {
      // Two passes around a shift (the first value): the one-pass E[x^2] - mean^2 cancels away a
      // small spread on a large level (a meter at 2e8 varying by 0.05 came out constant, scale
      // 1, and its faults invisible), since mean^2 then carries more rounding than the variance.
      const shift = rows[0]?.[j] as number;
      let sum = 0, min = Infinity, max = -Infinity;
      for (const row of rows) {
        const v = row[j] as number;
        sum += v - shift;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (kind === 'standard') {
        const mean = shift + sum / rows.length;
        let squares = 0;
        for (const row of rows) squares += ((row[j] as number) - mean) ** 2;
        const std = Math.sqrt(squares / rows.length);
        offset[j] = mean;
        scale[j] = std > 1e-12 ? std : 1;
      } else {
        offset[j] = min;
        scale[j] = max - min > 1e-12 ? max - min : 1;
      }
    }
    return new Scaler({ kind, features: [...features], offset, scale });
  }

  /** Scales one row into `out` at `at` (no allocation on the hot path). */
  transformInto(row: ArrayLike<number>, out: Float32Array, at: number): void {
    for (let j = 0; j < this.offset.length; j++) out[at + j] = ((row[j] as number) - (this.offset[j] as number)) / (this.scale[j] as number);
  }

  inverse(value: number, featureIndex: number): number {
    return value * (this.scale[featureIndex] as number) + (this.offset[featureIndex] as number);
  }
}
