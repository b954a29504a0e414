import * as tf from '@tensorflow/tfjs';
import { disposeParams, paramsFromModel, reconstructTimeMajor, type LstmParams, type StackParams } from '../model/block-lstm.js';
import { analyseLstmStack, type LstmActivation, type LstmGates } from '../model/lstm-stack.js';

/** One LSTM layer prepared for the fused step: gate columns reordered i, f, o | c. */
interface FusedLayer {
  units: number;
  activation: LstmActivation;
  gates: LstmGates;
  kernel: tf.Tensor2D;
  recurrent: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/**
 * The Scorer's path on tfjs-node for models BlockLSTMV2 cannot compute: artifacts with
 * hardSigmoid gates (everything trained before sigmoid became the default) and relu stacks.
 * Still one op per timestep and gate group, but about 12 per step where tfjs-layers issues ~31:
 *  - the input projection of all timesteps is one matMul over [T*B, in];
 *  - gate columns are reordered to i, f, o | c so one slice and one activation cover the three
 *    sigmoid gates;
 *  - for hardSigmoid, the i/f/o columns and bias are pre-scaled (0.2 z + 0.5 folded into the
 *    weights), so each step's gate activation is max(., 0) then min(., 1) against kept scalars,
 *    where tfjs-layers spends mul + add + min + max and uploads 4 new scalars per gate;
 *  - at step 0 (h = c = 0) the recurrent matMul and the forget term are skipped.
 */
export class FusedLstmForward {
  private disposed = false;
  private readonly zero = tf.scalar(0);
  private readonly one = tf.scalar(1);

  private constructor(
    private readonly params: StackParams,
    private readonly layers: Map<LstmParams, FusedLayer>,
    private readonly lookback: number,
    private readonly features: number,
  ) {}

  /** The fused forward for this model, or the reason it cannot run it. */
  static create(model: tf.LayersModel, lookback: number, features: number): FusedLstmForward | string {
    const analysis = analyseLstmStack(model);
    if (!analysis.ok) return analysis.reason;
    if (analysis.stack.lookback !== lookback || analysis.stack.features !== features) {
      return `model input [${analysis.stack.lookback}, ${analysis.stack.features}] differs from the scorer's [${lookback}, ${features}]`;
    }
    // Only the Dense (and the step structure) is used from the shared parameters; the LSTM
    // weights are rebuilt below in fused layout and the BlockLSTM copies freed right away.
    const params = paramsFromModel(analysis.stack);
    const layers = new Map<LstmParams, FusedLayer>();
    analysis.stack.steps.forEach((step, index) => {
      const p = params[index];
      if (step.kind !== 'lstm' || p?.kind !== 'lstm') return;
      const [kernel, recurrent, bias] = step.layer.getWeights() as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const hard = step.gates === 'hardSigmoid';
      const reorder = <R extends tf.Tensor>(w: R, isBias: boolean): R =>
        tf.tidy(() => {
          const [i, f, c, o] = tf.split(w, 4, -1) as [R, R, R, R];
          let gates: tf.Tensor = tf.concat([i, f, o], -1);
          if (hard) gates = isBias ? tf.add(tf.mul(gates, 0.2), 0.5) : tf.mul(gates, 0.2);
          return tf.concat([gates, c], -1) as R;
        });
      layers.set(p, { units: step.units, activation: step.activation, gates: step.gates, kernel: reorder(kernel, false), recurrent: reorder(recurrent, false), bias: reorder(bias, true) });
      tf.dispose([p.w, p.b, p.peephole]);
    });
    return new FusedLstmForward(params, layers, lookback, features);
  }

  featureErrors(data: Float32Array, count: number): Float32Array {
    if (this.disposed) throw new Error('FusedLstmForward used after dispose()');
    return tf.tidy(() => {
      const x = tf.tensor3d(data.subarray(0, count * this.lookback * this.features), [count, this.lookback, this.features]);
      const timeMajor = tf.transpose(x, [1, 0, 2]);
      const reconstruction = reconstructTimeMajor(this.params, timeMajor, (input, p) => this.layer(input, p));
      return tf.mean(tf.squaredDifference(reconstruction, timeMajor), 0).dataSync() as Float32Array;
    });
  }

  private layer(x: tf.Tensor3D, p: LstmParams): tf.Tensor3D {
    const L = this.layers.get(p);
    if (L === undefined) throw new Error('FusedLstmForward: unknown layer');
    const [T, B, inDim] = x.shape;
    const u = L.units;
    const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [T * B, inDim]), L.kernel), L.bias), [T, B, 4 * u]);
    const steps = tf.unstack(projected) as tf.Tensor2D[];
    const act = (t: tf.Tensor2D): tf.Tensor2D => (L.activation === 'tanh' ? tf.tanh(t) : tf.relu(t));
    const outputs: tf.Tensor2D[] = [];
    let h: tf.Tensor2D | undefined;
    let c: tf.Tensor2D | undefined;
    for (const xp of steps) {
      const z = h === undefined ? xp : tf.add(xp, tf.matMul(h, L.recurrent));
      const [pre, cand] = tf.split(z, [3 * u, u], 1) as [tf.Tensor2D, tf.Tensor2D];
      const gates = L.gates === 'hardSigmoid' ? tf.minimum(tf.maximum(pre, this.zero), this.one) : tf.sigmoid(pre);
      const [i, f, o] = tf.split(gates, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const input: tf.Tensor2D = tf.mul(i, act(cand));
      const cell: tf.Tensor2D = c === undefined ? input : tf.add(tf.mul(f, c), input);
      const hidden: tf.Tensor2D = tf.mul(o, act(cell));
      c = cell;
      h = hidden;
      outputs.push(hidden);
    }
    return tf.stack(outputs) as tf.Tensor3D;
  }

  get keptTensors(): number {
    let n = 2; // the two scalars
    for (const p of this.params) n += p.kind === 'lstm' ? 3 : p.kind === 'dense' ? (p.bias === undefined ? 1 : 2) : 0;
    return n;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const L of this.layers.values()) tf.dispose([L.kernel, L.recurrent, L.bias]);
    // The LSTM w/b/peephole were disposed at construction; disposing them again is a no-op.
    disposeParams(this.params);
    tf.dispose([this.zero, this.one]);
  }
}
