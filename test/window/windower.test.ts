import { describe, expect, it } from 'vitest';
import type { Reading } from '../../src/pipeline/types.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower, type WindowPolicy } from '../../src/window/windower.js';

const policy: WindowPolicy = { lookback: 3, maxGapSeconds: 10, outOfOrder: 'drop', missing: 'forward-fill', unknownFeatures: 'ignore' };
const make = (p: Partial<WindowPolicy> = {}) => new Windower({ ...policy, ...p }, new Scaler(identityScalerState(['a', 'b'])));
const r = (entity: string, s: number, a: number, b: number | undefined = a * 10): Reading => ({ entity, ts: s * 1000, values: b === undefined ? { a } : { a, b } });

function windowsOf(w: Windower, readings: Reading[]) {
  return readings.map((x) => w.push(x)).flatMap((res) => (res.kind === 'window' ? [Array.from(res.window.data)] : []));
}

describe('Windower', () => {
  it('keeps entities apart', () => {
    const w = make();
    const out = windowsOf(w, [r('x', 1, 1), r('y', 1, 100), r('x', 2, 2), r('y', 2, 200), r('x', 3, 3)]);
    expect(out).toEqual([[1, 10, 2, 20, 3, 30]]);
    expect(w.entityCount).toBe(2);
  });

  it('reports window start and end timestamps', () => {
    const w = make();
    const results = [r('x', 1, 1), r('x', 2, 2), r('x', 3, 3), r('x', 4, 4)].map((x) => w.push(x));
    const last = results[3];
    expect(last?.kind).toBe('window');
    if (last?.kind === 'window') expect([last.window.startTs, last.window.endTs]).toEqual([2000, 4000]);
  });

  it('drops an out-of-order reading as poison under `drop`, keeping the window', () => {
    const w = make();
    w.push(r('x', 1, 1));
    w.push(r('x', 3, 3));
    const res = w.push(r('x', 2, 2));
    expect(res.kind).toBe('poison');
    if (res.kind === 'poison') expect(res.poison.reason).toBe('out_of_order');
    expect(windowsOf(w, [r('x', 4, 4)])).toEqual([[1, 10, 3, 30, 4, 40]]);
  });

  it('restarts the window from an out-of-order reading under `reset`', () => {
    const w = make({ outOfOrder: 'reset' });
    windowsOf(w, [r('x', 5, 5), r('x', 6, 6)]);
    expect(windowsOf(w, [r('x', 2, 2), r('x', 3, 3), r('x', 4, 4)])).toEqual([[2, 20, 3, 30, 4, 40]]);
    expect(w.stats.resetsOutOfOrder).toBe(1);
  });

  it('resets after a gap longer than maxGap', () => {
    const w = make();
    expect(windowsOf(w, [r('x', 1, 1), r('x', 2, 2), r('x', 30, 3), r('x', 31, 4)])).toEqual([]);
    expect(w.stats.resetsGap).toBe(1);
    expect(windowsOf(w, [r('x', 32, 5)])).toEqual([[3, 30, 4, 40, 5, 50]]);
  });

  it('forward-fills a missing or non-finite value from the last good one', () => {
    const w = make();
    const out = windowsOf(w, [r('x', 1, 1), { entity: 'x', ts: 2000, values: { a: 2 } }, { entity: 'x', ts: 3000, values: { a: 3, b: NaN } }]);
    expect(out).toEqual([[1, 10, 2, 10, 3, 10]]);
    expect(w.stats.forwardFilled).toBe(2);
  });

  it('rejects a missing value with nothing to forward-fill from', () => {
    const res = make().push({ entity: 'x', ts: 1, values: { a: 1 } });
    expect(res.kind === 'poison' && res.poison.reason).toBe('missing_feature');
  });

  it('rejects missing and non-finite values under `reject`', () => {
    const w = make({ missing: 'reject' });
    w.push(r('x', 1, 1));
    const missing = w.push({ entity: 'x', ts: 2000, values: { a: 2 } });
    const nonFinite = w.push({ entity: 'x', ts: 3000, values: { a: 3, b: Infinity } });
    expect(missing.kind === 'poison' && missing.poison.reason).toBe('missing_feature');
    expect(nonFinite.kind === 'poison' && nonFinite.poison.reason).toBe('non_finite_value');
  });

  it('ignores or rejects unknown features per policy', () => {
    const extra: Reading = { entity: 'x', ts: 1000, values: { a: 1, b: 2, c: 3 } };
    expect(make().push(extra).kind).toBe('filling');
    const res = make({ unknownFeatures: 'reject' }).push(extra);
    expect(res.kind === 'poison' && res.poison.detail).toContain('unknown feature "c"');
  });

  it('scales with the fitted scaler', () => {
    const scaler = Scaler.fit('standard', ['a'], [[0], [2], [4]]);
    const w = new Windower({ ...policy, lookback: 2 }, scaler);
    w.push({ entity: 'x', ts: 1, values: { a: 2 } });
    const res = w.push({ entity: 'x', ts: 2, values: { a: 4 } });
    expect(res.kind === 'window' && Array.from(res.window.data).map((v) => v.toFixed(4))).toEqual(['0.0000', (2 / Math.sqrt(8 / 3)).toFixed(4)]);
  });

  it('forgets an entity on drop', () => {
    const w = make();
    windowsOf(w, [r('x', 1, 1), r('x', 2, 2)]);
    w.drop('x');
    expect(windowsOf(w, [r('x', 3, 3)])).toEqual([]);
  });

  it('knows the oldest source offset the next window needs (lookback-1 readings back), through gaps', () => {
    const w = make();
    const at = (x: Reading, offset: number) => w.push(x, { source: 't', offset: String(offset) });
    expect(w.oldestNeededSeq('x')).toBeUndefined();
    at(r('x', 1, 1), 100);
    expect(w.oldestNeededSeq('x')).toBe(100);
    at(r('y', 1, 1), 101);
    at(r('x', 2, 2), 102);
    expect(w.oldestNeededSeq('x')).toBe(100);
    at(r('x', 3, 3), 105);
    // lookback 3: the next window is [102, 105, next]
    expect(w.oldestNeededSeq('x')).toBe(102);
    at(r('x', 4, 4), 109);
    expect(w.oldestNeededSeq('x')).toBe(105);
    // A gap resets the ring: only the reading after it is needed.
    at(r('x', 100, 5), 120);
    expect(w.oldestNeededSeq('x')).toBe(120);
    // y, silent since 1 s while the lane clock is at 100 s, is gone: a restart needs nothing of it.
    expect(w.oldestNeededSeq('y')).toBeUndefined();
    expect(w.lastTs('x')).toBe(100_000);
  });

  it('a new scaler rescales the buffered rows: the next window equals one built from scratch with it', () => {
    const old = new Scaler({ kind: 'standard', features: ['a', 'b'], offset: [1, 10], scale: [2, 4] });
    const next = new Scaler({ kind: 'standard', features: ['a', 'b'], offset: [-3, 0.5], scale: [0.5, 8] });
    const swapped = new Windower(policy, old);
    const fresh = new Windower(policy, next);
    const readings = [r('x', 1, 1), r('x', 2, 2), r('x', 3, 3)];
    readings.slice(0, 2).forEach((x) => swapped.push(x));
    swapped.setScaler(next);
    readings.slice(0, 2).forEach((x) => fresh.push(x));
    const a = swapped.push(readings[2] as Reading);
    const b = fresh.push(readings[2] as Reading);
    if (a.kind !== 'window' || b.kind !== 'window') throw new Error('expected windows');
    expect(Array.from(a.window.data)).toEqual(Array.from(b.window.data).map((v) => expect.closeTo(v, 5)));
    expect(() => swapped.setScaler(new Scaler(identityScalerState(['a', 'c'])))).toThrow('feature list differs');
  });
});

describe('Windower: relative features and restart history', () => {
  it('subtracts the window mean of relative features only, after scaling', () => {
    const scaler = new Scaler({ kind: 'standard', features: ['a', 'b'], offset: [0, 100], scale: [1, 2], relative: ['b'] });
    const w = new Windower(policy, scaler);
    const out = windowsOf(w, [r('x', 1, 1, 100), r('x', 2, 2, 104), r('x', 3, 3, 110)]);
    // a keeps its level; b scaled is [0, 2, 5], mean 7/3.
    expect(out[0]?.map((v) => Number(v.toFixed(4)))).toEqual([1, Number((0 - 7 / 3).toFixed(4)), 2, Number((2 - 7 / 3).toFixed(4)), 3, Number((5 - 7 / 3).toFixed(4))]);
  });

  it('numbers the windows of a run and starts over after a gap', () => {
    const w = make();
    const runs = [1, 2, 3, 4, 5, 20, 21, 22, 23].map((s, i) => w.push(r('x', s, i))).flatMap((res) => (res.kind === 'window' ? [res.window.run] : []));
    expect(runs).toEqual([1, 2, 3, 1, 2]);
  });

  it('keeps the offsets of historyWindows more readings for a restart to re-score', () => {
    const w = new Windower(policy, new Scaler(identityScalerState(['a', 'b'])), 2);
    for (let i = 0; i < 8; i++) w.push(r('x', i + 1, i), { source: 't', offset: String(100 + i) });
    // Next window needs the last lookback - 1 = 2 readings (106, 107); two history windows need 104, 105 too.
    expect(w.oldestNeededSeq('x')).toBe(104);
    // After a gap only the readings since are needed.
    w.push(r('x', 100, 1), { source: 't', offset: '120' });
    expect(w.oldestNeededSeq('x')).toBe(120);
  });

  it('keeps each entity\'s rows, timestamps, offsets and last values apart (they share one buffer per entity): windows equal a plain reference', () => {
    const features = ['a', 'b', 'c'];
    const T = 4;
    const history = 2;
    const w = new Windower({ ...policy, lookback: T }, new Scaler(identityScalerState(features)), history);
    const entities = ['x', 'y', 'z'];
    const rows = new Map<string, number[][]>(entities.map((e) => [e, []]));
    const last = new Map<string, number[]>();
    const offsets = new Map<string, number[]>(entities.map((e) => [e, []]));
    let offset = 0;
    for (let step = 1; step <= 12; step++) {
      for (const [k, entity] of entities.entries()) {
        // Distinct values per entity and step; every third reading of y misses b (forward-filled).
        const values: Record<string, number> = { a: 1000 * k + step, b: -1000 * k - step, c: 0.5 + 1000 * k + step };
        if (entity === 'y' && step % 3 === 0 && step > 1) delete values.b;
        const filled = features.map((f, j) => values[f] ?? (last.get(entity) as number[])[j] as number);
        last.set(entity, filled);
        (rows.get(entity) as number[][]).push(filled);
        (offsets.get(entity) as number[]).push(offset);
        const res = w.push({ entity, ts: step * 1000, values }, { source: 't', offset: String(offset++) });
        const kept = rows.get(entity) as number[][];
        if (kept.length < T) expect(res.kind).toBe('filling');
        else {
          expect(res.kind).toBe('window');
          if (res.kind === 'window') {
            expect(Array.from(res.window.data)).toEqual(kept.slice(-T).flat().map((v) => Math.fround(v)));
            expect([res.window.startTs, res.window.endTs]).toEqual([(step - T + 1) * 1000, step * 1000]);
          }
        }
        const seen = offsets.get(entity) as number[];
        expect(w.oldestNeededSeq(entity)).toBe(seen[Math.max(0, seen.length - (T - 1 + history))]);
      }
    }
    expect(w.stats.forwardFilled).toBe(4);
  });
});
