import { describe, expect, it } from 'vitest';
import { Scaler } from '../../src/window/scaler.js';

describe('Scaler', () => {
  it('standardises to mean 0, std 1 on the rows it was fitted on', () => {
    const s = Scaler.fit('standard', ['a'], [[2], [4], [6]]);
    const out = new Float32Array(1);
    s.transformInto([4], out, 0);
    expect(out[0]).toBeCloseTo(0);
    s.transformInto([6], out, 0);
    expect(out[0]).toBeCloseTo(2 / Math.sqrt(8 / 3));
  });

  it('min-max scales to [0, 1]', () => {
    const s = Scaler.fit('minmax', ['a', 'b'], [[0, 10], [10, 30]]);
    const out = new Float32Array(2);
    s.transformInto([5, 30], out, 0);
    expect(Array.from(out)).toEqual([0.5, 1]);
  });

  it('does not divide by zero on a constant feature', () => {
    const s = Scaler.fit('standard', ['a'], [[3], [3]]);
    const out = new Float32Array(1);
    s.transformInto([4], out, 0);
    expect(out[0]).toBe(1);
  });

  it('round-trips through its stored state', () => {
    const s = Scaler.fit('standard', ['a', 'b'], [[1, 2], [3, 5]]);
    const t = new Scaler(JSON.parse(JSON.stringify(s.state)));
    const a = new Float32Array(2), b = new Float32Array(2);
    s.transformInto([2, 9], a, 0);
    t.transformInto([2, 9], b, 0);
    expect(b).toEqual(a);
  });

  it('keeps a small spread on a large level (a counter or an epoch-like column), not a constant', () => {
    // Uniform on base ± 1: std 1/sqrt(3). The one-pass E[x^2] - mean^2 lost it from 1e8 up.
    for (const base of [0, 1e8, 2e8, 1.7e12]) {
      const rows = Array.from({ length: 2000 }, (_, i) => [base + ((i * 0.618034) % 1) * 2 - 1]);
      const s = Scaler.fit('standard', ['meter'], rows);
      expect(s.scale[0], `level ${base}`).toBeCloseTo(1 / Math.sqrt(3), 3);
      // A shift of 10 spreads is seen as one.
      const out = new Float32Array(1);
      s.transformInto([(s.offset[0] as number) + 10 / Math.sqrt(3)], out, 0);
      expect(out[0], `level ${base}`).toBeCloseTo(10, 2);
    }
  });
});
