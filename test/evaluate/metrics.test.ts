import { describe, expect, it } from 'vitest';
import { addConfusion, confusion, meanStd, pointMetrics } from '../../src/evaluate/metrics.js';

describe('point metrics', () => {
  it('counts a hand-made confusion matrix', () => {
    //          pred: 1  1  0  0  1  0  0  0
    //        actual: 1  0  1  1  1  0  0  0
    const c = confusion([1, 1, 0, 0, 1, 0, 0, 0], [1, 0, 1, 1, 1, 0, 0, 0]);
    expect(c).toEqual({ tp: 2, fp: 1, fn: 2, tn: 3 });
    const m = pointMetrics(c);
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.recall).toBeCloseTo(0.5);
    // F1 = 2 * (2/3 * 1/2) / (2/3 + 1/2) = 4/7
    expect(m.f1).toBeCloseTo(4 / 7);
    expect(m.far).toBeCloseTo(1 / 4);
    expect(m.mar).toBeCloseTo(2 / 4);
  });

  it('pools files before taking ratios (SKAB counts points over all files)', () => {
    const a = confusion([1, 1], [1, 1]);
    const b = confusion([1, 0, 0, 0], [0, 1, 1, 1]);
    const pooled = pointMetrics(addConfusion(a, b));
    // tp 2, fp 1, fn 3: recall 2/5, precision 2/3, F1 = 2*(2/3)(2/5)/((2/3)+(2/5)) = 0.5
    expect(pooled.f1).toBeCloseTo(0.5);
    expect(pooled.far).toBe(1);
  });

  it('gives 0, not NaN, for empty denominators', () => {
    const m = pointMetrics(confusion([0, 0], [0, 0]));
    expect([m.precision, m.recall, m.f1, m.far, m.mar]).toEqual([0, 0, 0, 0, 0]);
  });

  it('refuses misaligned predictions', () => {
    expect(() => confusion([1], [1, 0])).toThrow(/1 predictions for 2 labels/);
  });

  it('mean and sample std', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([7])).toEqual({ mean: 7, std: 0 });
  });
});
