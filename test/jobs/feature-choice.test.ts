import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseTrainingFeatures, modelFeaturesAt } from '../../src/jobs/feature-choice.js';
import type { Reading } from '../../src/domain/types.js';

/** 20 readings of flow and pressure, one of which also carries a stray key. */
function withStrayKey(): Map<string, Reading[]> {
  const list: Reading[] = Array.from({ length: 20 }, (_, i) => ({ entity: 'p', ts: i * 1000, values: { flow: i, pressure: 2 * i } }));
  (list[7] as Reading).values.debug_counter = 1;
  return new Map([['p', list]]);
}

describe('training features', () => {
  it('from the data: only keys at least half of the readings carry; the stray key is reported, not trained on', () => {
    const choice = chooseTrainingFeatures(withStrayKey(), undefined);
    expect(choice).toEqual({ features: ['flow', 'pressure'], from: 'data', ignored: { debug_counter: 1 }, readings: 20 });
  });

  it('named by the config or the model being retrained: exactly those, every other key reported', () => {
    expect(chooseTrainingFeatures(withStrayKey(), ['pressure'])).toMatchObject({ features: ['pressure'], from: 'config', ignored: { flow: 20, debug_counter: 1 } });
    expect(chooseTrainingFeatures(withStrayKey(), undefined, ['flow', 'pressure'])).toMatchObject({ features: ['flow', 'pressure'], from: 'model', ignored: { debug_counter: 1 } });
    // The config wins over the model.
    expect(chooseTrainingFeatures(withStrayKey(), ['flow'], ['flow', 'pressure']).from).toBe('config');
  });

  it('refuses a named feature that no reading carries', () => {
    expect(() => chooseTrainingFeatures(withStrayKey(), undefined, ['flow', 'temperature'])).toThrow(/feature temperature named by the model being retrained is in none of the 20 readings \(keys seen: flow, pressure, debug_counter\)/);
  });

  it('reads the features of the model in service from its manifest, none when there is no model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-model-'));
    expect(modelFeaturesAt(join(dir, 'none'))).toBeUndefined();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'manifest.json'), JSON.stringify({ formatVersion: 1, version: 'v', created: '2026-01-01T00:00:00Z', features: ['flow', 'pressure'], lookback: 10, configHash: 'c', dataHash: 'd', backend: 'cpu', training: {}, architecture: {} }));
    expect(modelFeaturesAt(join(dir, 'm'))).toEqual(['flow', 'pressure']);
  });
});
