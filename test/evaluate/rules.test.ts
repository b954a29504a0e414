import { describe, expect, it } from 'vitest';
import { detectionDelays, edges, episodes, intervalsToRows, publishedRule } from '../../src/evaluate/rules.js';

describe('evaluation rules', () => {
  it('published rule: a row is anomalous once the last `lookback` windows are all above', () => {
    const scores = [NaN, NaN, 2, 2, 2, 0, 2, 2, 2, 2];
    expect(Array.from(publishedRule(scores, 1, 3))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 1, 1]);
  });

  it('published rule: a missing window breaks the run', () => {
    expect(Array.from(publishedRule([2, 2, NaN, 2, 2, 2], 1, 2))).toEqual([0, 1, 0, 0, 1, 1]);
  });

  it('edges are the switches of a binary series, both ways', () => {
    expect(edges([0, 1, 1, 0, 0, 1], [10, 11, 12, 13, 14, 15])).toEqual([11, 13, 15]);
  });

  it('episodes and detection delays', () => {
    const labels = [0, 1, 1, 1, 0, 0, 1, 1, 0];
    const pred = [0, 0, 0, 1, 1, 0, 0, 0, 1];
    const ts = [0, 10, 20, 30, 40, 50, 60, 70, 80];
    expect(episodes(labels)).toEqual([{ from: 1, to: 3 }, { from: 6, to: 7 }]);
    // The first episode is caught at row 3 (20 ms late); the second never (row 8 is after it).
    expect(detectionDelays(pred, labels, ts)).toEqual({ episodes: 2, detected: 1, delaysMs: [20] });
  });

  it('intervals to rows, clipped to the series', () => {
    expect(Array.from(intervalsToRows(6, [[-2, 0], [3, 9]]))).toEqual([1, 0, 0, 1, 1, 1]);
  });
});
