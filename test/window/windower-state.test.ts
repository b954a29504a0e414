import { describe, expect, it } from 'vitest';
import type { Position, Reading } from '../../src/pipeline/types.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower, type PushResult, type WindowPolicy } from '../../src/window/windower.js';

// Bounded, validated window state: timestamps, rejected readings, eviction (issue 12).

const policy: WindowPolicy = { lookback: 3, maxGapSeconds: 10, outOfOrder: 'drop', missing: 'forward-fill', unknownFeatures: 'ignore', maxFutureSeconds: 86_400, maxClockJumpSeconds: 7 * 86_400 };
const DAY = 86_400_000;
/** A replay of 2020 data on a 2026 machine: the wall clock is far ahead of the data. */
const T0 = Date.UTC(2020, 2, 9);
const NOW = Date.UTC(2026, 10, 30);
const make = (p: Partial<WindowPolicy> = {}, now = NOW) => new Windower({ ...policy, ...p }, new Scaler(identityScalerState(['a', 'b'])), 0, () => now);
/** Reading of `entity` at T0 + s seconds. */
const r = (entity: string, s: number, a = s): Reading => ({ entity, ts: T0 + s * 1000, values: { a, b: a * 10 } });
const at = (entity: string, ts: number, a = 1): Reading => ({ entity, ts, values: { a, b: a } });
const kinds = (results: PushResult[]) => results.map((x) => (x.kind === 'poison' ? x.poison.reason : x.kind));

describe('Windower timestamps', () => {
  it('never throws on a timestamp outside what Date can represent, and rejects it without state', () => {
    for (const ts of [1e16, 1e17, -1e16, 8.64e15 + 1, Number.MAX_VALUE, Infinity, -Infinity, NaN]) {
      const w = make({ outOfOrder: 'drop' });
      // The bad reading first and after a good one: the old code accepted 1e16 as a first reading,
      // and the next reading's out_of_order detail then threw RangeError from toISOString.
      const results = [w.push(at('x', ts)), w.push(at('x', T0)), w.push(at('x', ts)), w.push(at('x', T0 + 1000))];
      expect(kinds(results), String(ts)).toEqual(['invalid_timestamp', 'filling', 'invalid_timestamp', 'filling']);
      expect(w.clock).toBe(T0 + 1000);
      for (const res of results) if (res.kind === 'poison') expect(() => JSON.parse(res.poison.raw) as unknown).not.toThrow();
    }
  });

  it('dead-letters a reading dated year 9999 and changes no state: the entity and the lane go on', () => {
    const w = make({}, T0 + 60_000);
    w.push(r('x', 1));
    w.push(r('y', 1));
    w.push(r('x', 2));
    const bad = w.push(at('x', Date.UTC(9999, 0, 1)));
    expect(bad.kind === 'poison' && bad.poison.reason).toBe('invalid_timestamp');
    expect(bad.kind === 'poison' && bad.poison.detail).toMatch(/^x: ts 9999-01-01T00:00:00.000Z is more than 86400 s after it arrived/);
    expect(w.clock).toBe(T0 + 2000);
    expect(w.lastTs('x')).toBe(T0 + 2000);
    // Before: x's later readings were all out_of_order, and y looked silent to the lane clock.
    expect(kinds([w.push(r('x', 3)), w.push(r('y', 2)), w.push(r('y', 3))])).toEqual(['window', 'filling', 'window']);
  });

  it('bounds the future by the Kafka record timestamp when there is one, so a replay decides the same', () => {
    const w = make({ maxFutureSeconds: 60 });
    const sent: Position = { source: 't', offset: '1', timestamp: T0 };
    // The wall clock (2026) is far later, but the record arrived at T0: 2 minutes ahead of that is too far.
    const res = w.push(r('x', 120), sent);
    expect(res.kind === 'poison' && res.poison.reason).toBe('invalid_timestamp');
    expect(w.push(r('x', 30), sent).kind).toBe('filling');
  });

  it('reads the wall clock as it moves on', () => {
    let wall = T0;
    const w = new Windower({ ...policy, maxFutureSeconds: 60 }, new Scaler(identityScalerState(['a', 'b'])), 0, () => wall);
    expect(w.push(r('x', 30)).kind).toBe('filling');
    expect(w.push(r('x', 90)).kind).toBe('poison');
    wall = T0 + 40_000;
    expect(w.push(r('x', 90)).kind).toBe('filling');
  });

  it('rejects a jump of more than maxClockJumpSeconds ahead of the lane clock, even when the wall clock allows it', () => {
    const w = make({ maxClockJumpSeconds: 7 * 86_400 });
    w.push(r('x', 1));
    w.push(r('x', 2));
    const jump = w.push(at('y', T0 + 30 * DAY));
    expect(jump.kind === 'poison' && jump.poison.reason).toBe('invalid_timestamp');
    expect(jump.kind === 'poison' && jump.poison.detail).toContain('window.maxClockJumpSeconds');
    expect(w.clock).toBe(T0 + 2000);
    expect(w.entityCount).toBe(1);
    // The next reading is an ordinary one: the jump is not confirmed and x keeps its window.
    expect(w.push(r('x', 3)).kind).toBe('window');
    expect(w.push(at('y', T0 + 30 * DAY + 1000)).kind).toBe('poison');
  });

  it('lets a lane that resumes after a long silence go on: the next reading confirms the jump', () => {
    const w = make({ maxClockJumpSeconds: 7 * 86_400 });
    w.push(r('x', 1));
    const later = T0 + 8 * DAY;
    expect(kinds([w.push(at('x', later)), w.push(at('y', later + 500)), w.push(at('x', later + 1000)), w.push(at('x', later + 2000))])).toEqual(['invalid_timestamp', 'filling', 'filling', 'filling']);
    expect(w.clock).toBe(later + 2000);
    expect(w.push(at('x', later + 3000)).kind).toBe('window');
  });

  it('has no jump bound for a lane\'s first reading (only the future bound)', () => {
    expect(make({ maxClockJumpSeconds: 1 }).push(r('x', 1)).kind).toBe('filling');
  });
});

describe('Windower validates a reading before it changes state', () => {
  it('`reset` keeps the ring when the out-of-order reading is rejected for a missing value', () => {
    const w = make({ outOfOrder: 'reset', missing: 'reject' });
    w.push(r('x', 5));
    w.push(r('x', 6));
    const bad = w.push({ entity: 'x', ts: T0 + 2000, values: { a: 2 } });
    expect(bad.kind === 'poison' && bad.poison.reason).toBe('missing_feature');
    expect(w.stats.resetsOutOfOrder).toBe(0);
    const next = w.push(r('x', 7));
    expect(next.kind === 'window' && Array.from(next.window.data)).toEqual([5, 50, 6, 60, 7, 70]);
  });

  it('keeps no state for an entity whose first reading is rejected', () => {
    const w = make();
    const res = w.push({ entity: 'ghost', ts: T0, values: { a: 1 } }); // b missing, nothing to forward-fill
    expect(res.kind === 'poison' && res.poison.reason).toBe('missing_feature');
    expect(w.entityCount).toBe(0);
    expect([...w.entities()]).toEqual([]);
    const unknown = make({ unknownFeatures: 'reject' });
    unknown.push({ entity: 'ghost', ts: T0, values: { a: 1, b: 1, c: 1 } });
    expect(unknown.entityCount).toBe(0);
  });

  it('rejects an entity id longer than the limit, with a cut-down id in the detail', () => {
    const w = make({ maxEntityIdLength: 256 });
    const long = 'm'.repeat(10_000);
    const res = w.push(at(long, T0));
    expect(res.kind === 'poison' && res.poison.reason).toBe('invalid_shape');
    expect(res.kind === 'poison' && res.poison.detail).toContain('entity id is 10000 characters, limit 256 (input.maxEntityIdLength)');
    expect(res.kind === 'poison' && res.poison.detail.length).toBeLessThan(400);
    expect(w.entityCount).toBe(0);
    expect(w.push(at('m'.repeat(256), T0)).kind).toBe('filling');
  });
});

describe('Windower state is bounded', () => {
  it('evicts the least recently seen entity when maxEntities is reached', () => {
    const w = make({ maxEntities: 3 });
    for (const e of ['a', 'b', 'c']) w.push(r(e, 1));
    w.push(r('a', 2)); // a is now more recent than b and c
    w.push(r('d', 2));
    expect([...w.entities()].sort()).toEqual(['a', 'c', 'd']);
    expect(w.stats.evictedCapacity).toBe(1);
    for (let i = 0; i < 1000; i++) w.push(r(`flood-${i}`, 3));
    expect(w.entityCount).toBe(3);
  });

  it('an entity evicted for capacity restarts its window exactly as after a gap', () => {
    const seen = (w: Windower, readings: Reading[]) => readings.map((x) => w.push(x)).map((x) => (x.kind === 'window' ? `${Array.from(x.window.data).join()}#${x.window.run}` : x.kind));
    const full = make({ maxEntities: 2 });
    seen(full, [r('b', 1), r('b', 2), r('b', 3), r('c', 3), r('d', 4)]); // d pushes b out
    const gapped = make();
    seen(gapped, [r('b', 1), r('b', 2), r('b', 3)]);
    const next = [5, 6, 7, 8];
    const evicted = seen(full, next.map((s) => r('b', s)));
    expect(evicted).toEqual(seen(gapped, next.map((s) => r('b', s + 60, s))));
    expect(evicted).toEqual(['filling', 'filling', '5,50,6,60,7,70#1', '6,60,7,70,8,80#2']);
  });

  it('drops entities silent for longer than maxGap by the lane clock, and their next reading starts over', () => {
    const w = make();
    w.push(r('slow', 1));
    w.push(r('slow', 2));
    for (let s = 1; s <= 20; s++) w.push(r('busy', s));
    expect([...w.entities()]).toEqual(['busy']);
    expect(w.stats.evictedIdle).toBe(1);
    expect(w.lastTs('slow')).toBeUndefined();
    // slow's ring starts over, even though 5 s is only 3 s after its own last reading: it was
    // silent while the lane clock moved 18 s, and a restarted daemon would not have kept it either.
    expect(kinds([w.push(r('slow', 5)), w.push(r('slow', 6)), w.push(r('slow', 7))])).toEqual(['filling', 'filling', 'window']);
  });

  it('keeps an entity whose clock lags the lane by more than maxGap as long as it keeps reading', () => {
    const w = make();
    const results: PushResult[] = [];
    for (let s = 100; s < 110; s++) {
      w.push(r('ahead', s));
      results.push(w.push(r('behind', s - 60)));
    }
    expect(kinds(results).filter((k) => k === 'window')).toHaveLength(8);
    expect(w.stats.evictedIdle).toBe(0);
  });

  it('a restart that replays from the checkpoint behaves exactly like the windower that kept running', () => {
    // Entities with skewed clocks (some further behind than maxGap), pauses and bursts; at every
    // cut a fresh windower replays from the offset Pipeline.checkpoint commits (the oldest any
    // held entity needs) and must then produce the same windows as the one that kept running.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const skew = [0, 4, 15, 30, 2];
    const last = skew.map(() => 0);
    const stream: Reading[] = [];
    let clock = 0;
    for (let i = 0; i < 400; i++) {
      clock += rand() < 0.05 ? 25 : 1;
      const e = Math.floor(rand() * skew.length);
      const s = Math.max(last[e] as number + 1, clock - (skew[e] as number));
      last[e] = s;
      stream.push(r(`e${e}`, s, i));
    }
    // A restart rebuilds history windows too (the daemon's historyWindows: smoothing + warm-up),
    // so run numbers agree up to history + 1; beyond that they only count on.
    const history = 2;
    const show = (x: PushResult) => (x.kind === 'window' ? `${x.window.entity}:${Array.from(x.window.data).join()}#${Math.min(x.window.run ?? 0, history + 1)}` : x.kind);
    const pos = (i: number): Position => ({ source: 't', offset: String(i) });
    const make = () => new Windower({ ...policy, maxGapSeconds: 10 }, new Scaler(identityScalerState(['a', 'b'])), history, () => NOW);
    const running = make();
    const all = stream.map((x, i) => show(running.push(x, pos(i))));
    let compared = 0;
    for (let cut = 1; cut < stream.length; cut += 7) {
      const before = make();
      stream.slice(0, cut).forEach((x, i) => before.push(x, pos(i)));
      let from: { seq: number; clockBefore: number } | undefined;
      for (const e of before.entities()) {
        const needed = before.oldestNeeded(e);
        if (needed !== undefined && (from === undefined || needed.seq < from.seq)) from = needed;
      }
      const restarted = make();
      if (from !== undefined) restarted.resumeClock(from.clockBefore);
      for (let i = from?.seq ?? cut; i < cut; i++) restarted.push(stream[i] as Reading, pos(i));
      const after = stream.slice(cut).map((x, k) => show(restarted.push(x, pos(cut + k))));
      const diff = after.findIndex((x, k) => x !== all[cut + k]);
      expect(diff === -1 ? 'same' : `cut ${cut} from ${from?.seq}: at ${cut + diff} ${stream[cut + diff]?.entity}@${(stream[cut + diff]?.ts ?? 0) - T0}: ${after[diff]} vs ${all[cut + diff]}`).toBe('same');
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });
});
