import { describe, expect, it } from 'vitest';
import { windowize } from '../../src/jobs/data.js';
import type { Reading } from '../../src/domain/types.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState } from '../../src/window/windower.js';
import { smallConfig } from '../helpers.js';

describe('training leaves out warm-up windows (window.warmupWindows)', () => {
  it('drops the first windows after each start and each gap, keeps the rest', () => {
    const base = smallConfig();
    const cfg = { ...base, window: { ...base.window, lookback: 3, maxGapSeconds: 60, warmupWindows: 2 } };
    // 10 readings, a 10-minute gap, 6 more: runs of 8 and 4 windows.
    const ts = [...Array.from({ length: 10 }, (_, i) => i * 10_000), ...Array.from({ length: 6 }, (_, i) => 700_000 + i * 10_000)];
    const readings: Reading[] = ts.map((t, i) => ({ entity: 'p', ts: t, values: { a: i } }));
    const scaler = new Scaler(identityScalerState(['a']));
    const [kept] = windowize({ byEntity: new Map([['p', readings]]), features: ['a'], poison: [] }, scaler, cfg);
    // Window end values: run 1 ends at a=2 ... a=9, run 2 ends at a=12 ... a=15; minus two of each.
    expect(Array.from(kept!.endTs, (t) => ts.indexOf(t))).toEqual([4, 5, 6, 7, 8, 9, 14, 15]);
    const [all] = windowize({ byEntity: new Map([['p', readings]]), features: ['a'], poison: [] }, scaler, { ...cfg, window: { ...cfg.window, warmupWindows: 0 } });
    expect(all!.set.count).toBe(12);
  });
});
