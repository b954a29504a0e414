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
});
