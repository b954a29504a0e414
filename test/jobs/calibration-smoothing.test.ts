import { describe, expect, it } from 'vitest';
import { fitScaler } from '../../src/jobs/data.js';
import { smoothedPerEntity } from '../../src/jobs/train-job.js';
import type { Reading } from '../../src/domain/types.js';

describe('calibration on smoothed held-out errors', () => {
  it('averages trailing runs per entity, never across two entities, and drops the partial means', () => {
    const errors = Float32Array.from([1, 2, 3, 4, 10, 20, 30]);
    expect(Array.from(smoothedPerEntity(errors, [4, 3], 2))).toEqual([1.5, 2.5, 3.5, 15, 25]);
    // An entity with fewer windows than the smoothing keeps its partial means.
    expect(Array.from(smoothedPerEntity(errors, [4, 1, 2], 3))).toEqual([2, 3, 10, 20, 25]);
    expect(smoothedPerEntity(errors, [7], 1)).toBe(errors);
  });
});

describe('fitScaler picks relative features per training.relativeFeatures', () => {
  // flow: alternating noise; temp: a slow ramp. Two entities.
  const readings = (entity: string, shift: number): Reading[] =>
    Array.from({ length: 200 }, (_, i) => ({ entity, ts: 1000 * i, values: { flow: 30 + (i % 2 === 0 ? 0.5 : -0.5) * ((i * 7) % 5), temp: 70 + shift + i * 0.01 } }));
  const data = { byEntity: new Map([['p1', readings('p1', 0)], ['p2', readings('p2', 3)]]), features: ['flow', 'temp'], poison: [] };

  it('auto: the slow feature only; the choice is stored with the scaler', () => {
    const scaler = fitScaler(data, { scaler: 'standard', relativeFeatures: 'auto', relativeAutocorrelation: 0.5 });
    expect(scaler.state.relative).toEqual(['temp']);
    expect(scaler.relativeIndices).toEqual([1]);
  });

  it('none by default; an unknown name is a config error naming it', () => {
    expect(fitScaler(data, { scaler: 'standard', relativeFeatures: 'none', relativeAutocorrelation: 0.5 }).state.relative).toEqual([]);
    expect(() => fitScaler(data, { scaler: 'standard', relativeFeatures: ['tmp'], relativeAutocorrelation: 0.5 })).toThrow(/training.relativeFeatures: .*tmp/);
  });
});
