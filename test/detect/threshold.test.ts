import { describe, expect, it } from 'vitest';
import { quantile, quantileThreshold } from '../../src/detect/threshold.js';

describe('quantile threshold', () => {
  it('interpolates linearly like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.99)).toBeCloseTo(9.9);
    expect(quantile([5, 1, 3], 1 - 1e-12)).toBeCloseTo(5);
  });

  it('is multiplier x quantile', () => {
    const errors = Array.from({ length: 101 }, (_, i) => i / 100);
    const t = quantileThreshold(errors, 0.99, 1.5);
    expect(t.base).toBeCloseTo(0.99);
    expect(t.value).toBeCloseTo(1.485);
    expect(t.calibrationWindows).toBe(101);
  });
});
