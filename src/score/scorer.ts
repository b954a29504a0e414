import * as tf from '@tensorflow/tfjs';
import type { Window, WindowScore } from '../pipeline/types.js';

/**
 * Batched reconstruction scoring. One Float32Array per batch (reused), one tensor upload, one
 * download of the [batch, features] per-feature errors; the window score is their mean, which
 * equals the MSE over the whole window. All tensor work runs in tf.tidy, so the number of live
 * tensors after any number of batches equals the number before.
 */
export class Scorer {
  private readonly buffer: Float32Array;
  private readonly windowSize: number;

  constructor(
    private readonly model: tf.LayersModel,
    readonly lookback: number,
    readonly features: number,
    readonly maxBatch: number,
  ) {
    this.windowSize = lookback * features;
    this.buffer = new Float32Array(maxBatch * this.windowSize);
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
