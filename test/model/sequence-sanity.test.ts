import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildAutoencoder, extractEncoder } from '../../src/model/build.js';
import { trainAutoencoder } from '../../src/model/train.js';

describe('seed sanity check (classic Keras LSTM autoencoder tutorial)', () => {
  it('an LSTM(100) autoencoder learns to reproduce 0.1, 0.2, ..., 0.9', async () => {
    const sequence = Float32Array.from({ length: 9 }, (_, i) => (i + 1) / 10);
    const model = buildAutoencoder({ encoderUnits: [100], bottleneck: 'repeat-vector', activation: 'relu', learningRate: 0.001, seed: 3 }, 9, 1);
    const set = { data: sequence, count: 1, lookback: 9, features: 1 };
    const metrics = await trainAutoencoder(model, set, set, { epochs: 300, batchSize: 1, validationSplit: 0.2, patience: 300, seed: 1 });
    const reconstruction = tf.tidy(() => Array.from((model.predict(tf.tensor3d(sequence, [1, 9, 1])) as tf.Tensor).dataSync()));
    const maxError = Math.max(...reconstruction.map((v, i) => Math.abs(v - (sequence[i] as number))));
    expect(maxError, `reconstruction ${reconstruction.map((v) => v.toFixed(3)).join(', ')} after ${metrics.epochsRun} epochs`).toBeLessThan(0.05);

    const code = tf.tidy(() => (extractEncoder(model).predict(tf.tensor3d(sequence, [1, 9, 1])) as tf.Tensor).shape);
    expect(code).toEqual([1, 100]);
  }, 600_000);
});
