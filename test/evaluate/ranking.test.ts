import { describe, expect, it } from 'vitest';
import { averagePrecision, recallAtFpr, rocAuc } from '../../src/evaluate/ranking.js';

describe('ranking metrics', () => {
  it('ROC AUC: 1 when separated, 0.5 when all tied, hand-counted pairs otherwise', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    // Positives 0.8, 0.3; negatives 0.5, 0.1: pairs won (0.8>0.5, 0.8>0.1, 0.3>0.1) = 3 of 4.
    expect(rocAuc([0.8, 0.5, 0.3, 0.1], [1, 0, 1, 0])).toBe(0.75);
    // A tie between a positive and a negative counts half: (1 + 0.5) / 2.
    expect(rocAuc([0.5, 0.5, 0.1], [1, 0, 0])).toBe(0.75);
  });

  it('average precision by hand', () => {
    // Ranked: 1 (P 1/1, R 1/2), 0, 1 (P 2/3, R 2/2): AP = 0.5 x 1 + 0.5 x 2/3 = 5/6.
    expect(averagePrecision([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0])).toBeCloseTo(5 / 6);
  });

  it('recall at a false positive rate', () => {
    const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
    const labels = [1, 0, 1, 1, 0, 0, 0, 0, 0, 0];
    // 7 negatives. FPR 0 allows only the top row (recall 1/3); FPR <= 1/7 reaches rows 0..3 (recall 1).
    expect(recallAtFpr(scores, labels, 0.05)).toBeCloseTo(1 / 3);
    expect(recallAtFpr(scores, labels, 0.15)).toBe(1);
  });
});
