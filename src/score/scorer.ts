import * as tf from '@tensorflow/tfjs';
import type { Window, WindowScore } from '../domain/types.js';
import { SeismoError } from '../errors.js';
import { FusedLstmForward } from './fused-lstm.js';
import { BlockLstmForward } from './native-lstm.js';

/**
 * How a Scorer runs the model, fastest first. `block-lstm`: tfjs-node, each LSTM layer is one
 * TensorFlow BlockLSTMV2 op (sigmoid gates, tanh cells: new models). `fused`: tfjs-node, the
 * other plain LSTM stacks (hardSigmoid artifacts, relu), a hand-fused timestep loop with ~2.5x
 * fewer ops than tfjs-layers. `layers`: tfjs-layers' model.predict, any backend, any model.
 */
export type ScorerPath = 'block-lstm' | 'fused' | 'layers';

export interface ScorerOptions {
  /** `auto` (default) takes the fastest path that can run this model; the others force one (or fall back to layers). */
  path?: 'auto' | ScorerPath;
}

interface FastForward {
  featureErrors(data: Float32Array, count: number): Float32Array;
  readonly keptTensors: number;
  dispose(): void;
}

/**
 * Batched reconstruction scoring. One Float32Array per batch (reused), one tensor upload, one
 * download of the [batch, features] per-feature errors; the window score is their mean, which
 * equals the MSE over the whole window. All tensor work runs in tf.tidy, so the number of live
 * tensors after any number of batches equals the number before.
 */
/** The largest batch buffer a scorer allocates (its input copy in TensorFlow doubles it). */
export const MAX_BATCH_BYTES = 512 * 2 ** 20;

export class Scorer {
  private readonly buffer: Float32Array;
  private readonly windowSize: number;
  private readonly native: FastForward | undefined;
  /** Which path scores; worth logging and exporting, it changes throughput several-fold. */
  readonly path: ScorerPath;
  /** Why a faster path is not used (undefined on block-lstm). */
  readonly pathReason: string | undefined;

  /**
   * On the block-lstm and fused paths the model's weights are copied once, here: build a new
   * Scorer after changing them, and call dispose() when done with this one to free the copies.
   */
  constructor(
    private readonly model: tf.LayersModel,
    readonly lookback: number,
    readonly features: number,
    readonly maxBatch: number,
    options: ScorerOptions = {},
  ) {
    this.windowSize = lookback * features;
    const bytes = maxBatch * this.windowSize * 4;
    // The batch buffer is allocated once, up front (TensorFlow copies it again per call): a
    // config at its limits (maxBatch 65536, lookback 1000) with many features asks for tens of
    // GiB and would die at startup with an allocation error instead of a reason.
    if (bytes > MAX_BATCH_BYTES) throw new SeismoError('SEISMO_CONFIG_INVALID', `scoring.maxBatch ${maxBatch} x window.lookback ${lookback} x ${features} features is a ${(bytes / 2 ** 20).toFixed(0)} MiB batch, more than ${MAX_BATCH_BYTES / 2 ** 20} MiB: lower scoring.maxBatch`);
    this.buffer = new Float32Array(maxBatch * this.windowSize);
    const want = options.path ?? 'auto';
    const reasons: string[] = [];
    let chosen: [ScorerPath, FastForward] | undefined;
    if (want === 'auto' || want === 'block-lstm') {
      const block = BlockLstmForward.create(model, lookback, features);
      if (typeof block === 'string') reasons.push(`block-lstm: ${block}`);
      else chosen = ['block-lstm', block];
    }
    if (chosen === undefined && (want === 'auto' || want === 'fused')) {
      // Plain tfjs ops, so it would run anywhere; only enabled where it is measured to pay off.
      const fused = tf.getBackend() !== 'tensorflow' ? `backend is ${tf.getBackend()}, not tensorflow` : FusedLstmForward.create(model, lookback, features);
      if (typeof fused === 'string') reasons.push(`fused: ${fused}`);
      else chosen = ['fused', fused];
    }
    if (want === 'layers') reasons.push('layers path requested');
    this.native = chosen?.[1];
    this.path = chosen?.[0] ?? 'layers';
    this.pathReason = reasons.length > 0 ? reasons.join('; ') : undefined;
  }

  /** Tensors this Scorer keeps alive between calls (its weight copies); 0 on the layers path. */
  get keptTensors(): number {
    return this.native?.keptTensors ?? 0;
  }

  /** Frees the weight copies; the Scorer must not be used afterwards. A no-op on the layers path. */
  dispose(): void {
    this.native?.dispose();
  }

  /** One prediction so the first real batch does not pay for kernel set-up. */
  warmUp(): void {
    this.scoreRaw(new Float32Array(this.windowSize), 1);
  }

  score(windows: Window[]): WindowScore[] {
    const out: WindowScore[] = [];
    for (let from = 0; from < windows.length; from += this.maxBatch) {
      const chunk = windows.slice(from, from + this.maxBatch);
      chunk.forEach((w, i) => this.buffer.set(w.data, i * this.windowSize));
      out.push(...windowScores(chunk, this.scoreRaw(this.buffer, chunk.length), this.features));
    }
    return out;
  }

  /** Per-feature errors [count][features] of `count` windows laid out in `data`, in model calls of at most maxBatch (the scoring worker's call). */
  featureErrors(data: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count * this.features);
    for (let from = 0; from < count; from += this.maxBatch) {
      const n = Math.min(this.maxBatch, count - from);
      out.set(this.scoreRaw(data.subarray(from * this.windowSize, (from + n) * this.windowSize), n), from * this.features);
    }
    return out;
  }

  /** Scores `count` windows laid out in `data`; returns per-feature errors [count][features]. */
  scoreRaw(data: Float32Array, count: number): Float32Array {
    if (this.native !== undefined) return this.native.featureErrors(data, count);
    return tf.tidy(() => {
      const x = tf.tensor3d(data.subarray(0, count * this.windowSize), [count, this.lookback, this.features]);
      const reconstruction = this.model.predict(x, { batchSize: count }) as tf.Tensor;
      return tf.mean(tf.squaredDifference(reconstruction, x), 1).dataSync() as Float32Array;
    });
  }

  /**
   * The model's reconstruction of each whole window, [windows][lookback][features], on the
   * model's (scaled) scale. For explaining flags, which are rare: it runs model.predict on any
   * path and never touches the scoring buffer, so it costs nothing where windows are only scored.
   */
  reconstruct(windows: Window[]): Float32Array {
    const out = new Float32Array(windows.length * this.windowSize);
    for (let from = 0; from < windows.length; from += this.maxBatch) {
      const chunk = windows.slice(from, from + this.maxBatch);
      const data = new Float32Array(chunk.length * this.windowSize);
      chunk.forEach((w, i) => data.set(w.data, i * this.windowSize));
      const whole = tf.tidy(() => {
        const x = tf.tensor3d(data, [chunk.length, this.lookback, this.features]);
        return (this.model.predict(x, { batchSize: chunk.length }) as tf.Tensor3D).dataSync() as Float32Array;
      });
      out.set(whole, from * this.windowSize);
    }
    return out;
  }

  /** Scores a whole array of windows (training/calibration sets), chunk by chunk. */
  scoreAll(data: Float32Array, count: number): Float32Array {
    const scores = new Float32Array(count);
    for (let from = 0; from < count; from += this.maxBatch) {
      const n = Math.min(this.maxBatch, count - from);
      const errors = this.scoreRaw(data.subarray(from * this.windowSize, (from + n) * this.windowSize), n);
      for (let i = 0; i < n; i++) scores[from + i] = mean(errors.subarray(i * this.features, (i + 1) * this.features));
    }
    return scores;
  }
}

/**
 * Window scores from per-feature errors [windows][features]: the score is their mean (the MSE
 * over the whole window). Shared by the in-thread Scorer and the scoring worker's client, so
 * both turn the same errors into the same scores.
 */
export function windowScores(windows: Window[], errors: Float32Array, features: number): WindowScore[] {
  return windows.map((w, i) => {
    const featureErrors = errors.subarray(i * features, (i + 1) * features);
    return { entity: w.entity, startTs: w.startTs, endTs: w.endTs, score: mean(featureErrors), featureErrors, ...(w.run !== undefined ? { run: w.run } : {}) };
  });
}

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
