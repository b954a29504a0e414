import * as tf from '@tensorflow/tfjs';

/**
 * Raw TensorFlow ops on tfjs-node's backend. tfjs-node can execute any op libtensorflow has,
 * through the same binding its own kernels use; we need that for BlockLSTMV2 (a whole LSTM layer
 * over all timesteps in one op) and its gradient, which tfjs has no kernel for.
 *
 * Nothing here imports tfjs-node: the backend object is only looked at when tfjs reports the
 * 'tensorflow' backend as active, so wasm/cpu processes without the addon never touch it.
 */

interface TensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

interface OpAttr {
  name: string;
  type: number;
  value: boolean | number | string | number[];
}

interface Binding {
  createTensor(shape: number[], dtype: number, values: Int32Array | Float32Array): number;
  deleteTensor(id: number): void;
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): TensorMetadata[];
  TF_FLOAT: number;
  TF_INT64: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
}

/** The parts of tfjs-node's NodeJSKernelBackend used here (its own kernels use the same ones). */
interface NodeBackend {
  binding: Binding;
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(meta: TensorMetadata): tf.Tensor;
}

/** The seven outputs of BlockLSTMV2, each [T, B, units]: gate activations, cell states, and h. */
export interface BlockLstmOutputs {
  i: tf.Tensor3D;
  cs: tf.Tensor3D;
  f: tf.Tensor3D;
  o: tf.Tensor3D;
  ci: tf.Tensor3D;
  co: tf.Tensor3D;
  h: tf.Tensor3D;
}

export interface BlockLstmInputs {
  /** [T, B, in], time-major. */
  x: tf.Tensor3D;
  /** Initial cell and hidden state, [B, units]. */
  cs0: tf.Tensor2D;
  h0: tf.Tensor2D;
  /** [in + units, 4 units] = concat(kernel, recurrentKernel) in Keras/tfjs gate order i, f, c, o. */
  w: tf.Tensor2D;
  b: tf.Tensor1D;
  /** Zeros [units]: BlockLSTMV2 takes peephole weights even when use_peephole is false. */
  peephole: tf.Tensor1D;
}

export class NativeOps {
  private readonly int64Handles = new Set<number>();

  private constructor(private readonly backend: NodeBackend) {}

  // Looked up on every call, not cached: profilers (bench/) count ops by swapping backend.binding.
  private get binding(): Binding {
    return this.backend.binding;
  }

  /** The ops when the active tfjs backend is tfjs-node's, otherwise the reason they are unavailable. */
  static forActiveBackend(): NativeOps | string {
    if (tf.getBackend() !== 'tensorflow') return `backend is ${tf.getBackend()}, not tensorflow`;
    const backend = tf.backend() as unknown as Partial<NodeBackend>;
    const binding = backend.binding;
    if (typeof backend.getInputTensorIds !== 'function' || typeof backend.createOutputTensor !== 'function' || typeof binding?.executeOp !== 'function') {
      return 'the tensorflow backend does not expose executeOp (unexpected tfjs-node version)';
    }
    return new NativeOps(backend as NodeBackend);
  }

  /**
   * An int64 scalar living only in TensorFlow (tfjs has no int64 dtype), for BlockLSTM's
   * seq_len_max. Created once and reused: tfjs-node's own Int64Scalar would allocate a native
   * handle on every call that nothing frees.
   */
  int64Scalar(value: number): number {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`int64 scalar out of range: ${value}`);
    const id = this.binding.createTensor([], this.binding.TF_INT64, Int32Array.of(value, 0)); // little-endian low, high word
    this.int64Handles.add(id);
    return id;
  }

  releaseInt64(id: number): void {
    if (this.int64Handles.delete(id)) this.binding.deleteTensor(id);
  }

  blockLstm(seqLen: number, a: BlockLstmInputs): BlockLstmOutputs {
    const attrs = [this.floatType(), { name: 'cell_clip', type: this.binding.TF_ATTR_FLOAT, value: 0 }, this.noPeephole()];
    const [i, cs, f, o, ci, co, h] = this.execute('BlockLSTMV2', attrs, seqLen, [a.x, a.cs0, a.h0, a.w, a.peephole, a.peephole, a.peephole, a.b], 7) as tf.Tensor3D[];
    if (i === undefined || cs === undefined || f === undefined || o === undefined || ci === undefined || co === undefined || h === undefined) throw new Error('BlockLSTMV2 returned fewer than 7 outputs');
    return { i, cs, f, o, ci, co, h };
  }

  /**
   * BlockLSTMGradV2: gradients of the layer's inputs given the forward pass's outputs and the
   * gradients arriving at its h (and cs) outputs. Returns dx [T, B, in], dw, db.
   */
  blockLstmGrad(seqLen: number, a: BlockLstmInputs, fwd: BlockLstmOutputs, dcs: tf.Tensor3D, dh: tf.Tensor3D): { dx: tf.Tensor3D; dw: tf.Tensor2D; db: tf.Tensor1D } {
    const inputs = [a.x, a.cs0, a.h0, a.w, a.peephole, a.peephole, a.peephole, a.b, fwd.i, fwd.cs, fwd.f, fwd.o, fwd.ci, fwd.co, fwd.h, dcs, dh];
    const out = this.execute('BlockLSTMGradV2', [this.floatType(), this.noPeephole()], seqLen, inputs, 8);
    const [dx, dcs0, dh0, dw, dwci, dwcf, dwco, db] = out;
    // The initial states and peepholes are constants here: drop their gradients right away.
    for (const t of [dcs0, dh0, dwci, dwcf, dwco]) t?.dispose();
    if (dx === undefined || dw === undefined || db === undefined) throw new Error('BlockLSTMGradV2 returned fewer than 8 outputs');
    return { dx: dx as tf.Tensor3D, dw: dw as tf.Tensor2D, db: db as tf.Tensor1D };
  }

  /** Frees the native handles this instance created. */
  dispose(): void {
    for (const id of [...this.int64Handles]) this.releaseInt64(id);
  }

  private execute(name: string, attrs: OpAttr[], seqLen: number, inputs: tf.Tensor[], outputs: number): tf.Tensor[] {
    const ids = [seqLen, ...this.backend.getInputTensorIds(inputs)];
    return this.binding.executeOp(name, attrs, ids, outputs).map((meta) => this.backend.createOutputTensor(meta));
  }

  private floatType(): OpAttr {
    return { name: 'T', type: this.binding.TF_ATTR_TYPE, value: this.binding.TF_FLOAT };
  }

  private noPeephole(): OpAttr {
    return { name: 'use_peephole', type: this.binding.TF_ATTR_BOOL, value: false };
  }
}
