import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.js';
import { buildAutoencoder, compileAutoencoder, ENCODER_OUTPUT_LAYER } from './build.js';
import { buildSeq2Seq, seq2seqInference } from './seq2seq.js';

export type VariantConfig = Pick<ModelConfig, 'kind' | 'encoderUnits' | 'bottleneck' | 'activation' | 'recurrentActivation' | 'learningRate' | 'seed'>;

/** The autoencoder of `model.kind`; every variant maps [lookback, features] windows to themselves. */
export function buildModel(cfg: VariantConfig, lookback: number, features: number): tf.LayersModel {
  if (cfg.kind === 'conv1d') return buildConvAutoencoder(cfg, lookback, features);
  if (cfg.kind === 'seq2seq') return buildSeq2Seq(cfg, lookback, features);
  return buildAutoencoder(cfg, lookback, features);
}

/** The model that scores: the trained one, except seq2seq, which decodes recursively. */
export function scoringModel(cfg: Pick<VariantConfig, 'kind'>, trained: tf.LayersModel): tf.LayersModel {
  return cfg.kind === 'seq2seq' ? seq2seqInference(trained) : trained;
}

/**
 * A 1-D convolutional autoencoder in the spirit of SKAB's Conv-AE baseline: convolutions over
 * time with `encoderUnits` filters (kernel 3, same padding, relu), mirrored, then a linear
 * convolution back to the features. Short windows (SKAB's 10 steps) cannot be halved twice
 * and restored exactly, so there is no striding: the bottleneck is in the channels. No
 * recurrence, so it trains and scores several times faster than the LSTM.
 */
export function buildConvAutoencoder(cfg: VariantConfig, lookback: number, features: number): tf.LayersModel {
  let seed = cfg.seed;
  const conv = (filters: number, name: string, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv1d({ filters, kernelSize: 3, padding: 'same', activation, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name });
  const input = tf.input({ shape: [lookback, features], name: 'window' });
  let x: tf.SymbolicTensor = input;
  const units = cfg.encoderUnits;
  units.forEach((u, i) => {
    x = conv(u, i === units.length - 1 ? ENCODER_OUTPUT_LAYER : `encoder_conv_${i}`).apply(x) as tf.SymbolicTensor;
  });
  [...units].reverse().slice(1).forEach((u, i) => {
    x = conv(u, `decoder_conv_${i}`).apply(x) as tf.SymbolicTensor;
  });
  const output = conv(features, 'reconstruction', 'linear').apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'conv_autoencoder' });
  compileAutoencoder(model, cfg.learningRate);
  return model;
}
