import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { extractEncoder } from '../../src/model/build.js';
import { buildModel } from '../../src/model/variants.js';
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
