import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildAutoencoder, extractEncoder } from '../../src/model/build.js';

const shapes: [number, number, number][] = [
  [1, 3, 1],
  [4, 10, 8],
  [32, 25, 20],
];

/** Applies one layer to a random batch and returns the output shape(s). */
function outShapes(layer: tf.layers.Layer, shape: [number, number, number]): number[][] {
  return tf.tidy(() => {
    const out = layer.apply(tf.randomNormal(shape, 0, 1, 'float32', 1)) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => t.shape);
  });
}

describe('layer shape contracts', () => {
  it.each(shapes)('LSTM(16) on (%i, %i, %i): last state only', (b, t, f) => {
    expect(outShapes(tf.layers.lstm({ units: 16 }), [b, t, f])).toEqual([[b, 16]]);
  });

  it.each(shapes)('LSTM(16, returnSequences) on (%i, %i, %i): one vector per timestep', (b, t, f) => {
    expect(outShapes(tf.layers.lstm({ units: 16, returnSequences: true }), [b, t, f])).toEqual([[b, t, 16]]);
  });

  it.each(shapes)('LSTM(16, returnState) on (%i, %i, %i): output, h and c', (b, t, f) => {
    expect(outShapes(tf.layers.lstm({ units: 16, returnState: true }), [b, t, f])).toEqual([[b, 16], [b, 16], [b, 16]]);
  });

  it.each(shapes)('LSTM(16, returnSequences, returnState) on (%i, %i, %i)', (b, t, f) => {
    expect(outShapes(tf.layers.lstm({ units: 16, returnSequences: true, returnState: true }), [b, t, f])).toEqual([[b, t, 16], [b, 16], [b, 16]]);
  });

  it.each(shapes)('RepeatVector(T) after LSTM on (%i, %i, %i) restores the time axis', (b, t, f) => {
    const shape = tf.tidy(() => {
      const code = tf.layers.lstm({ units: 8 }).apply(tf.zeros([b, t, f])) as tf.Tensor;
      return (tf.layers.repeatVector({ n: t }).apply(code) as tf.Tensor).shape;
    });
    expect(shape).toEqual([b, t, 8]);
  });

  it.each(shapes)('TimeDistributed(Dense(F)) on (%i, %i, %i) rebuilds every timestep', (b, t, f) => {
    expect(outShapes(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: f }) }), [b, t, 12].slice(0, 2).concat([12]) as [number, number, number])).toEqual([[b, t, f]]);
  });

  it.each(shapes)('the autoencoder maps (%i, %i, %i) to itself, the encoder to a code vector', (b, t, f) => {
    const model = buildAutoencoder({ encoderUnits: [16, 8], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.001, seed: 1 }, t, f);
    const encoder = extractEncoder(model);
    const [y, code] = tf.tidy(() => {
      const x = tf.zeros([b, t, f]);
      return [(model.predict(x) as tf.Tensor).shape, (encoder.predict(x) as tf.Tensor).shape];
    });
    expect(y).toEqual([b, t, f]);
    expect(code).toEqual([b, 8]);
  });

  it('the no-bottleneck variant passes sequences through', () => {
    const model = buildAutoencoder({ encoderUnits: [16, 8], bottleneck: 'none', activation: 'tanh', learningRate: 0.001, seed: 1 }, 25, 20);
    expect(model.layers.some((l) => l.getClassName() === 'RepeatVector')).toBe(false);
    expect(extractEncoder(model).outputs[0]?.shape).toEqual([null, 25, 8]);
    expect(model.outputs[0]?.shape).toEqual([null, 25, 20]);
  });

  it('expresses the wide relu stack 512-256-128 with a mirrored decoder', () => {
    const model = buildAutoencoder({ encoderUnits: [512, 256, 128], bottleneck: 'repeat-vector', activation: 'relu', learningRate: 0.001, seed: 1 }, 5, 59);
    const lstms = model.layers.filter((l) => l.getClassName() === 'LSTM');
    expect(lstms.map((l) => (l.getConfig() as { units: number }).units)).toEqual([512, 256, 128, 128, 256, 512]);
    expect(lstms.every((l) => (l.getConfig() as { activation: string }).activation === 'relu')).toBe(true);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same initial weights', () => {
    const cfg = { encoderUnits: [8], bottleneck: 'repeat-vector' as const, activation: 'tanh' as const, learningRate: 0.001, seed: 5 };
    const a = buildAutoencoder(cfg, 4, 3).getWeights().map((w) => Array.from(w.dataSync()));
    const b = buildAutoencoder(cfg, 4, 3).getWeights().map((w) => Array.from(w.dataSync()));
    const c = buildAutoencoder({ ...cfg, seed: 6 }, 4, 3).getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});
