import { describe, expect, it } from 'vitest';
import { AlertTracker, type AlertSnapshot } from '../../src/detect/alerts.js';
import { LaneChangelog, restoreAlerts, type AlertStateRecord } from '../../src/source/alert-changelog.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/source/kafka-checkpoint.js';
import { smallConfig } from '../helpers.js';

const snap = (i: number): AlertSnapshot => [3, 5, 1, 1_700_000_000_000 + i, 0, 0, 1.2345678901234567, 2.5, i];

describe('Kafka commit checkpoint', () => {
  it('round-trips the processed position in a few bytes, whatever the number of open alerts', () => {
    const metadata = encodeCheckpoint(123456789);
    expect(decodeCheckpoint(metadata)).toEqual({ next: 123456789 });
    expect(metadata.length).toBeLessThan(40);
  });

  it('still reads version-1 commits (alert state in the metadata), so an upgrade keeps open alerts', () => {
    expect(decodeCheckpoint(JSON.stringify({ v: 1, next: 7, a: { p: snap(1) } }))).toEqual({ next: 7, alerts: { p: snap(1) } });
  });

  it('ignores metadata it did not write', () => {
    expect(decodeCheckpoint('')).toBeUndefined();
    expect(decodeCheckpoint(null)).toBeUndefined();
    expect(decodeCheckpoint('some other tool')).toBeUndefined();
    expect(decodeCheckpoint('{"v":99,"next":1,"a":{}}')).toBeUndefined();
  });
  it('carries the lane clock where the replay starts, and still reads metadata without one', () => {
    expect(decodeCheckpoint(encodeCheckpoint(42, 1_764_460_800_123))).toEqual({ next: 42, clock: 1_764_460_800_123 });
    expect(decodeCheckpoint('{"v":1,"next":42,"a":{}}')).toEqual({ next: 42, alerts: {} });
    expect(decodeCheckpoint('{"v":1,"next":42,"c":7,"a":{}}')).toEqual({ next: 42, alerts: {}, clock: 7 });
    expect(encodeCheckpoint(1, -Infinity)).toBe('{"v":2,"next":1}');
  });
});

/** Applies writes to a map the way a compacted topic's newest-record-per-key does. */
function apply(store: Map<string, AlertStateRecord | null>, writes: ReturnType<LaneChangelog['diff']>): void {
  for (const w of writes) store.set(w.entity, w.record);
}

describe('alert-state changelog (the state topic replacing the 4 KB commit metadata)', () => {
  it('writes only what changed; an entity at rest gets a rest record, then a tombstone one chunk later', () => {
    const log = new LaneChangelog();
    expect(log.diff({ a: snap(1), b: snap(2) }, 10).map((w) => w.entity)).toEqual(['a', 'b']);
    expect(log.diff({ a: snap(1), b: snap(2) }, 20)).toEqual([]);
    const changed = log.diff({ a: snap(3), b: snap(2) }, 30);
    expect(changed).toEqual([{ entity: 'a', record: { asOf: 30, cur: snap(3), prev: snap(1) } }]);
    expect(log.diff({ b: snap(2) }, 40)).toEqual([{ entity: 'a', record: { asOf: 40, cur: null, prev: snap(3) } }]);
    expect(log.diff({ b: snap(2) }, 50)).toEqual([{ entity: 'a', record: null }]);
    expect(log.diff({ b: snap(2) }, 60)).toEqual([]);
  });

  it('restores exactly the state of the committed chunk when a crash fell between the state write and the commit', () => {
    // A real alert tracker drives the state; every chunk's state is written, and the commit of
    // chunk k may or may not have happened: either way the restore must equal the tracker's state at the commit.
    const cfg = smallConfig();
    const tracker = new AlertTracker({ ...cfg.alerts, openK: 2, openN: 3, resolveAfter: 3, cooldownWindows: 2, smoothWindows: 1 }, 1, ['x'], 'm');
    const log = new LaneChangelog();
    const store = new Map<string, AlertStateRecord | null>();
    const snapshots: Record<string, AlertSnapshot>[] = [];
    let seen = 0;
    for (let chunk = 1; chunk <= 40; chunk++) {
      for (let i = 0; i < 5; i++) {
        seen++;
        for (const e of ['p', 'q', 'r']) {
          const phase = (seen + (e.charCodeAt(0) - 112) * 4) % 60;
          tracker.observe({ entity: e, startTs: seen, endTs: seen * 1000, score: phase < 9 ? 2 + phase : 0.2, featureErrors: Float32Array.of(1) });
        }
      }
      const state = tracker.snapshot();
      snapshots.push(JSON.parse(JSON.stringify(state)));
      apply(store, log.diff(state, chunk * 5));
      // Committed through chunk - 1 only (the crash came after this chunk's state write):
      const committedBefore = snapshots[chunk - 2] ?? {};
      expect(restoreAlerts(store, (chunk - 1) * 5)).toEqual(committedBefore);
      // Committed through this chunk:
      expect(restoreAlerts(store, chunk * 5)).toEqual(state);
    }
    expect(snapshots.some((s) => Object.keys(s).length === 3)).toBe(true);
    expect(snapshots.some((s) => Object.keys(s).length === 0)).toBe(true);
  });

  it('a lane restored from the store carries on writing records whose prev is the restored state', () => {
    const store = new Map<string, AlertStateRecord | null>([['a', { asOf: 50, cur: snap(5), prev: snap(4) }]]);
    const restored = restoreAlerts(store, 40); // the chunk that wrote asOf 50 was never committed
    expect(restored).toEqual({ a: snap(4) });
    const log = new LaneChangelog(restored);
    expect(log.diff({ a: snap(4) }, 50)).toEqual([]);
    expect(log.diff({ a: snap(6) }, 60)).toEqual([{ entity: 'a', record: { asOf: 60, cur: snap(6), prev: snap(4) } }]);
  });
});
