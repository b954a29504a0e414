import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadArtifact, saveArtifact, type Manifest } from '../../src/model/artifact.js';
import { buildAutoencoder, type ArchitectureConfig } from '../../src/model/build.js';
import { Scorer } from '../../src/score/scorer.js';

const native = tf.getBackend() === 'tensorflow';
const arch = (over: Partial<ArchitectureConfig> = {}): ArchitectureConfig => ({ encoderUnits: [16, 8], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.001, seed: 3, ...over });
const windows = (count: number, T: number, F: number, seed = 1): Float32Array => Float32Array.from({ length: count * T * F }, (_, k) => Math.sin(seed * 7.1 + k * 0.37) * 1.5);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

/** Live native TensorFlow handles (tfjs-node's own count), to catch leaks tfjs cannot see. */
const nativeHandles = (): number => (tf.backend() as unknown as { binding: { getNumOfTensors(): number } }).binding.getNumOfTensors();

describe.runIf(native)('Scorer block-lstm path (native backend)', () => {
  const shapes: [string, ArchitectureConfig, number, number, number[]][] = [
    ['SKAB size, bottleneck', arch({ encoderUnits: [128, 64] }), 10, 8, [1, 7, 256]],
    ['no bottleneck', arch({ bottleneck: 'none' }), 6, 5, [1, 33]],
    ['one layer, many features', arch({ encoderUnits: [12] }), 5, 59, [1, 64]],
  ];
  for (const [name, cfg, T, F, batches] of shapes) {
    it(`matches model.predict within 1e-5: ${name}`, () => {
      const model = buildAutoencoder(cfg, T, F);
      const fast = new Scorer(model, T, F, 256);
      const slow = new Scorer(model, T, F, 256, { path: 'layers' });
      expect(fast.path).toBe('block-lstm');
      expect(slow.path).toBe('layers');
      for (const B of batches) {
        const data = windows(B, T, F, B);
        const a = fast.scoreRaw(data, B);
        expect(a.length).toBe(B * F);
        expect(maxAbsDiff(a, slow.scoreRaw(data, B))).toBeLessThan(1e-5);
      }
      fast.dispose();
      model.dispose();
    });
  }

  it('takes the fused path, with the reason, for models BlockLSTMV2 cannot compute', () => {
    const hard = buildAutoencoder(arch({ recurrentActivation: 'hardSigmoid' }), 4, 3);
    const relu = buildAutoencoder(arch({ activation: 'relu' }), 4, 3);
    const hs = new Scorer(hard, 4, 3, 8);
    const rl = new Scorer(relu, 4, 3, 8);
    expect([hs.path, rl.path]).toEqual(['fused', 'fused']);
    expect(hs.pathReason).toContain('recurrentActivation hardSigmoid');
    expect(rl.pathReason).toContain('activation relu');
    hs.dispose();
    rl.dispose();
    hard.dispose();
    relu.dispose();
  });

  const fusedShapes: [string, ArchitectureConfig, number, number, number[]][] = [
    ['hardSigmoid artifact, SKAB size', arch({ encoderUnits: [128, 64], recurrentActivation: 'hardSigmoid' }), 10, 8, [1, 256]],
    ['hardSigmoid, no bottleneck', arch({ bottleneck: 'none', recurrentActivation: 'hardSigmoid' }), 6, 5, [1, 33]],
    ['relu cells, sigmoid gates', arch({ activation: 'relu' }), 5, 7, [1, 40]],
    ['relu cells, hardSigmoid gates', arch({ activation: 'relu', recurrentActivation: 'hardSigmoid' }), 5, 7, [3]],
  ];
  for (const [name, cfg, T, F, batches] of fusedShapes) {
    it(`fused path matches model.predict within 1e-5: ${name}`, () => {
      const model = buildAutoencoder(cfg, T, F);
      const fast = new Scorer(model, T, F, 256);
      const slow = new Scorer(model, T, F, 256, { path: 'layers' });
      expect(fast.path).toBe('fused');
      for (const B of batches) {
        const data = windows(B, T, F, B + 1);
        expect(maxAbsDiff(fast.scoreRaw(data, B), slow.scoreRaw(data, B))).toBeLessThan(1e-5);
      }
      fast.dispose();
      model.dispose();
    });
  }

  it.each([['block-lstm', 'sigmoid'], ['fused', 'hardSigmoid']] as const)('%s: leaks no tensors or native handles over many batches, and dispose() frees its weight copies', (path, gates) => {
    const model = buildAutoencoder(arch({ recurrentActivation: gates }), 10, 8);
    // tfjs-node uploads a variable's values to TensorFlow on first use: do that before counting.
    new Scorer(model, 10, 8, 1, { path: 'layers' }).scoreRaw(windows(1, 10, 8), 1);
    const tensorsBefore = tf.memory().numTensors;
    const handlesBefore = nativeHandles();
    const scorer = new Scorer(model, 10, 8, 64);
    expect(scorer.path).toBe(path);
    expect(scorer.keptTensors).toBe(3 * 4 + 2 + (path === 'fused' ? 2 : 0));
    expect(tf.memory().numTensors).toBe(tensorsBefore + scorer.keptTensors);
    const data = windows(64, 10, 8);
    scorer.scoreRaw(data, 64);
    const during = [tf.memory().numTensors, nativeHandles()];
    for (let i = 0; i < (path === 'fused' ? 100 : 400); i++) scorer.scoreRaw(data, 1 + (i % 64));
    scorer.scoreAll(windows(300, 10, 8), 300);
    expect([tf.memory().numTensors, nativeHandles()]).toEqual(during);
    scorer.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(nativeHandles()).toBe(handlesBefore);
    expect(() => scorer.scoreRaw(data, 1)).toThrow('after dispose');
    model.dispose();
  });
});

describe('recurrentActivation in artifacts', () => {
  it('new models use sigmoid gates; an old hardSigmoid artifact loads with its gates and scores as before', async () => {
    expect(buildAutoencoder(arch(), 4, 3).layers.find((l) => l.getClassName() === 'LSTM')?.getConfig().recurrentActivation).toBe('sigmoid');
    const old = buildAutoencoder(arch({ recurrentActivation: 'hardSigmoid' }), 4, 3);
    const dir = join(mkdtempSync(join(tmpdir(), 'seismo-gates-')), 'model');
    const manifest = { formatVersion: 1, version: 'v', created: new Date().toISOString(), features: ['a', 'b', 'c'], lookback: 4, configHash: '', dataHash: '', backend: '', architecture: {} } as unknown as Manifest;
    await saveArtifact(dir, { model: old, scaler: { kind: 'standard', features: ['a', 'b', 'c'], offset: [0, 0, 0], scale: [1, 1, 1] }, threshold: undefined, manifest });
    expect(readFileSync(join(dir, 'model.json'), 'utf8')).toContain('"recurrent_activation":"hard_sigmoid"');
    const loaded = await loadArtifact(dir);
    const gates = loaded.model.layers.filter((l) => l.getClassName() === 'LSTM').map((l) => l.getConfig().recurrentActivation);
    expect(gates).toEqual(['hardSigmoid', 'hardSigmoid', 'hardSigmoid', 'hardSigmoid']);
    const data = windows(9, 4, 3);
    expect(Array.from(new Scorer(loaded.model, 4, 3, 16, { path: 'layers' }).scoreRaw(data, 9))).toEqual(Array.from(new Scorer(old, 4, 3, 16, { path: 'layers' }).scoreRaw(data, 9)));
  });
});
