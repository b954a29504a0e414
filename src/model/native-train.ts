import * as tf from '@tensorflow/tfjs';
import { blockLstmTarget, disposeParams, inferenceRunner, paramsFromModel, reconstructTimeMajor, trainingRunner, writeParamsToModel, type StackParams } from './block-lstm.js';
import type { LstmStack } from './lstm-stack.js';
import type { NativeOps } from './native-ops.js';

/**
 * Native training state for a model the block-lstm path can run: the model's weights as
 * tf.Variables in BlockLSTM layout, a differentiable MSE whose LSTM gradients come from
 * TensorFlow's BlockLSTMGradV2, and a way to write the weights back into the layers model (so
 * the artifact stays an ordinary tfjs LayersModel that wasm/cpu can load).
 */
export class NativeTrainer {
  private disposed = false;

  private constructor(
    private readonly ops: NativeOps,
    private readonly stack: LstmStack,
    private readonly seqLen: number,
    readonly params: StackParams,
  ) {}

  /** A trainer for this model, or why it cannot train natively. */
  static create(model: tf.LayersModel): NativeTrainer | string {
    const target = blockLstmTarget(model);
    if (typeof target === 'string') return target;
    const { ops, stack } = target;
    const toVariable = (t: tf.Tensor): tf.Tensor => {
      const v = tf.variable(t, true);
      t.dispose();
      return v;
    };
    return new NativeTrainer(ops, stack, ops.int64Scalar(stack.lookback), paramsFromModel(stack, toVariable));
  }

  /** The trainable variables, in a fixed order. */
  get variables(): tf.Variable[] {
    return this.params.flatMap((p) => (p.kind === 'lstm' ? [p.w, p.b] : p.kind === 'dense' ? (p.bias === undefined ? [p.kernel] : [p.kernel, p.bias]) : [])) as tf.Variable[];
  }

  /** Reconstruction MSE of time-major windows [T, B, F]; differentiable w.r.t. the variables. */
  loss(xTimeMajor: tf.Tensor3D): tf.Scalar {
    return tf.losses.meanSquaredError(xTimeMajor, reconstructTimeMajor(this.params, xTimeMajor, trainingRunner(this.ops, this.seqLen))) as tf.Scalar;
  }

  /** The same MSE without gradient bookkeeping (validation). */
  evaluate(xTimeMajor: tf.Tensor3D): tf.Scalar {
    return tf.tidy(() => tf.losses.meanSquaredError(xTimeMajor, reconstructTimeMajor(this.params, xTimeMajor, inferenceRunner(this.ops, this.seqLen))) as tf.Scalar);
  }

  /** Copies the current variables into the layers model. */
  writeBack(): void {
    writeParamsToModel(this.stack, this.params);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeParams(this.params);
    this.ops.releaseInt64(this.seqLen);
  }
}
