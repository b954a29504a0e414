import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.js';
import { quietOrthogonalInitializerWarning } from './tfjs-warnings.js';

quietOrthogonalInitializerWarning();

export type RecurrentActivation = 'sigmoid' | 'hardSigmoid';

export type ArchitectureConfig = Pick<ModelConfig, 'encoderUnits' | 'bottleneck' | 'activation' | 'learningRate' | 'seed'> & {
  /**
   * Gate activation of every LSTM. New models use the logistic 'sigmoid' (Keras 2's default):
   * TensorFlow's fused BlockLSTMV2 op computes exactly that, so the native backend can run a
   * whole layer as one op. 'hardSigmoid' (tfjs-layers' default, what Seismo built before) is
   * still accepted; such models run on the layer-by-layer path. The layers JSON of the artifact
   * records the value per layer, so old artifacts load unchanged.
   */
  recurrentActivation?: RecurrentActivation | undefined;
};

export const DEFAULT_RECURRENT_ACTIVATION: RecurrentActivation = 'sigmoid';

/** Name of the layer whose output is the code vector; `embed` and extractEncoder find it by name. */
export const ENCODER_OUTPUT_LAYER = 'encoder_out';

/**
 * The LSTM autoencoder of the classic Keras tutorials, from config:
 *   input [T, F] -> LSTM(u1, seq) ... LSTM(uk) -> RepeatVector(T) -> LSTM(uk, seq) ... LSTM(u1, seq)
 *   -> TimeDistributed(Dense(F))
 * `bottleneck: none` keeps full sequences through the encoder (no RepeatVector).
 * Every initialiser is seeded so a config and data give the same model every time.
 */
export function buildAutoencoder(cfg: ArchitectureConfig, lookback: number, features: number): tf.LayersModel {
  let seed = cfg.seed;
  const nextSeed = () => seed++;
  const lstm = (units: number, returnSequences: boolean, name: string) =>
    tf.layers.lstm({
      units,
      returnSequences,
      activation: cfg.activation,
      recurrentActivation: cfg.recurrentActivation ?? DEFAULT_RECURRENT_ACTIVATION,
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: nextSeed() }),
      name,
    });

  const input = tf.input({ shape: [lookback, features], name: 'window' });
  let x: tf.SymbolicTensor = input;
  const units = cfg.encoderUnits;
  units.forEach((u, i) => {
    const last = i === units.length - 1;
    const returnSequences = cfg.bottleneck === 'none' || !last;
    x = lstm(u, returnSequences, last ? ENCODER_OUTPUT_LAYER : `encoder_lstm_${i}`).apply(x) as tf.SymbolicTensor;
  });
  if (cfg.bottleneck === 'repeat-vector') x = tf.layers.repeatVector({ n: lookback, name: 'repeat' }).apply(x) as tf.SymbolicTensor;
  [...units].reverse().forEach((u, i) => {
    x = lstm(u, true, `decoder_lstm_${i}`).apply(x) as tf.SymbolicTensor;
  });
  const output = tf.layers
    .timeDistributed({ layer: tf.layers.dense({ units: features, kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) }), name: 'reconstruction' })
    .apply(x) as tf.SymbolicTensor;

  const model = tf.model({ inputs: input, outputs: output, name: 'lstm_autoencoder' });
  compileAutoencoder(model, cfg.learningRate);
  return model;
}

export function compileAutoencoder(model: tf.LayersModel, learningRate: number): void {
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'meanSquaredError' });
}

/** The standalone encoder: same weights, output = the code vector (or code sequence without a bottleneck). */
export function extractEncoder(model: tf.LayersModel): tf.LayersModel {
  const code = model.getLayer(ENCODER_OUTPUT_LAYER);
  // A seq2seq encoder returns [output, h, c]: its code is the final output (= h).
  const output = Array.isArray(code.output) ? (code.output[0] as tf.SymbolicTensor) : code.output;
  return tf.model({ inputs: model.inputs, outputs: output, name: 'encoder' });
}
