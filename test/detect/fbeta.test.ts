import { describe, expect, it } from 'vitest';
import { fbetaThreshold } from '../../src/detect/fbeta.js';

describe('F-beta optimal threshold', () => {
  it('cuts between the classes when they separate', () => {
    const t = fbetaThreshold([0.1, 0.9, 0.3, 0.2, 0.8], [0, 1, 1, 0, 1]);
    expect(t.value).toBeCloseTo(0.25);
    expect(t.fbeta).toBe(1);
  });

  it('never splits tied scores', () => {
    // Cutting at 1 would need to separate the two 1s; the best legal cut takes both: P 1/2, R 1.
    const t = fbetaThreshold([1, 1, 0], [1, 0, 0]);
    expect(t.value).toBeCloseTo(0.5);
    expect(t.fbeta).toBeCloseTo(2 / 3);
  });

  it('beta > 1 trades precision for recall', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const labels = [1, 1, 0, 0, 1, 0];
    // F1 prefers the top two (P 1, R 2/3, F1 0.8) over the top five (P 3/5, R 1, F1 0.75);
    // F2 prefers the top five (F2 = 5 x 0.6 / (4 x 0.6 + 1) = 0.882 vs 0.714).
    expect(fbetaThreshold(scores, labels, 1).recall).toBeCloseTo(2 / 3);
    expect(fbetaThreshold(scores, labels, 2).recall).toBe(1);
  });
});
