import * as tf from '@tensorflow/tfjs';
import { blockLstmTarget, disposeParams, inferenceRunner, paramsFromModel, reconstructTimeMajor, type LstmRunner, type StackParams } from '../model/block-lstm.js';
import type { NativeOps } from '../model/native-ops.js';

/**
 * The Scorer's fast path on tfjs-node: the model's weights are copied to native tensors once,
 * and a batch is ~16 TensorFlow ops (one BlockLSTMV2 per LSTM layer) instead of the ~1,250
 * small ops tfjs-layers issues when it steps the LSTMs one timestep at a time. The weights are
 * a snapshot: a model trained further after this is built is not seen (build a new Scorer).
 */
export class BlockLstmForward {
  private disposed = false;

  private constructor(
    private readonly ops: NativeOps,
    private readonly seqLen: number,
    private readonly params: StackParams,
    private readonly runner: LstmRunner,
    private readonly lookback: number,
    private readonly features: number,
  ) {}

  /** The forward for this model, or the reason it cannot run natively. */
  static create(model: tf.LayersModel, lookback: number, features: number): BlockLstmForward | string {
    const target = blockLstmTarget(model);
    if (typeof target === 'string') return target;
    const { ops, stack } = target;
    if (stack.lookback !== lookback || stack.features !== features) {
      return `model input [${stack.lookback}, ${stack.features}] differs from the scorer's [${lookback}, ${features}]`;
    }
    const seqLen = ops.int64Scalar(lookback);
    return new BlockLstmForward(ops, seqLen, paramsFromModel(stack), inferenceRunner(ops, seqLen), lookback, features);
  }

  /** Per-feature squared reconstruction error [count][features] of row-major [count][T][F] windows. */
  featureErrors(data: Float32Array, count: number): Float32Array {
    if (this.disposed) throw new Error('BlockLstmForward used after dispose()');
    return tf.tidy(() => {
      const x = tf.tensor3d(data.subarray(0, count * this.lookback * this.features), [count, this.lookback, this.features]);
      const timeMajor = tf.transpose(x, [1, 0, 2]);
      const reconstruction = reconstructTimeMajor(this.params, timeMajor, this.runner);
      return tf.mean(tf.squaredDifference(reconstruction, timeMajor), 0).dataSync() as Float32Array;
    });
  }

  /** The tensors this forward keeps alive (its weight copies), for leak accounting. */
  get keptTensors(): number {
    return this.params.reduce((n, p) => n + (p.kind === 'lstm' ? 3 : p.kind === 'dense' ? (p.bias === undefined ? 1 : 2) : 0), 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeParams(this.params);
    this.ops.releaseInt64(this.seqLen);
  }
}
