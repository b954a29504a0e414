import { describe, expect, it } from 'vitest';
import type { Flag } from '../../src/domain/types.js';
import { RefitBuffer } from '../../src/refit/buffer.js';
import { DriftTest } from '../../src/refit/drift.js';
import { percentile, ShadowComparison } from '../../src/refit/promotion.js';
import { mulberry32 } from '../../src/random.js';

const MIN = 60_000;

describe('refit buffer', () => {
  it('leaves out the readings of windows judged abnormal and hands their intervals to training', () => {
    const buf = new RefitBuffer(['a', 'b'], 100, 10);
    for (let i = 0; i < 50; i++) buf.add({ entity: 'e1', ts: i * MIN, values: { a: i, b: -i } });
    // Windows [10..15] and [13..18] (overlapping) over the threshold; [30..32] inside an open alert.
    buf.exclude('e1', 10 * MIN, 15 * MIN);
    buf.exclude('e1', 13 * MIN, 18 * MIN);
    buf.exclude('e1', 30 * MIN, 32 * MIN);
    const out = buf.export();
    const kept = out.readings.map((r) => r.ts / MIN);
    expect(kept).not.toContain(10);
    expect(kept).not.toContain(18);
    expect(kept).not.toContain(31);
    expect(kept).toContain(9);
    expect(kept).toContain(19);
    expect(out.readings).toHaveLength(50 - 9 - 3);
    expect(out.left).toBe(12);
    expect(out.excluded.get('e1')).toEqual([[10 * MIN, 18 * MIN], [30 * MIN, 32 * MIN]]);
    expect(buf.usable()).toBe(38);
    expect(out.readings[0]).toEqual({ entity: 'e1', ts: 0, values: { a: 0, b: -0 } });
  });

  it('is bounded: keeps the newest readings per entity, the first maxEntities entities, and forgets intervals older than what it holds', () => {
    const buf = new RefitBuffer(['a'], 20, 2);
    buf.add({ entity: 'e1', ts: 0, values: { a: 0 } });
    buf.exclude('e1', 0, 2 * MIN);
    for (let i = 1; i < 100; i++) for (const e of ['e1', 'e2', 'e3']) buf.add({ entity: e, ts: i * MIN, values: { a: i } });
    expect(buf.size()).toBe(40);
    const out = buf.export();
    expect(new Set(out.readings.map((r) => r.entity))).toEqual(new Set(['e1', 'e2']));
    expect(out.readings.filter((r) => r.entity === 'e1').map((r) => r.ts / MIN)).toEqual(Array.from({ length: 20 }, (_, i) => 80 + i));
    expect(out.excluded.size).toBe(0);
  });

  it('writes a missing value as a missing key, not as NaN', () => {
    const buf = new RefitBuffer(['a', 'b'], 5, 1);
    buf.add({ entity: 'e', ts: 1, values: { a: 1 } });
    expect(buf.export().readings[0]?.values).toEqual({ a: 1 });
  });
});

describe('drift test (one-sided Page-Hinkley on calm score / threshold)', () => {
  const opts = { slack: 0.1, limit: 20, warmupWindows: 200, maxEntities: 10 };

  it('does not fire on stationary noise', () => {
    const rand = mulberry32(7);
    const test = new DriftTest(opts);
    let fired = 0;
    for (let i = 0; i < 100_000; i++) if (test.observe('e', 0.3 + (rand() - 0.5) * 0.4)) fired++;
    expect(fired).toBe(0);
    expect(test.ratio()).toBeLessThan(0.5);
  });

  it('fires on a level shift of the calm scores, after a delay set by the limit, and only for the entity that shifted', () => {
    const rand = mulberry32(8);
    const test = new DriftTest(opts);
    for (let i = 0; i < 1000; i++) {
      expect(test.observe('steady', 0.3 + (rand() - 0.5) * 0.2)).toBe(false);
      expect(test.observe('shifts', 0.3 + (rand() - 0.5) * 0.2)).toBe(false);
    }
    // Level 0.3 -> 0.6: each window adds about 0.6 - 0.3 - 0.1 = 0.2, so ~100 windows to pass 20.
    let firedAt = -1;
    for (let i = 0; i < 1000 && firedAt < 0; i++) {
      expect(test.observe('steady', 0.3 + (rand() - 0.5) * 0.2)).toBe(false);
      if (test.observe('shifts', 0.6 + (rand() - 0.5) * 0.2)) firedAt = i;
    }
    expect(firedAt).toBeGreaterThan(80);
    expect(firedAt).toBeLessThan(130);
    // After a refit starts it counts from 0 again; after a model change it learns a new reference.
    test.restart();
    expect(test.ratio()).toBe(0);
    expect(test.observe('shifts', 0.6)).toBe(false);
    test.reset();
    for (let i = 0; i < 1000; i++) expect(test.observe('shifts', 0.6 + (rand() - 0.5) * 0.2)).toBe(false);
  });

  it('never fires with limit 0', () => {
    const test = new DriftTest({ ...opts, limit: 0, warmupWindows: 1 });
    test.observe('e', 0);
    for (let i = 0; i < 1000; i++) expect(test.observe('e', 1)).toBe(false);
  });
});

function flag(episode: string, entity: string, state: Flag['state'], openedMin: number, atMin: number, severity: number): Flag {
  return {
    id: `${episode}-${state}-${atMin}`,
    episodeId: episode,
    openedAt: new Date(openedMin * MIN).toISOString(),
    entity,
    state,
    windowStart: new Date((atMin - 5) * MIN).toISOString(),
    windowEnd: new Date(atMin * MIN).toISOString(),
    score: severity,
    threshold: 1,
    severity,
    topFeatures: [],
    model: 'm',
  };
}

describe('promotion rule', () => {
  const rule = { shadowWindows: 100, keepSeverity: 3, minGain: 0.1 };
  const calm = (c: ShadowComparison, live: number, cand: number, n = 100) => {
    for (let i = 0; i < n; i++) {
      c.countWindow();
      c.calmPair(live * (0.5 + i / n / 2), cand * (0.5 + i / n / 2));
    }
  };

  it('waits for refit.shadowWindows windows', () => {
    const c = new ShadowComparison();
    calm(c, 0.9, 0.3, 99);
    expect(c.decide(rule)).toMatchObject({ promote: false, reason: 'too_few_windows' });
  });

  it('promotes a candidate that drops the drift false alarms (severity < keepSeverity) and keeps the clear episode', () => {
    const c = new ShadowComparison();
    calm(c, 0.9, 0.4);
    // Live: a clear fault (severity 8) on e1, and two drift alarms (1.6, 1.9) on e2.
    c.liveFlag(flag('L1', 'e1', 'open', 10, 10, 2));
    c.liveFlag(flag('L1', 'e1', 'update', 10, 12, 8));
    c.liveFlag(flag('L1', 'e1', 'resolved', 10, 30, 0.5));
    c.liveFlag(flag('L2', 'e2', 'open', 40, 40, 1.6));
    c.liveFlag(flag('L3', 'e2', 'open', 80, 80, 1.9));
    // Candidate: opens on the fault (a minute later), nothing on e2.
    c.candidateFlag(flag('C1', 'e1', 'open', 11, 11, 5));
    const d = c.decide(rule);
    expect(d.promote).toBe(true);
    expect(d.summary).toMatchObject({ liveOpenings: 3, candidateOpenings: 1, clearLiveEpisodes: 1, clearEpisodesKept: 1 });
  });

  it('rejects a candidate that misses a clear live episode, however quiet it is', () => {
    const c = new ShadowComparison();
    calm(c, 0.9, 0.2);
    c.liveFlag(flag('L1', 'e1', 'open', 10, 10, 4));
    c.candidateFlag(flag('C1', 'e2', 'open', 10, 10, 4));
    expect(c.decide(rule)).toMatchObject({ promote: false, reason: 'lost_episode' });
  });

  it('an escalation ends the live episode it replaces: a candidate opening only after it did not keep that episode', () => {
    const c = new ShadowComparison();
    calm(c, 0.9, 0.2);
    c.liveFlag(flag('L1', 'e1', 'open', 10, 10, 4));
    c.liveFlag({ ...flag('L2', 'e1', 'open', 20, 20, 20), escalatedFrom: 'L1' });
    c.liveFlag(flag('L2', 'e1', 'resolved', 20, 30, 0.5));
    c.candidateFlag(flag('C1', 'e1', 'open', 25, 25, 9));
    const d = c.decide(rule);
    expect(d).toMatchObject({ promote: false, reason: 'lost_episode' });
    expect(d.summary).toMatchObject({ liveOpenings: 2, clearLiveEpisodes: 2, clearEpisodesKept: 1 });
  });

  it('rejects a candidate that opens more alerts than the live model', () => {
    const c = new ShadowComparison();
    calm(c, 0.9, 0.2);
    c.candidateFlag(flag('C1', 'e1', 'open', 10, 10, 1.2));
    expect(c.decide(rule)).toMatchObject({ promote: false, reason: 'more_alerts' });
  });

  it('with as many openings, promotes only for at least minGain more headroom on the live-calm windows', () => {
    const better = new ShadowComparison();
    calm(better, 0.8, 0.5);
    expect(better.decide(rule)).toMatchObject({ promote: true });
    const same = new ShadowComparison();
    calm(same, 0.8, 0.75);
    const d = same.decide(rule);
    expect(d).toMatchObject({ promote: false, reason: 'no_gain' });
    expect(d.promote === false && d.detail).toMatch(/gain 0\.06\d < refit.minGain 0.1/);
  });

  it('ignores episodes already open when the shadow period began', () => {
    const c = new ShadowComparison();
    calm(c, 0.8, 0.5);
    c.liveFlag(flag('OLD', 'e1', 'update', 1, 20, 9));
    expect(c.summary(3)).toMatchObject({ liveOpenings: 0, clearLiveEpisodes: 0 });
  });

  it('percentile is nearest-rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(percentile([], 0.5)).toBeNaN();
  });
});
