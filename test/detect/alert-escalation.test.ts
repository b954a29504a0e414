import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import { parseConfig } from '../../src/config/load.js';
import type { AlertsConfig } from '../../src/config/schema.js';
import type { Flag, WindowScore } from '../../src/domain/types.js';
import { alertEpisodes } from '../../src/evaluate/skab.js';
import { openingRows } from '../../src/evaluate/nab-protocol.js';
import { intervalsFromFlags } from '../../src/jobs/kafka-data.js';

const cfg: AlertsConfig = { openK: 2, openN: 3, smoothWindows: 1, resolveRatio: 0.8, minOpenSeconds: 0, maxOpenSeconds: 0, escalateRatio: 4, resolveAfter: 2, cooldownWindows: 2, updateRatio: 1.5, topFeatures: 1, adaptiveHalfLifeWindows: 0, adaptiveWarmupWindows: 50, adaptiveMaxDrift: 2 };
const at = (i: number, score: number, entity = 'e'): WindowScore => ({ entity, startTs: i * 1000, endTs: i * 1000, score, featureErrors: Float32Array.of(score) });
const feed = (tr: AlertTracker, scores: number[]) => scores.map((s, i) => tr.observe(at(i, s)) ?? null);

describe('alerts.escalateRatio: a jump far above an open alert\'s peak pages as a new episode', () => {
  // Opens at 2 (peak 2.5), then a second, much larger event at 12 > 4 x 2.5, then calm.
  const scores = [0.1, 2, 2.5, 2, 2, 12, 12, 0.1, 0.1, 0.1];

  it('opens a new episode on the jump, naming the one it replaces; that one gets no resolved flag', () => {
    const flags = feed(new AlertTracker(cfg, 1, ['a'], 'm'), scores).filter((f): f is Flag => f !== null);
    expect(flags.map((f) => f.state)).toEqual(['open', 'open', 'resolved']);
    const [first, second, resolved] = flags as [Flag, Flag, Flag];
    expect(first.escalatedFrom).toBeUndefined();
    expect(second.escalatedFrom).toBe(first.episodeId);
    expect(second.episodeId).not.toBe(first.episodeId);
    expect(second.openedAt).toBe(new Date(5000).toISOString());
    expect(resolved.episodeId).toBe(second.episodeId);
  });

  it('is off by default: the same jump is an update of the open alert', () => {
    const off = parseConfig('', 'x.yaml').alerts;
    expect(off.escalateRatio).toBe(0);
    const flags = feed(new AlertTracker({ ...cfg, escalateRatio: off.escalateRatio }, 1, ['a'], 'm'), scores).filter((f) => f !== null);
    expect(flags.map((f) => f?.state)).toEqual(['open', 'update', 'resolved']);
  });

  it('never escalates a score that climbs steadily, however high, nor a jump below the ratio', () => {
    const climb = [0.1, 2, 2, 3, 5, 8, 13, 20, 32, 50, 80, 130];
    expect(feed(new AlertTracker(cfg, 1, ['a'], 'm'), climb).filter((f) => f?.state === 'open')).toHaveLength(1);
    const small = [0.1, 2, 2.5, 2, 9.9, 9.9, 0.1];
    expect(feed(new AlertTracker(cfg, 1, ['a'], 'm'), small).filter((f) => f?.state === 'open')).toHaveLength(1);
  });

  it('decides the same after a restart from a snapshot taken at any point (it needs no extra state)', () => {
    const long = Array.from({ length: 120 }, (_, i) => [0.1, 2, 2, 2, 9, 9, 40, 40, 0.1, 0.1, 0.1, 0.1][i % 12] as number);
    const expected = feed(new AlertTracker(cfg, 1, ['a'], 'm'), long);
    expect(expected.filter((f) => f?.escalatedFrom !== undefined).length).toBeGreaterThan(10);
    for (const cut of [3, 5, 6, 7, 50, 101]) {
      const first = new AlertTracker(cfg, 1, ['a'], 'm');
      const got = long.slice(0, cut).map((s, i) => first.observe(at(i, s)) ?? null);
      const second = new AlertTracker(cfg, 1, ['a'], 'm');
      for (const [e, sn] of Object.entries(JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<AlertTracker['snapshot']>)) second.restore(e, sn);
      for (let i = cut; i < long.length; i++) got.push(second.observe(at(i, long[i] as number)) ?? null);
      expect(got).toEqual(expected);
    }
  });

  it('a hot-swapped model whose scores run 10x larger does not escalate the open alert; a real jump still does', () => {
    const tr = new AlertTracker(cfg, 1, ['a'], 'm1');
    feed(tr, [0.1, 2, 2.5]);
    tr.setModel(10, 'm2');
    const after = [25, 20, 24, 120].map((s, i) => tr.observe(at(10 + i, s)) ?? null);
    expect(after.map((f) => f?.state ?? '-')).toEqual(['-', '-', '-', 'open']);
    expect(after[3]?.escalatedFrom).toBeDefined();
  });

  it('keeps openCount at one open alert per entity through an escalation', () => {
    const tr = new AlertTracker(cfg, 1, ['a'], 'm');
    feed(tr, scores.slice(0, 7));
    expect(tr.openCount()).toBe(1);
  });

  it('refuses a ratio at or below 1 (every window would escalate), naming the key', () => {
    expect(() => parseConfig('alerts:\n  escalateRatio: 1\n', 'x.yaml')).toThrow(/alerts\.escalateRatio/);
    expect(() => parseConfig('alerts:\n  escalateRatio: 0.5\n', 'x.yaml')).toThrow(/alerts\.escalateRatio/);
  });

  it('the NAB protocol counts an escalation as an opening (the 0/1 alert rows cannot show it)', () => {
    const config = parseConfig('alerts:\n  openK: 2\n  openN: 3\n  resolveAfter: 2\n  escalateRatio: 4\n', 'x.yaml');
    const ts = Float64Array.from(scores, (_, i) => i * 1000);
    const { open, openings } = alertEpisodes(config, 1, { ts, scores: Float64Array.from(scores), featureErrors: [], features: ['a'] });
    expect(openings).toEqual([2, 5]);
    expect(openingRows(open)).toEqual([2]);
  });

  it('flag intervals read back from a topic end the replaced episode where the new one starts', () => {
    const flags = feed(new AlertTracker(cfg, 1, ['a'], 'm'), scores).filter((f): f is Flag => f !== null);
    const intervals = intervalsFromFlags([...flags].reverse());
    expect(intervals.get('e')).toEqual([
      [2000, 5000],
      [5000, 8000],
    ]);
  });
});
