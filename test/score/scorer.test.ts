import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildAutoencoder } from '../../src/model/build.js';
import { Scorer } from '../../src/score/scorer.js';
import type { Window } from '../../src/domain/types.js';

const T = 5, F = 3;
const model = buildAutoencoder({ encoderUnits: [8], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.001, seed: 2 }, T, F);
const windowOf = (i: number): Window => ({ entity: `e${i % 3}`, startTs: i, endTs: i + T, data: Float32Array.from({ length: T * F }, (_, k) => Math.sin(i + k)) });

describe('Scorer', () => {
  it('returns per-window MSE and per-feature errors that match a direct computation', () => {
    const windows = [windowOf(1), windowOf(2)];
    const scores = new Scorer(model, T, F, 16).score(windows);
    windows.forEach((w, i) => {
      const expected = tf.tidy(() => {
        const x = tf.tensor3d(w.data, [1, T, F]);
        const y = model.predict(x) as tf.Tensor;
        return { mse: tf.losses.meanSquaredError(x, y).dataSync()[0] as number, perFeature: Array.from(tf.mean(tf.squaredDifference(x, y), [0, 1]).dataSync()) };
      });
      expect(scores[i]?.score).toBeCloseTo(expected.mse, 5);
      expect(Array.from(scores[i]?.featureErrors ?? []).map((v) => v.toFixed(5))).toEqual(expected.perFeature.map((v) => v.toFixed(5)));
    });
  });

  it('refuses a batch buffer beyond 512 MiB with the settings to lower, before allocating it', () => {
    // maxBatch 65536 and lookback 1000 are each within the schema; with 8 features the batch is 2000 MiB.
    expect(() => new Scorer(model, 1000, 8, 65536)).toThrow(/scoring\.maxBatch 65536 x window\.lookback 1000 x 8 features is a 2000 MiB batch, more than 512 MiB/);
    expect(new Scorer(model, T, F, 65536).maxBatch).toBe(65536); // 3.75 MiB: fine
  });

  it('gives the same scores whatever the batch size', () => {
    const windows = Array.from({ length: 37 }, (_, i) => windowOf(i));
    const a = new Scorer(model, T, F, 5).score(windows).map((s) => s.score.toFixed(6));
    const b = new Scorer(model, T, F, 64).score(windows).map((s) => s.score.toFixed(6));
    expect(a).toEqual(b);
  });

  it('leaks no tensors over many batches', () => {
    const scorer = new Scorer(model, T, F, 32);
    const windows = Array.from({ length: 32 }, (_, i) => windowOf(i));
    scorer.score(windows); // first call may create lazily initialised state
    const before = tf.memory().numTensors;
    for (let i = 0; i < 300; i++) scorer.score(windows);
    scorer.scoreAll(new Float32Array(100 * T * F), 100);
    expect(tf.memory().numTensors).toBe(before);
  });
});
