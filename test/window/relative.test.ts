import { describe, expect, it } from 'vitest';
import { centerWindow, chooseRelativeFeatures, lag1Autocorrelation } from '../../src/window/relative.js';

/** Deterministic pseudo-random numbers in [-0.5, 0.5). */
function noise(seed: number, n: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  });
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('relative features', () => {
  const white = noise(7, 400);
  // A slow wander (a random walk of small steps) with a little noise on top, like a temperature.
  let level = 0;
  const slow = noise(11, 400).map((step, i) => (level += step * 0.2) + (white[i] as number) * 0.05);

  it('lag-1 autocorrelation is near 0 for white noise and near 1 for a slow wander', () => {
    expect(Math.abs(lag1Autocorrelation([white], mean(white)))).toBeLessThan(0.15);
    expect(lag1Autocorrelation([slow], mean(slow))).toBeGreaterThan(0.9);
  });

  it('pools entities without pairing the last reading of one with the first of the next', () => {
    // Two flat stretches at different levels: within each sequence nothing carries over around the pooled mean... except the level.
    const a = [1, -1, 1, -1];
    const b = [-1, 1, -1, 1];
    expect(lag1Autocorrelation([a, b], 0)).toBeCloseTo(-6 / 8, 10);
    expect(lag1Autocorrelation([[...a, ...b]], 0)).toBeCloseTo(-5 / 8, 10);
  });

  it('`auto` picks the slow features; `none` none; a list is checked against the features', () => {
    const columns = [[white], [slow]];
    const means = [mean(white), mean(slow)];
    expect(chooseRelativeFeatures('auto', ['flow', 'temp'], columns, means, 0.5)).toEqual(['temp']);
    expect(chooseRelativeFeatures('none', ['flow', 'temp'], columns, means, 0.5)).toEqual([]);
    expect(chooseRelativeFeatures(['temp'], ['flow', 'temp'], columns, means, 0.5)).toEqual(['temp']);
    expect(() => chooseRelativeFeatures(['tmp'], ['flow', 'temp'], columns, means, 0.5)).toThrow('tmp');
  });

  it('centerWindow removes the window mean of the listed features and leaves the others', () => {
    const data = Float32Array.from([1, 10, 2, 20, 3, 60]);
    centerWindow(data, 3, 2, [1]);
    expect(Array.from(data)).toEqual([1, -20, 2, -10, 3, 30]);
  });
});
