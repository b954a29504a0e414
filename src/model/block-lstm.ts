import * as tf from '@tensorflow/tfjs';
import { analyseLstmStack, blockLstmUnsupported, type LstmStack } from './lstm-stack.js';
import { NativeOps, type BlockLstmOutputs } from './native-ops.js';

/**
 * The autoencoder of an LstmStack as a handful of native ops: each LSTM layer is one
 * BlockLSTMV2 over all timesteps, the output Dense one matMul over [T*B, units]. Everything is
 * time-major ([T, B, d]), which is BlockLSTM's layout, so the input is transposed once and the
 * reconstruction is compared with the transposed input without transposing back.
 */

export interface LstmParams {
  kind: 'lstm';
  units: number;
  returnSequences: boolean;
  /** [in + units, 4 units]: kernel stacked on recurrent kernel, gate order i, f, c, o (tfjs = TF layout). */
  w: tf.Tensor2D;
  b: tf.Tensor1D;
  /** Zeros [units] for BlockLSTM's unused peephole inputs; never trained. */
  peephole: tf.Tensor1D;
}

export interface DenseParams {
  kind: 'dense';
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D | undefined;
}

export type StackParams = (LstmParams | DenseParams | { kind: 'repeat'; n: number })[];

/** Runs one LSTM layer: x [T, B, in] -> h [T, B, units]. Inference and training differ only here. */
export type LstmRunner = (x: tf.Tensor3D, p: LstmParams) => tf.Tensor3D;

/**
 * Copies the layers model's weights into stack parameters. `wrap` decides what they become:
 * kept constants for scoring, tf.Variables for training; `wrap` owns the fresh copy it is given
 * (return it, or dispose it). The caller owns (and disposes) the result.
 */
export function paramsFromModel(stack: LstmStack, wrap: (t: tf.Tensor) => tf.Tensor = (t) => t): StackParams {
  return stack.steps.map((step) => {
    if (step.kind === 'repeat') return { kind: 'repeat', n: step.n };
    const weights = step.layer.getWeights();
    if (step.kind === 'lstm') {
      const [kernel, recurrent, bias] = weights;
      if (kernel === undefined || recurrent === undefined || bias === undefined) throw new Error(`LSTM ${step.layer.name} has ${weights.length} weights, expected 3`);
      return {
        kind: 'lstm',
        units: step.units,
        returnSequences: step.returnSequences,
        w: wrap(tf.concat([kernel, recurrent], 0)) as tf.Tensor2D,
        b: wrap(bias.clone()) as tf.Tensor1D,
        peephole: tf.zeros([step.units]),
      };
    }
    const [kernel, bias] = weights;
    if (kernel === undefined) throw new Error(`Dense ${step.layer.name} has no kernel`);
    return { kind: 'dense', kernel: wrap(kernel.clone()) as tf.Tensor2D, bias: step.useBias && bias !== undefined ? (wrap(bias.clone()) as tf.Tensor1D) : undefined };
  });
}

/** Writes stack parameters back into the layers model (after native training). */
export function writeParamsToModel(stack: LstmStack, params: StackParams): void {
  stack.steps.forEach((step, index) => {
    const p = params[index];
    if (step.kind === 'lstm' && p?.kind === 'lstm') {
      tf.tidy(() => {
        const inDim = p.w.shape[0] - p.units;
        step.layer.setWeights([tf.slice(p.w, [0, 0], [inDim, -1]), tf.slice(p.w, [inDim, 0], [p.units, -1]), p.b]);
      });
    } else if (step.kind === 'dense' && p?.kind === 'dense') {
      step.layer.setWeights(p.bias === undefined ? [p.kernel] : [p.kernel, p.bias]);
    }
  });
}

export function disposeParams(params: StackParams): void {
  for (const p of params) {
    if (p.kind === 'lstm') tf.dispose([p.w, p.b, p.peephole]);
    else if (p.kind === 'dense') tf.dispose(p.bias === undefined ? [p.kernel] : [p.kernel, p.bias]);
  }
}

/** x [T, B, F] -> reconstruction [T, B, F]. Call inside tf.tidy. */
export function reconstructTimeMajor(params: StackParams, x: tf.Tensor3D, lstm: LstmRunner): tf.Tensor3D {
  const [T, B] = x.shape;
  let h: tf.Tensor3D = x;
  for (const p of params) {
    if (p.kind === 'lstm') {
      h = lstm(h, p);
      // Without return_sequences Keras keeps the last step; kept as [1, B, u] for RepeatVector.
      if (!p.returnSequences) h = tf.slice(h, [T - 1, 0, 0], [1, B, p.units]);
    } else if (p.kind === 'repeat') {
      h = tf.tile(h, [p.n, 1, 1]);
    } else {
      const [steps, batch, units] = h.shape;
      const flat = tf.matMul(tf.reshape(h, [steps * batch, units]), p.kernel);
      h = tf.reshape(p.bias === undefined ? flat : tf.add(flat, p.bias), [steps, batch, p.kernel.shape[1]]);
    }
  }
  return h;
}

/** The scoring runner: one BlockLSTMV2, only h kept (tidy frees the other six outputs). */
export function inferenceRunner(ops: NativeOps, seqLen: number): LstmRunner {
  return (x, p) => {
    const zeros = tf.zeros([x.shape[1], p.units]) as tf.Tensor2D;
    return ops.blockLstm(seqLen, { x, cs0: zeros, h0: zeros, w: p.w, b: p.b, peephole: p.peephole }).h;
  };
}

/**
 * The training runner: BlockLSTMV2 forward with BlockLSTMGradV2 as its gradient, registered
 * through tf.customGrad so tfjs's optimizers see an ordinary differentiable op of x, w and b.
 * The forward outputs the gradient needs are saved by the engine and freed after backprop.
 */
export function trainingRunner(ops: NativeOps, seqLen: number): LstmRunner {
  return (x, p) => {
    const layer = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xIn, w, b, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
      const zeros = tf.zeros([xIn.shape[1], p.units]) as tf.Tensor2D;
      const out = ops.blockLstm(seqLen, { x: xIn, cs0: zeros, h0: zeros, w, b, peephole: p.peephole });
      save([xIn, w, b, out.i, out.cs, out.f, out.o, out.ci, out.co, out.h]);
      return {
        value: out.h,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [sx, sw, sb, i, cs, f, o, ci, co, h] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, ...tf.Tensor3D[]];
          const fwd = { i, cs, f, o, ci, co, h } as BlockLstmOutputs;
          const dh = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor3D;
          const z = tf.zeros([sx.shape[1], p.units]) as tf.Tensor2D;
          // The loss reaches the layer only through h, so the gradient at the cs output is zero.
          const g = ops.blockLstmGrad(seqLen, { x: sx, cs0: z, h0: z, w: sw, b: sb, peephole: p.peephole }, fwd, tf.zerosLike(dh), dh);
          return [g.dx, g.dw, g.db];
        },
      };
    });
    return layer(x, p.w, p.b) as tf.Tensor3D;
  };
}

/** The native ops and the analysed stack when `model` can run as BlockLSTMV2 layers here; otherwise why not. */
export function blockLstmTarget(model: tf.LayersModel): { ops: NativeOps; stack: LstmStack } | string {
  const ops = NativeOps.forActiveBackend();
  if (typeof ops === 'string') return ops;
  const analysis = analyseLstmStack(model);
  if (!analysis.ok) return analysis.reason;
  return blockLstmUnsupported(analysis.stack) ?? { ops, stack: analysis.stack };
}
