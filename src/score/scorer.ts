import * as tf from '@tensorflow/tfjs';
import type { Window, WindowScore } from '../pipeline/types.js';
import { BlockLstmForward } from './native-lstm.js';

/**
 * How a Scorer runs the model. `block-lstm`: tfjs-node only, each LSTM layer is one
 * TensorFlow BlockLSTMV2 op (models with sigmoid gates and tanh cells). `layers`:
 * tfjs-layers' model.predict, on any backend and for any model.
 */
export type ScorerPath = 'block-lstm' | 'layers';

export interface ScorerOptions {
  /** `auto` (default) takes block-lstm when it can run this model, `layers` forces model.predict. */
  path?: 'auto' | 'layers';
}

/**
 * Batched reconstruction scoring. One Float32Array per batch (reused), one tensor upload, one
 * download of the [batch, features] per-feature errors; the window score is their mean, which
 * equals the MSE over the whole window. All tensor work runs in tf.tidy, so the number of live
 * tensors after any number of batches equals the number before.
 */
export class Scorer {
  private readonly buffer: Float32Array;
  private readonly windowSize: number;
  private readonly native: BlockLstmForward | undefined;
  /** Which path scores; worth logging and exporting, it changes throughput several-fold. */
  readonly path: ScorerPath;
  /** Why the block-lstm path is not used (undefined when it is). */
  readonly pathReason: string | undefined;

  /**
   * On the block-lstm path the model's weights are copied once, here: build a new Scorer after
   * changing them, and call dispose() when done with this one to free the copies.
   */
  constructor(
    private readonly model: tf.LayersModel,
    readonly lookback: number,
    readonly features: number,
    readonly maxBatch: number,
    options: ScorerOptions = {},
  ) {
    this.windowSize = lookback * features;
    this.buffer = new Float32Array(maxBatch * this.windowSize);
    const native = options.path === 'layers' ? 'layers path requested' : BlockLstmForward.create(model, lookback, features);
    if (typeof native === 'string') {
      this.native = undefined;
      this.path = 'layers';
      this.pathReason = native;
    } else {
      this.native = native;
      this.path = 'block-lstm';
      this.pathReason = undefined;
    }
  }

  /** Tensors this Scorer keeps alive between calls (the block-lstm weight copies); 0 on the layers path. */
  get keptTensors(): number {
    return this.native?.keptTensors ?? 0;
  }

  /** Frees the block-lstm weight copies; the Scorer must not be used afterwards. A no-op on the layers path. */
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
      const errors = this.scoreRaw(this.buffer, chunk.length);
      chunk.forEach((w, i) => {
        const featureErrors = errors.subarray(i * this.features, (i + 1) * this.features);
        out.push({ entity: w.entity, startTs: w.startTs, endTs: w.endTs, score: mean(featureErrors), featureErrors });
      });
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

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
