import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { extractEncoder } from '../../src/model/build.js';
import { ShiftRight } from '../../src/model/seq2seq.js';
import { buildModel, scoringModel } from '../../src/model/variants.js';
import { mulberry32 } from '../../src/random.js';

const cfg = { kind: 'conv1d' as const, encoderUnits: [16, 8], bottleneck: 'repeat-vector' as const, activation: 'tanh' as const, learningRate: 0.01, seed: 3 };

describe('conv1d autoencoder', () => {
  it('maps [lookback, features] windows to themselves, exposes its code, and learns', async () => {
    const model = buildModel(cfg, 10, 4);
    expect(model.name).toBe('conv_autoencoder');
    expect(model.outputs[0]!.shape).toEqual([null, 10, 4]);
    expect(extractEncoder(model).outputs[0]!.shape).toEqual([null, 10, 8]);

    const rng = mulberry32(1);
    const data = new Float32Array(256 * 10 * 4);
    for (let w = 0; w < 256; w++) {
      const phase = rng() * 6;
      for (let t = 0; t < 10; t++) for (let f = 0; f < 4; f++) data[(w * 10 + t) * 4 + f] = Math.sin(phase + t / 3 + f);
    }
    const x = tf.tensor3d(data, [256, 10, 4]);
    const history = await model.fit(x, x, { epochs: 15, batchSize: 64, verbose: 0 });
    x.dispose();
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.3);
  });

  it('lstm stays the default kind', () => {
    expect(buildModel({ ...cfg, kind: 'lstm' }, 10, 4).name).toBe('lstm_autoencoder');
  });
});

describe('seq2seq autoencoder (teacher forcing, recursive decoding)', () => {
  const s2s = { kind: 'seq2seq' as const, encoderUnits: [24, 16], bottleneck: 'repeat-vector' as const, activation: 'tanh' as const, recurrentActivation: 'sigmoid' as const, learningRate: 0.01, seed: 5 };

  it('feeds the decoder the true previous step while training: [0, x0 .. x(T-2)]', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 3, 2]);
    const shifted = new ShiftRight({}).apply(x) as tf.Tensor;
    expect(Array.from(shifted.dataSync())).toEqual([0, 0, 1, 2, 3, 4]);
    tf.dispose([x, shifted]);
  });

  it('learns, then reconstructs recursively from its own outputs; the artifact round-trips', async () => {
    const T = 8;
    const F = 3;
    const trained = buildModel(s2s, T, F);
    expect(trained.outputs[0]!.shape).toEqual([null, T, F]);
    const rng = mulberry32(2);
    const n = 256;
    const data = new Float32Array(n * T * F);
    for (let w = 0; w < n; w++) {
      const phase = rng() * 6;
      for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) data[(w * T + t) * F + f] = Math.sin(phase + t / 2 + f);
    }
    const x = tf.tensor3d(data, [n, T, F]);
    await trained.fit(x, x, { epochs: 40, batchSize: 32, verbose: 0 });
    const recursive = scoringModel(s2s, trained);
    expect(recursive.name).toBe('seq2seq_recursive');
    expect(recursive.outputs[0]!.shape).toEqual([null, T, F]);
    expect(extractEncoder(recursive).outputs[0]!.shape).toEqual([null, 16]);

    const mse = (m: tf.LayersModel) => tf.tidy(() => tf.mean(tf.squaredDifference(m.predict(x) as tf.Tensor, x)).dataSync()[0]!);
    const teacherForced = mse(trained);
    const free = mse(recursive);
    // Recursive decoding is a different computation (errors compound), yet it must have learnt the signal (variance 0.5).
    expect(free).not.toBeCloseTo(teacherForced, 6);
    expect(free).toBeLessThan(0.1);

    // Saved with its custom layers and loaded again, it scores the same.
    const saved: tf.io.ModelArtifacts[] = [];
    await recursive.save(tf.io.withSaveHandler(async (a) => {
      saved.push(a);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved[0]!));
    expect(mse(loaded)).toBeCloseTo(free, 6);
    x.dispose();
  });
});
