import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffArtifacts, inspectArtifact, listArtifacts } from '../../src/model/inspect.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'seismo-models-'));

/** An artifact's JSON files as `seismo train` writes them (the model files are not read here). */
function artifact(name: string, over: { features?: string[]; threshold?: number; created?: string; lr?: number } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    formatVersion: 1,
    version: `seismo-${name}`,
    created: over.created ?? '2026-11-01T00:00:00.000Z',
    features: over.features ?? ['flow', 'pressure'],
    lookback: 10,
    configHash: `cfg-${over.lr ?? 0.003}`,
    dataHash: 'data-1',
    backend: 'tensorflow',
    training: { path: 'block-lstm', epochsRun: 20, bestEpoch: 15, loss: 0.5, valLoss: 0.6, seconds: Math.random(), trainWindows: 300, validationWindows: 75, baselines: { constant: 0.9, windowMean: 0.55 } },
    architecture: { kind: 'lstm', encoderUnits: [64, 32] },
    software: { seismo: '0.1.0', tfjs: '4.22.0', tensorflow: '2.12.1', node: '20.20.2' },
    trainingData: { entities: 2, readings: 800, from: '2026-10-01T00:00:00.000Z', to: '2026-10-02T00:00:00.000Z' },
    weightsSha256: 'ab'.repeat(32),
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'threshold.json'), JSON.stringify({ value: over.threshold ?? 1.25, method: 'stddev', quantile: 0.99, multiplier: 1.5, base: 1, calibrationWindows: 75 }));
  return dir;
}

const a = artifact('a');
const b = artifact('b', { features: ['flow', 'temperature'], threshold: 2.5, created: '2026-11-02T00:00:00.000Z', lr: 0.005 });
mkdirSync(join(root, 'not-a-model'));

describe('seismo models', () => {
  it('inspect: version, features, lookback, threshold and method, data hash and range, metrics, created, versions', () => {
    expect(inspectArtifact(a)).toMatchObject({
      version: 'seismo-a',
      created: '2026-11-01T00:00:00.000Z',
      seismo: '0.1.0',
      features: ['flow', 'pressure'],
      lookback: 10,
      threshold: { value: 1.25, method: 'stddev', calibrationWindows: 75 },
      dataHash: 'data-1',
      trainingData: { entities: 2, readings: 800, from: '2026-10-01T00:00:00.000Z' },
      training: { bestEpoch: 15, valLoss: 0.6, baselines: { constant: 0.9 } },
      software: { tfjs: '4.22.0', tensorflow: '2.12.1' },
    });
    expect(() => inspectArtifact(join(root, 'not-a-model'))).toThrow(/no model artifact at .*not-a-model \(missing manifest.json\)/);
  });

  it('list: the artifacts under a directory, newest first, skipping other directories', () => {
    expect(listArtifacts(root).map((s) => s.version)).toEqual(['seismo-b', 'seismo-a']);
    expect(listArtifacts(a).map((s) => s.version)).toEqual(['seismo-a']);
  });

  it('diff: the fields that differ, features as added and removed names; training time is not a difference', () => {
    expect(diffArtifacts(inspectArtifact(a), inspectArtifact(b))).toEqual([
      'features: -pressure +temperature',
      'configHash: "cfg-0.003" -> "cfg-0.005"',
      'threshold.value: 1.25 -> 2.5',
      'version: "seismo-a" -> "seismo-b"',
    ]);
    expect(diffArtifacts(inspectArtifact(a), inspectArtifact(a))).toEqual([]);
  });

  it('the CLI prints them', () => {
    const run = (args: string[]) => spawnSync('node', [CLI, 'models', ...args], { encoding: 'utf8' });
    const list = run(['list', root]);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^dir\s+version\s+created\s+features\s+lookback\s+threshold\s+seismo$/);
    expect(list.stdout).toMatch(/seismo-b\s+2026-11-02T00:00:00.000Z\s+2\s+10\s+2.500 \(stddev\)\s+0.1.0/);
    expect(JSON.parse(run(['inspect', a]).stdout)).toMatchObject({ version: 'seismo-a' });
    expect(run(['diff', a, b]).stdout).toContain('threshold.value: 1.25 -> 2.5');
    expect(run(['diff', a, a]).stdout).toBe('no differences\n');
    const missing = run(['inspect', join(root, 'nope')]);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('SEISMO_MODEL_MISSING');
  });
});
