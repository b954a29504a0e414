import { describe, expect, it } from 'vitest';
import { temporalize } from '../../src/window/temporalize.js';

describe('temporalize', () => {
  it('turns a small array into exactly the hand-checked lookback windows (stride 1)', () => {
    const rows = [
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
      [5, 50],
    ];
    expect(temporalize(rows, 3)).toEqual([
      [[1, 10], [2, 20], [3, 30]],
      [[2, 20], [3, 30], [4, 40]],
      [[3, 30], [4, 40], [5, 50]],
    ]);
  });

  it('gives no window while fewer rows than the lookback have arrived', () => {
    expect(temporalize([[1], [2]], 3)).toEqual([]);
    expect(temporalize([[1], [2], [3]], 3)).toEqual([[[1], [2], [3]]]);
  });
});
