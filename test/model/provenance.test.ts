import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constantBaselineLoss, trainingQualityProblem, windowMeanBaselineLoss } from '../../src/model/provenance.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const SKAB_FILE = new URL('../../../shared/data/skab/valve1/0.csv', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'seismo-provenance-'));
const cli = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });

describe('trivial baselines', () => {
  // Two windows of 2 timesteps x 1 feature.
  const set = { data: Float32Array.from([1, 3, -2, -2]), count: 2, lookback: 2, features: 1 };
  it('constant: every value as the training mean (0 after scaling) -> mean of squares', () => {
    expect(constantBaselineLoss(set)).toBeCloseTo((1 + 9 + 4 + 4) / 4);
  });
  it('window mean: each window as its own mean -> mean within-window variance', () => {
    expect(windowMeanBaselineLoss(set)).toBeCloseTo((1 + 1 + 0 + 0) / 4);
  });
  it('a model must beat the constant baseline by 2 % to count as trained', () => {
    const t = (valLoss: number) => trainingQualityProblem({ valLoss, bestEpoch: 1, epochsRun: 6, baselines: { constant: 1 } });
    expect(t(0.97)).toBeUndefined();
    expect(t(0.99)).toMatch(/the model did not learn: its validation loss 0.9900 is 0.990 x that of reconstructing every value as the training mean/);
    expect(trainingQualityProblem({ valLoss: 5, bestEpoch: 1, epochsRun: 1 })).toBeUndefined(); // older artifacts: no baseline recorded
  });
});

describe('seismo train: quality gate and provenance', () => {
  const config = (name: string, yaml: string) => {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(path, `${readFileSync(join(ROOT, yaml), 'utf8').replace(/^artifactDir:.*$/m, '')}\nartifactDir: ${join(dir, name)}\n`);
    return path;
  };

  it('refuses to save the wide relu stack that stopped at its first epoch (exit 6), saves it with --force', { timeout: 300_000 }, () => {
    const cfg = config('widerelu', 'config/skab-widerelu.yaml');
    const refused = cli(['train', '-c', cfg, '-d', SKAB_FILE]);
    expect(refused.status, refused.stderr).toBe(6);
    expect(refused.stderr).toMatch(/SEISMO_TRAINING_FAILED: not saved to .*widerelu: the model did not learn: its validation loss [\d.]+ is [\d.]+ x that of reconstructing every value as the training mean/);
    const forced = cli(['train', '-c', cfg, '-d', SKAB_FILE, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toContain('saved with --force although the model did not learn');
  });

  it('the manifest records the software versions and a weights checksum; tampered weights are refused at load', { timeout: 300_000 }, () => {
    const cfg = config('lstm', 'config/skab.yaml');
    const trained = cli(['train', '-c', cfg, '-d', SKAB_FILE]);
    expect(trained.status, trained.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'lstm', 'manifest.json'), 'utf8')) as { software: Record<string, string>; weightsSha256: string; training: { valLoss: number; baselines: { constant: number; windowMean: number } }; architecture: Record<string, unknown> };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    expect(manifest.software).toMatchObject({ seismo: pkg.version, tfjs: pkg.dependencies['@tensorflow/tfjs'], node: process.versions.node });
    expect(manifest.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.training.valLoss).toBeLessThan(0.98 * manifest.training.baselines.constant);
    expect(manifest.architecture).toHaveProperty('bottleneck');

    const weights = join(dir, 'lstm', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(weights, bytes);
    const scored = cli(['score', '-c', cfg, '-d', SKAB_FILE]);
    expect(scored.status).toBe(4);
    expect(scored.stderr).toContain('does not match the SHA-256 recorded in manifest.json (weightsSha256)');
  });

  it('conv1d artifacts do not list LSTM-only architecture fields', { timeout: 300_000 }, () => {
    const cfg = config('conv', 'config/skab-conv.yaml');
    expect(cli(['train', '-c', cfg, '-d', SKAB_FILE]).status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'conv', 'manifest.json'), 'utf8')) as { architecture: Record<string, unknown> };
    expect(Object.keys(manifest.architecture).sort()).toEqual(['encoderUnits', 'kind']);
  });
});
