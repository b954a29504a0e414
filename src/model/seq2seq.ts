import * as tf from '@tensorflow/tfjs';
import { compileAutoencoder, ENCODER_OUTPUT_LAYER } from './build.js';
import type { VariantConfig } from './variants.js';

/**
 * The sequence-to-sequence variant: an encoder LSTM stack summarises the window into its final
 * states, and a decoder LSTM started from those states rebuilds the window one step at a time.
 * Training uses teacher forcing (the decoder's input at step t is the true x[t-1], zeros at
 * t = 0); scoring decodes recursively (the input at step t is the decoder's own output for
 * t-1), so an anomalous window cannot be rebuilt by copying it through the decoder's inputs.
 */

/** [zeros, x0 .. x(T-2)]: the teacher-forced decoder inputs. */
export class ShiftRight extends tf.layers.Layer {
  static readonly className = 'SeismoShiftRight';

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [, T, F] = x.shape;
      const zeros = tf.zerosLike(x.slice([0, 0, 0], [-1, 1, F]));
      return T > 1 ? tf.concat([zeros, x.slice([0, 0, 0], [-1, T - 1, F])], 1) : zeros;
    });
  }
}

/** Zeros shaped [batch, 1, features]: the first recursive decoder input. */
export class StartToken extends tf.layers.Layer {
  static readonly className = 'SeismoStartToken';

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0] ?? null, 1, inputShape[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      return tf.zerosLike(x.slice([0, 0, 0], [-1, 1, x.shape[2]]));
    });
  }
}

// Registered so saved artifacts of this variant load again.
tf.serialization.registerClass(ShiftRight);
tf.serialization.registerClass(StartToken);

const DECODER = 'seq2seq_decoder';
const OUTPUT = 'reconstruction';

function encoderStates(cfg: VariantConfig, input: tf.SymbolicTensor, nextSeed: () => number): tf.SymbolicTensor[] {
  let x = input;
  const units = cfg.encoderUnits;
  for (let i = 0; i < units.length - 1; i++) {
    x = tf.layers.lstm({ units: units[i] as number, returnSequences: true, activation: cfg.activation, recurrentActivation: cfg.recurrentActivation, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }), recurrentInitializer: tf.initializers.orthogonal({ seed: nextSeed() }), name: `encoder_lstm_${i}` }).apply(x) as tf.SymbolicTensor;
  }
  const [, h, c] = tf.layers
    .lstm({ units: units[units.length - 1] as number, returnState: true, activation: cfg.activation, recurrentActivation: cfg.recurrentActivation, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }), recurrentInitializer: tf.initializers.orthogonal({ seed: nextSeed() }), name: ENCODER_OUTPUT_LAYER })
    .apply(x) as tf.SymbolicTensor[];
  return [h as tf.SymbolicTensor, c as tf.SymbolicTensor];
}

/** The teacher-forced training model: input the window, output its reconstruction. */
export function buildSeq2Seq(cfg: VariantConfig, lookback: number, features: number): tf.LayersModel {
  let seed = cfg.seed;
  const nextSeed = () => seed++;
  const input = tf.input({ shape: [lookback, features], name: 'window' });
  const state = encoderStates(cfg, input, nextSeed);
  const units = cfg.encoderUnits[cfg.encoderUnits.length - 1] as number;
  const decoderInputs = new ShiftRight({ name: 'teacher_forcing' }).apply(input) as tf.SymbolicTensor;
  const decoded = tf.layers
    .lstm({ units, returnSequences: true, activation: cfg.activation, recurrentActivation: cfg.recurrentActivation, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }), recurrentInitializer: tf.initializers.orthogonal({ seed: nextSeed() }), name: DECODER })
    .apply(decoderInputs, { initialState: state }) as tf.SymbolicTensor;
  const output = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: features, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }), name: OUTPUT }).apply(decoded) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'seq2seq_autoencoder' });
  compileAutoencoder(model, cfg.learningRate);
  return model;
}

/**
 * The scoring model: the trained encoder, then the decoder unrolled for `lookback` steps, each
 * fed its own previous output. Same weights as `trained` (the decoder and output layers are
 * rebuilt once and given the trained weights; the encoder layers are shared).
 */
export function seq2seqInference(trained: tf.LayersModel): tf.LayersModel {
  const input = trained.inputs[0] as tf.SymbolicTensor;
  const [, lookback, features] = input.shape as [null, number, number];
  const encoder = trained.getLayer(ENCODER_OUTPUT_LAYER);
  const encoderOut = encoder.output as tf.SymbolicTensor[];
  const trainedDecoder = trained.getLayer(DECODER);
  const trainedOutput = trained.getLayer(OUTPUT);
  const decoderConfig = trainedDecoder.getConfig();
  const stepDecoder = tf.layers.lstm({
    units: decoderConfig.units as number,
    activation: decoderConfig.activation as 'tanh',
    recurrentActivation: decoderConfig.recurrentActivation as 'sigmoid',
    returnSequences: true,
    returnState: true,
    name: 'seq2seq_step_decoder',
  });
  const stepOutput = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: features }), name: 'seq2seq_step_output' });
  let state = [encoderOut[1] as tf.SymbolicTensor, encoderOut[2] as tf.SymbolicTensor];
  let previous = new StartToken({ name: 'start_token' }).apply(input) as tf.SymbolicTensor;
  const steps: tf.SymbolicTensor[] = [];
  for (let t = 0; t < lookback; t++) {
    const [out, h, c] = stepDecoder.apply(previous, { initialState: state }) as tf.SymbolicTensor[];
    previous = stepOutput.apply(out as tf.SymbolicTensor) as tf.SymbolicTensor;
    steps.push(previous);
    state = [h as tf.SymbolicTensor, c as tf.SymbolicTensor];
  }
  const output = steps.length > 1 ? (tf.layers.concatenate({ axis: 1, name: OUTPUT }).apply(steps) as tf.SymbolicTensor) : (steps[0] as tf.SymbolicTensor);
  const model = tf.model({ inputs: input, outputs: output, name: 'seq2seq_recursive' });
  stepDecoder.setWeights(trainedDecoder.getWeights());
  stepOutput.setWeights(trainedOutput.getWeights());
  return model;
}
