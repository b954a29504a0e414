import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseTrainingFeatures } from '../../src/jobs/feature-choice.js';
import type { Reading } from '../../src/domain/types.js';
import { SMALL_CONFIG_YAML, simulatedReadings } from '../helpers.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** 20 readings of flow and pressure, every one also carrying "" and a whitespace-only key. */
function withBlankKeys(): Map<string, Reading[]> {
  const list: Reading[] = Array.from({ length: 20 }, (_, i) => ({ entity: 'p', ts: i * 1000, values: { flow: i, pressure: 2 * i, '': 1.5, '  ': 3 } }));
  return new Map([['p', list]]);
}

describe('training features: blank keys (NDJSON "": 1.5) are never features', () => {
  it('from the data: a blank key every reading carries is left out, listed under ignored with its count and why', () => {
    const choice = chooseTrainingFeatures(withBlankKeys(), undefined);
    expect(choice.features).toEqual(['flow', 'pressure']);
    expect(choice.ignored).toEqual({ '': 20, '  ': 20 });
    expect(Object.keys(choice.unusable ?? {})).toEqual(['', '  ']);
    expect(choice.unusable?.['']).toMatch(/blank name \(empty or whitespace only\)/);
  });

  it('named by the config: blank keys of the data are ignored with why; a config naming a blank feature is refused', () => {
    const choice = chooseTrainingFeatures(withBlankKeys(), ['flow']);
    expect(choice).toMatchObject({ features: ['flow'], ignored: { pressure: 20, '': 20, '  ': 20 } });
    expect(Object.keys(choice.unusable ?? {})).toEqual(['', '  ']);
    expect(() => chooseTrainingFeatures(withBlankKeys(), ['flow', '  '])).toThrow(/the config \(features\) names the feature "  ", a blank name/);
  });

  it('no blank key: nothing is listed as unusable', () => {
    expect(chooseTrainingFeatures(new Map([['p', [{ entity: 'p', ts: 0, values: { flow: 1 } }]]]), undefined).unusable).toBeUndefined();
  });

  it('train on NDJSON with a "" key saves a model that score loads', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-blank-key-'));
    const data = join(dir, 'data.ndjson');
    const config = join(dir, 'c.yaml');
    const sim = simulatedReadings(200, 1);
    writeFileSync(data, sim.all.map((r) => JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: { ...r.values, '': 1.5 } })).join('\n') + '\n');
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('epochs: 3', 'epochs: 2')}artifactDir: ${join(dir, 'model')}\n`);

    const trained = spawnSync('node', [CLI, 'train', '-c', config, '-d', data, '--force'], { encoding: 'utf8' });
    expect(trained.status, trained.stderr).toBe(0);
    const summary = JSON.parse(trained.stdout) as { features: string[]; ignoredKeys?: Record<string, number>; unusableKeys?: Record<string, string> };
    expect(summary.features).not.toContain('');
    expect(summary.features).toEqual(sim.features);
    expect(summary.ignoredKeys).toEqual({ '': 200 });
    expect(summary.unusableKeys?.['']).toMatch(/blank name/);

    const scored = spawnSync('node', [CLI, 'score', '-c', config, '-d', data], { encoding: 'utf8' });
    expect(scored.stderr).not.toContain('SEISMO_MODEL_INVALID');
    expect(scored.status, scored.stderr).toBe(0);
    expect(scored.stdout.trim().split('\n').length).toBeGreaterThan(100);
  });
});
