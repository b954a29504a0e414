import { describe, expect, it } from 'vitest';
import { AlertTracker, topFeatures } from '../../src/detect/alerts.js';
import type { AlertsConfig } from '../../src/config/schema.js';
import type { WindowScore } from '../../src/domain/types.js';

const cfg: AlertsConfig = { openK: 2, openN: 3, smoothWindows: 1, resolveRatio: 0.8, minOpenSeconds: 0, maxOpenSeconds: 0, resolveAfter: 2, cooldownWindows: 2, updateRatio: 1.5, topFeatures: 2, adaptiveHalfLifeWindows: 0, adaptiveWarmupWindows: 50, adaptiveMaxDrift: 2 };
const features = ['a', 'b', 'c'];
let t = 0;
const win = (score: number, entity = 'e1'): WindowScore => {
  t += 1000;
  return { entity, startTs: t - 9000, endTs: t, score, featureErrors: Float32Array.from([score * 0.6, score * 0.3, score * 0.1]) };
};
const run = (tracker: AlertTracker, scores: number[], entity = 'e1') => scores.map((s) => tracker.observe(win(s, entity))?.state ?? '-');

describe('AlertTracker', () => {
  it('opens only on k of n windows above the threshold', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    expect(run(tr, [2, 0.1, 0.1, 2, 0.1, 2])).toEqual(['-', '-', '-', '-', '-', 'open']);
  });

  it('resolves only after enough windows below the hysteresis level', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    // 0.9 is under the threshold but above 0.8 x threshold: not calm yet.
    expect(run(tr, [2, 2, 0.9, 0.9, 0.5, 0.9, 0.5, 0.5])).toEqual(['-', 'open', '-', '-', '-', '-', '-', 'resolved']);
  });

  it('emits update only when severity grows by updateRatio', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    expect(run(tr, [2, 2, 2.5, 3.1, 3.5, 4.6])).toEqual(['-', 'open', '-', 'update', '-', '-']);
  });

  it('keeps an alert open for at least minOpenSeconds however calm the windows (minimum duration)', () => {
    // win() advances 1 s per window; the alert opens on the 2nd window.
    const tr = new AlertTracker({ ...cfg, minOpenSeconds: 5 }, 1, features, 'm1');
    expect(run(tr, [2, 2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])).toEqual(['-', 'open', '-', '-', '-', '-', 'resolved', '-']);
  });

  it('resolves an alert that stays high for maxOpenSeconds as stale, and a persisting condition opens again after the cooldown', () => {
    // win() advances 1 s per window; the alert opens on the 2nd window (t = 2 s) and the
    // scores never come down: without maxOpenSeconds it would stay open for good.
    const tr = new AlertTracker({ ...cfg, maxOpenSeconds: 4 }, 1, features, 'm1');
    const flags = Array.from({ length: 12 }, () => tr.observe(win(2)));
    expect(flags.map((f) => f?.state ?? '-')).toEqual(['-', 'open', '-', '-', '-', 'resolved', '-', '-', 'open', '-', '-', '-']);
    expect(flags[5]?.stale).toBe(true);
    expect(flags[5]?.episodeId).toBe(flags[1]?.episodeId);
    expect(flags[8]?.episodeId).not.toBe(flags[1]?.episodeId);
    // A calm resolve is not stale.
    const calm = run(new AlertTracker({ ...cfg, maxOpenSeconds: 4 }, 1, features, 'm1'), [2, 2, 0.1, 0.1]);
    expect(calm).toEqual(['-', 'open', '-', 'resolved']);
    const off = new AlertTracker(cfg, 1, features, 'm1');
    expect(Array.from({ length: 12 }, () => off.observe(win(2))?.state ?? '-').filter((s) => s !== '-')).toEqual(['open']);
  });

  it('decides a stale resolve the same after a restart from a snapshot (it needs no extra state)', () => {
    const stale: AlertsConfig = { ...cfg, maxOpenSeconds: 30, cooldownWindows: 5 };
    const scores = Array.from({ length: 200 }, (_, i) => (i % 70 < 55 ? 2 : 0.1));
    const at = (i: number, s: number): WindowScore => ({ entity: 'r', startTs: i * 1000, endTs: i * 1000, score: s, featureErrors: Float32Array.of(s, 0, 0) });
    const whole = new AlertTracker(stale, 1, features, 'm');
    const expected = scores.map((s, i) => whole.observe(at(i, s)) ?? null);
    expect(expected.filter((f) => f?.stale).length).toBeGreaterThan(2);
    for (const cut of [20, 33, 36, 90, 150]) {
      const first = new AlertTracker(stale, 1, features, 'm');
      const got = scores.slice(0, cut).map((s, i) => first.observe(at(i, s)) ?? null);
      const second = new AlertTracker(stale, 1, features, 'm');
      for (const [e, sn] of Object.entries(JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<AlertTracker['snapshot']>)) second.restore(e, sn);
      for (let i = cut; i < scores.length; i++) got.push(second.observe(at(i, scores[i] as number)) ?? null);
      expect(got).toEqual(expected);
    }
  });

  it('waits out the cooldown before opening again', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    expect(run(tr, [2, 2, 0.1, 0.1, 2, 2, 2, 2])).toEqual(['-', 'open', '-', 'resolved', '-', '-', 'open', '-']);
  });

  it('keeps entities independent', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    expect(run(tr, [2], 'x')).toEqual(['-']);
    expect(run(tr, [2], 'y')).toEqual(['-']);
    expect(tr.observe(win(2, 'x'))?.state).toBe('open');
    expect(tr.openCount()).toBe(1);
  });

  it('gives stable ids: the same data gives the same flags', () => {
    const ids = () => {
      t = 0;
      const tr = new AlertTracker(cfg, 1, features, 'm1');
      return [2, 2, 4, 0.1, 0.1].map((s) => tr.observe(win(s))?.id).filter(Boolean);
    };
    const first = ids();
    expect(first).toHaveLength(3);
    expect(new Set(first).size).toBe(3);
    expect(ids()).toEqual(first);
  });

  it('carries the DESIGN.md flag fields with attribution', () => {
    const tr = new AlertTracker(cfg, 0.5, features, 'm1');
    tr.observe(win(1));
    const flag = tr.observe(win(1));
    expect(flag).toMatchObject({ entity: 'e1', state: 'open', score: 1, threshold: 0.5, severity: 2, model: 'm1' });
    expect(flag?.topFeatures).toEqual([
      { name: 'a', error: 0.6, share: 0.6 },
      { name: 'b', error: 0.3, share: 0.3 },
    ]);
  });
});

describe('topFeatures', () => {
  it('ranks features by their share of the error', () => {
    expect(topFeatures(Float32Array.from([1, 3, 0]), ['x', 'y', 'z'], 3).map((f) => [f.name, f.share])).toEqual([
      ['y', 0.75],
      ['x', 0.25],
      ['z', 0],
    ]);
  });

  it('a snapshot restored into a fresh tracker continues exactly like the original (checkpoint across a restart)', () => {
    const scores = [2, 2, 2.5, 3.1, 0.5, 4.6, 0.5, 0.9, 0.5, 0.5, 2, 2, 0.1, 2, 2, 2];
    for (let cut = 0; cut < scores.length; cut++) {
      t = 0;
      const whole = new AlertTracker(cfg, 1, features, 'm1');
      const expected = scores.map((s) => whole.observe(win(s)));
      t = 0;
      const before = new AlertTracker(cfg, 1, features, 'm1');
      const head = scores.slice(0, cut).map((s) => before.observe(win(s)));
      const snap = JSON.parse(JSON.stringify(before.snapshot())) as ReturnType<AlertTracker['snapshot']>;
      const after = new AlertTracker(cfg, 1, features, 'm1');
      for (const [entity, st] of Object.entries(snap)) after.restore(entity, st);
      const tail = scores.slice(cut).map((s) => after.observe(win(s)));
      expect([...head, ...tail]).toEqual(expected);
    }
  });

  it('restores exactly with the longest openN the schema allows (32 verdicts in one checkpointed word), and refuses more', async () => {
    const wide = { ...cfg, openK: 2, openN: 32 };
    // One exceedance, then 31 calm windows: it is still the oldest of the last 32 verdicts.
    const scores = [2, ...Array.from({ length: 31 }, () => 0.1), 2, 0.1, 2];
    for (const cut of [1, 20, 32, 33, 34]) {
      t = 0;
      const whole = new AlertTracker(wide, 1, features, 'm1');
      const expected = scores.map((s) => whole.observe(win(s))?.state ?? '-');
      t = 0;
      const before = new AlertTracker(wide, 1, features, 'm1');
      const head = scores.slice(0, cut).map((s) => before.observe(win(s))?.state ?? '-');
      const after = new AlertTracker(wide, 1, features, 'm1');
      for (const [entity, st] of Object.entries(JSON.parse(JSON.stringify(before.snapshot())) as ReturnType<AlertTracker['snapshot']>)) after.restore(entity, st);
      expect([...head, ...scores.slice(cut).map((s) => after.observe(win(s))?.state ?? '-')], `cut ${cut}`).toEqual(expected);
    }
    const { parseConfig } = await import('../../src/config/load.js');
    expect(() => parseConfig('alerts:\n  openK: 2\n  openN: 40\n', 'opn.yaml')).toThrow(/opn\.yaml:3.*openN/s);
  });

  it('is at rest (nothing to checkpoint) only with no open alert, no cooldown and no recent exceedance', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    expect(tr.atRest('e1')).toBe(true);
    run(tr, [2]);
    expect(tr.atRest('e1')).toBe(false);
    expect(Object.keys(tr.snapshot())).toEqual(['e1']);
    run(tr, [0.1, 0.1, 0.1]);
    expect(tr.atRest('e1')).toBe(true);
    expect(tr.snapshot()).toEqual({});
    expect(run(tr, [2, 2])).toEqual(['-', 'open']);
    expect(tr.openCount()).toBe(1);
    expect(tr.atRest('e1')).toBe(false);
  });
});

describe('AlertTracker score smoothing (smoothWindows)', () => {
  const smooth = { ...cfg, openK: 1, openN: 1, smoothWindows: 3 };
  const scored = (score: number, run?: number): WindowScore => ({ ...win(score), ...(run !== undefined ? { run } : {}) });

  it('judges the mean of the last smoothWindows scores: a sustained small excess opens, one spike does not', () => {
    const tr = new AlertTracker(smooth, 1, features, 'm1');
    // A single 2.2 among 0.3s: mean of three 0.93 stays under 1.
    expect([0.3, 0.3, 2.2, 0.3, 0.3].map((s) => tr.observe(scored(s))?.state ?? '-')).toEqual(['-', '-', '-', '-', '-']);
    // 1.2 three times: (0.3 + 0.3 + 1.2) / 3, then (0.3 + 1.2 + 1.2) / 3 stay under 1; the third mean is 1.2.
    const flags = [1.2, 1.2, 1.2].map((s) => tr.observe(scored(s)));
    expect(flags.map((f) => f?.state ?? '-')).toEqual(['-', '-', 'open']);
    // Flags report the smoothed score the threshold was compared with, and the window's own.
    expect(flags[2]?.score).toBeCloseTo(1.2, 6);
    expect(tr.observe(scored(3.3))).toMatchObject({ state: 'update', score: 1.9, windowScore: 3.3 });
  });

  it('starts over when the window ring did (run 1): scores from before a gap are not averaged in', () => {
    const tr = new AlertTracker(smooth, 1, features, 'm1');
    expect(tr.observe(scored(0.1, 1))).toBeUndefined();
    expect(tr.observe(scored(0.1, 2))).toBeUndefined();
    // Averaged with the two 0.1s this would be 0.47; after the restart it stands alone.
    expect(tr.observe(scored(1.2, 1))?.state).toBe('open');
    const continuing = new AlertTracker(smooth, 1, features, 'm1');
    expect([0.1, 0.1, 1.2].map((s, i) => continuing.observe(scored(s, i + 1))?.state)).toEqual([undefined, undefined, undefined]);
  });

  it('a tracker restored from a snapshot plus the remembered last scores judges exactly like the uninterrupted one', () => {
    const scores = Array.from({ length: 200 }, (_, i) => 0.5 + 0.7 * Math.sin(i / 6) + (i % 13 === 0 ? 1.5 : 0));
    const cfg4 = { ...cfg, smoothWindows: 4, resolveAfter: 3 };
    const whole = new AlertTracker(cfg4, 1, features, 'm1');
    const all = scores.map((s, i) => whole.observe({ ...win(s), startTs: i, endTs: i, run: i + 1 }));
    expect(new Set(all.map((f) => f?.state))).toEqual(new Set([undefined, 'open', 'resolved']));
    for (const cut of [17, 50, 101]) {
      const before = new AlertTracker(cfg4, 1, features, 'm1');
      scores.slice(0, cut).forEach((s, i) => before.observe({ ...win(s), startTs: i, endTs: i, run: i + 1 }));
      const after = new AlertTracker(cfg4, 1, features, 'm1');
      for (const [entity, snap] of Object.entries(JSON.parse(JSON.stringify(before.snapshot())) as ReturnType<AlertTracker['snapshot']>)) after.restore(entity, snap);
      // The replay re-scores the smoothWindows - 1 windows before the cut (their runs start at 1 again).
      scores.slice(cut - 3, cut).forEach((s, k) => after.remember({ ...win(s), run: k + 1 }));
      const rest = scores.slice(cut).map((s, k) => after.observe({ ...win(s), startTs: cut + k, endTs: cut + k, run: k + 4 }));
      expect(rest.map((f) => f && [f.state, f.score])).toEqual(all.slice(cut).map((f) => f && [f.state, f.score]));
    }
  });

  it('a model swap starts the histories over: old-model scores are not averaged with new ones', () => {
    const tr = new AlertTracker(smooth, 1, features, 'm1');
    tr.observe(scored(0.1));
    tr.observe(scored(0.1));
    tr.setModel(1, 'm2');
    expect(tr.observe(scored(1.2))?.state).toBe('open');
  });

  it('does not judge or remember the warm-up windows of a run; the history starts after them', () => {
    const tr = new AlertTracker(smooth, 1, features, 'm1', 2);
    // Runs 1-2 are warm-up: a start-up transient of 9 neither opens nor lingers in the mean.
    expect([9, 9, 0.9, 0.9, 0.9].map((s, i) => tr.observe(scored(s, i + 1))?.state)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    tr.remember(scored(9, 1)); // a replayed warm-up window is ignored too
    // After a gap (run 1 again) the warm-up repeats, then the history holds only 1.2.
    expect([9, 9, 1.2].map((s, i) => tr.observe(scored(s, i + 1))?.state)).toEqual([undefined, undefined, 'open']);
  });
});

describe('AlertTracker online adaptation (alerts.adaptiveHalfLifeWindows)', () => {
  const adaptive: AlertsConfig = { ...cfg, openK: 3, openN: 5, resolveAfter: 5, adaptiveHalfLifeWindows: 200, adaptiveWarmupWindows: 50, adaptiveMaxDrift: 3 };
  /** Normal scores whose level creeps from 0.5 to 1.3 (the calibrated threshold is 1), with a little noise. */
  const drifting = Array.from({ length: 3000 }, (_, i) => (0.5 + (0.8 * i) / 3000) * (1 + 0.05 * Math.sin(i * 1.7)));

  it('follows slow drift of normal scores: the drifting stream pages without adaptation and not with it', () => {
    const fixed = run(new AlertTracker({ ...adaptive, adaptiveHalfLifeWindows: 0 }, 1, features, 'm'), drifting, 'd1');
    expect(fixed).toContain('open');
    const tracked = run(new AlertTracker(adaptive, 1, features, 'm'), drifting, 'd2');
    expect(tracked).not.toContain('open');
  });

  it('does not absorb an anomaly: a long one stays open at the threshold it opened with, and resolves when it ends', () => {
    const tr = new AlertTracker(adaptive, 1, features, 'm');
    const flags: { state: string; threshold: number }[] = [];
    const feed = (scores: number[]) => {
      for (const s of scores) {
        const f = tr.observe(win(s, 'a1'));
        if (f) flags.push({ state: f.state, threshold: f.threshold });
      }
    };
    feed(Array.from({ length: 500 }, (_, i) => 0.5 * (1 + 0.05 * Math.sin(i))));
    feed(Array.from({ length: 2000 }, () => 3));
    expect(flags.map((f) => f.state)).toEqual(['open']);
    expect(flags[0]?.threshold).toBeCloseTo(1, 1);
    feed(Array.from({ length: 50 }, () => 0.5));
    expect(flags.map((f) => f.state)).toEqual(['open', 'resolved']);
    // The 2,000 anomalous windows taught it nothing: the threshold is where it was.
    expect(flags[1]?.threshold).toBeCloseTo(flags[0]?.threshold ?? 0, 6);
  });

  it('restores exactly from a snapshot: a restart mid-stream gives the flags of an uninterrupted run', () => {
    const scores = [...drifting.slice(0, 1500), ...Array.from({ length: 40 }, () => 4), ...drifting.slice(1500)];
    const whole = new AlertTracker(adaptive, 1, features, 'm');
    const expected = scores.map((s, i) => whole.observe({ entity: 'r', startTs: i, endTs: i * 1000, score: s, featureErrors: Float32Array.of(s, 0, 0) }) ?? null);
    for (const cut of [700, 1520, 2200]) {
      const first = new AlertTracker(adaptive, 1, features, 'm');
      const got = scores.slice(0, cut).map((s, i) => first.observe({ entity: 'r', startTs: i, endTs: i * 1000, score: s, featureErrors: Float32Array.of(s, 0, 0) }) ?? null);
      const snap = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<AlertTracker['snapshot']>;
      expect(snap.r?.length).toBe(12);
      const second = new AlertTracker(adaptive, 1, features, 'm');
      for (const [e, sn] of Object.entries(snap)) second.restore(e, sn);
      for (let i = cut; i < scores.length; i++) got.push(second.observe({ entity: 'r', startTs: i, endTs: i * 1000, score: scores[i] as number, featureErrors: Float32Array.of(scores[i] as number, 0, 0) }) ?? null);
      expect(got).toEqual(expected);
    }
  });
});
