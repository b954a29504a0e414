import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildAutoencoder, type ArchitectureConfig } from '../../src/model/build.js';
import { NativeTrainer } from '../../src/model/native-train.js';
import { trainAutoencoder, type EpochReport, type WindowSet } from '../../src/model/train.js';

const native = tf.getBackend() === 'tensorflow';
const arch = (over: Partial<ArchitectureConfig> = {}): ArchitectureConfig => ({ encoderUnits: [16, 8], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.01, seed: 5, ...over });
const T = 6, F = 4;
const set = (count: number, phase = 0): WindowSet => ({
  data: Float32Array.from({ length: count * T * F }, (_, k) => Math.sin(phase + Math.floor(k / F) * 0.3 + (k % F)) + 0.1 * Math.cos(k * 1.7)),
  count,
  lookback: T,
  features: F,
});

/** max |a - b| relative to max |b|: gradients of different layers differ by orders of magnitude. */
function relativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => (tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number) / Math.max(1e-12, tf.max(tf.abs(b)).dataSync()[0] as number));
}

describe.runIf(native)('native training (BlockLSTMV2 + BlockLSTMGradV2)', () => {
  for (const [name, cfg] of [['bottleneck', arch()], ['no bottleneck', arch({ bottleneck: 'none' })]] as const) {
    it(`gives the gradients tfjs-layers autodiff gives: ${name}`, () => {
      const model = buildAutoencoder(cfg, T, F);
      const trainer = NativeTrainer.create(model);
      if (typeof trainer === 'string') throw new Error(trainer);
      const x = tf.tensor3d(set(9).data, [9, T, F]);
      const xTime = tf.transpose(x, [1, 0, 2]) as tf.Tensor3D;
      const fast = tf.variableGrads(() => trainer.loss(xTime), trainer.variables);
      const layerVars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const slow = tf.variableGrads(() => tf.losses.meanSquaredError(x, model.apply(x) as tf.Tensor) as tf.Scalar, layerVars);
      expect(Math.abs((fast.value.dataSync()[0] as number) - (slow.value.dataSync()[0] as number))).toBeLessThan(1e-6);
      // Layers order per LSTM: kernel, recurrent kernel, bias; the trainer's: [kernel; recurrent], bias.
      const slowGrads = layerVars.map((v) => slow.grads[v.name] as tf.Tensor);
      const fastGrads = trainer.variables.map((v) => fast.grads[v.name] as tf.Tensor);
      const expected: tf.Tensor[] = [];
      for (let i = 0; i < slowGrads.length; ) {
        const g = slowGrads[i] as tf.Tensor;
        const isLstmKernel = fastGrads[expected.length]?.shape[0] !== g.shape[0];
        if (isLstmKernel) {
          expected.push(tf.concat([g, slowGrads[i + 1] as tf.Tensor], 0));
          i += 2;
        } else {
          expected.push(g);
          i += 1;
        }
      }
      expect(expected.length).toBe(fastGrads.length);
      fastGrads.forEach((g, i) => {
        expect(g.shape).toEqual(expected[i]?.shape);
        expect(relativeDiff(g, expected[i] as tf.Tensor), `gradient ${i}`).toBeLessThan(1e-4);
      });
      tf.dispose([x, xTime, fast.value, slow.value, ...Object.values(fast.grads), ...Object.values(slow.grads), ...expected]);
      trainer.dispose();
      model.dispose();
    });
  }

  it('follows the same loss curve as model.fit, puts the best weights in the layers model, and leaks nothing', async () => {
    const cfg = { epochs: 4, batchSize: 16, validationSplit: 0.2, patience: 5, seed: 1 };
    const curves: EpochReport[][] = [[], []];
    const [a, b] = [buildAutoencoder(arch(), T, F), buildAutoencoder(arch(), T, F)];
    const before = tf.memory().numTensors;
    const fast = await trainAutoencoder(a, set(40), set(10, 9), cfg, (r) => curves[0]?.push(r));
    expect(tf.memory().numTensors).toBe(before);
    const slow = await trainAutoencoder(b, set(40), set(10, 9), cfg, (r) => curves[1]?.push(r), { path: 'layers' });
    expect([fast.path, slow.path]).toEqual(['block-lstm', 'layers']);
    const [fc, sc] = curves as [EpochReport[], EpochReport[]];
    expect(fc.length).toBe(4);
    fc.forEach((r, i) => {
      expect(Math.abs(r.loss - (sc[i]?.loss ?? NaN)) / r.loss, `epoch ${i + 1} loss`).toBeLessThan(1e-3);
      expect(Math.abs(r.valLoss - (sc[i]?.valLoss ?? NaN)) / r.valLoss, `epoch ${i + 1} val loss`).toBeLessThan(1e-3);
    });
    expect(fc[3]?.loss).toBeLessThan(fc[0]?.loss ?? 0);
    // The layers model now holds the best epoch's weights: its own val loss is the reported one.
    const v = set(10, 9);
    const xv = tf.tensor3d(v.data, [v.count, T, F]);
    const valLoss = tf.tidy(() => tf.losses.meanSquaredError(xv, a.predict(xv) as tf.Tensor).dataSync()[0] as number);
    expect(Math.abs(valLoss - fast.valLoss) / fast.valLoss).toBeLessThan(1e-5);
    xv.dispose();
  });

  it('stops early after `patience` epochs without improvement and keeps the best epoch', async () => {
    const model = buildAutoencoder(arch({ learningRate: 0.3 }), T, F); // far too large: val loss wanders
    const reports: EpochReport[] = [];
    const m = await trainAutoencoder(model, set(40), set(10, 9), { epochs: 40, batchSize: 8, validationSplit: 0.2, patience: 2, seed: 1 }, (r) => reports.push(r));
    const best = Math.min(...reports.map((r) => r.valLoss));
    expect(m.valLoss).toBe(best);
    expect(m.epochsRun).toBe(m.bestEpoch + 2);
    expect(m.epochsRun).toBeLessThan(40);
  });
});

describe('training path selection', () => {
  it('trains hardSigmoid and relu models with model.fit', async () => {
    for (const cfg of [arch({ recurrentActivation: 'hardSigmoid' }), arch({ activation: 'relu' })]) {
      const m = await trainAutoencoder(buildAutoencoder(cfg, T, F), set(20), set(5, 3), { epochs: 1, batchSize: 32, validationSplit: 0.2, patience: 5, seed: 1 });
      expect(m.path).toBe('layers');
    }
  });
});
