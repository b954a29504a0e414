import { describe, expect, it } from 'vitest';
import { configHash } from '../../src/jobs/train-job.js';
import { parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import type { Reading } from '../../src/pipeline/types.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower, type WindowPolicy } from '../../src/window/windower.js';

const policy: WindowPolicy = { lookback: 3, maxGapSeconds: 10, outOfOrder: 'drop', missing: 'forward-fill', unknownFeatures: 'ignore' };
const make = (p: Partial<WindowPolicy> = {}) => new Windower({ ...policy, ...p }, new Scaler(identityScalerState(['a'])));
const r = (entity: string, s: number): Reading => ({ entity, ts: s * 1000, values: { a: s } });

/** The end second of every window the windower yields for readings at `seconds`, and what each push returned. */
function run(w: Windower, entity: string, seconds: number[]) {
  const kinds = seconds.map((s) => w.push(r(entity, s)));
  return { ends: kinds.flatMap((k) => (k.kind === 'window' ? [k.window.endTs / 1000] : [])), kinds: kinds.map((k) => k.kind) };
}

describe('window.stride', () => {
  it('1 (the default) yields a window for every reading once the ring is full', () => {
    expect(run(make(), 'x', [1, 2, 3, 4, 5, 6]).ends).toEqual([3, 4, 5, 6]);
    expect(run(make({ stride: 1 }), 'x', [1, 2, 3, 4, 5, 6]).ends).toEqual([3, 4, 5, 6]);
  });

  it('k yields the first window of a run and every k-th after it; the others are `skipped`', () => {
    const { ends, kinds } = run(make({ stride: 2 }), 'x', [1, 2, 3, 4, 5, 6, 7]);
    expect(ends).toEqual([3, 5, 7]);
    expect(kinds).toEqual(['filling', 'filling', 'window', 'skipped', 'window', 'skipped', 'window']);
    expect(run(make({ stride: 5 }), 'y', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]).ends).toEqual([3, 8, 13]);
  });

  it('a strided window has the same content as the same window without stride', () => {
    const all = make();
    const strided = make({ stride: 3 });
    const seconds = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const full = new Map<number, number[]>();
    for (const s of seconds) {
      const res = all.push(r('x', s));
      if (res.kind === 'window') full.set(res.window.endTs, Array.from(res.window.data));
    }
    for (const s of seconds) {
      const res = strided.push(r('x', s));
      if (res.kind === 'window') expect(Array.from(res.window.data)).toEqual(full.get(res.window.endTs));
    }
  });

  it('counts per entity, so interleaved entities each get every k-th of their own windows', () => {
    const w = make({ stride: 2 });
    const ends: string[] = [];
    for (let s = 1; s <= 6; s++) {
      for (const e of ['a', 'b']) {
        const res = w.push(r(e, s));
        if (res.kind === 'window') ends.push(`${e}@${res.window.endTs / 1000}`);
      }
    }
    expect(ends).toEqual(['a@3', 'b@3', 'a@5', 'b@5']);
  });

  it('starts counting again when the ring restarts after a gap', () => {
    // maxGap 10 s: 30 -> 50 is a gap, the ring refills from 50 and its first window (at 52) is scored.
    expect(run(make({ stride: 2 }), 'x', [1, 2, 3, 4, 50, 51, 52, 53, 54]).ends).toEqual([3, 52, 54]);
  });

  it('run numbers count every window, scored or not (warm-up is in windows, whatever the stride)', () => {
    const w = make({ stride: 2 });
    const runs = [1, 2, 3, 4, 5, 6, 7].map((s) => w.push(r('x', s))).flatMap((res) => (res.kind === 'window' ? [res.window.run] : []));
    expect(runs).toEqual([1, 3, 5]);
  });

  it('rejects a stride that is not a positive integer, naming the setting', () => {
    expect(() => make({ stride: 0 })).toThrow(/window.stride must be an integer >= 1, got 0/);
    expect(() => make({ stride: 1.5 })).toThrow(/window.stride must be an integer >= 1, got 1.5/);
    expect(() => configSchema.parse({ window: { stride: 0 } })).toThrow(/stride/);
    expect(configSchema.parse({}).window.stride).toBe(1);
  });

  it('does not change the training-config hash: a model trained without it serves any stride', () => {
    const base = configSchema.parse({});
    const strided = configSchema.parse({ window: { stride: 5 } });
    expect(configHash(strided, ['a'])).toBe(configHash(base, ['a']));
    expect(configHash(configSchema.parse({ window: { lookback: 12 } }), ['a'])).not.toBe(configHash(base, ['a']));
  });

  it('must divide window.warmupWindows, so that the first window after the warm-up is scored', () => {
    expect(() => parseConfig('window:\n  warmupWindows: 5\n  stride: 2\n', 'seismo.yaml', {})).toThrow(/window.stride: stride 2 does not divide window.warmupWindows 5/);
    expect(parseConfig('window:\n  warmupWindows: 6\n  stride: 3\n', 'seismo.yaml', {}).window.stride).toBe(3);
  });
});
