import { describe, expect, it } from 'vitest';
import type { AlertsConfig } from '../../src/config/schema.js';
import { AlertTracker } from '../../src/detect/alerts.js';
import type { Flag, WindowScore } from '../../src/domain/types.js';

const cfg: AlertsConfig = { openK: 2, openN: 3, smoothWindows: 1, resolveRatio: 0.8, minOpenSeconds: 0, resolveAfter: 2, cooldownWindows: 5, updateRatio: 1.5, topFeatures: 2 };
const features = ['a', 'b', 'c'];

/** Windows one second apart; `run` restarts at 1 where the windower's ring restarted (a gap). */
function feed(tracker: AlertTracker, windows: [score: number, run: number][], entity = 'pump-1', start = Date.UTC(2026, 0, 1)): (Flag | undefined)[] {
  return windows.map(([score, run], i): Flag | undefined => {
    const endTs = start + i * 1000;
    const s: WindowScore = { entity, startTs: endTs - 9000, endTs, score, featureErrors: Float32Array.from([score, 0, 0]), run };
    return tracker.observe(s);
  });
}

describe('alert episodes', () => {
  it('open, update and resolved of one episode share an episodeId and openedAt; the next episode gets another', () => {
    const tr = new AlertTracker({ ...cfg, cooldownWindows: 0 }, 1, features, 'm1');
    const flags = feed(tr, [[2, 1], [2, 2], [4, 3], [0.1, 4], [0.1, 5], [2, 6], [2, 7]]).filter((f): f is Flag => f !== undefined);
    expect(flags.map((f) => f.state)).toEqual(['open', 'update', 'resolved', 'open']);
    const [open, update, resolved, next] = flags as [Flag, Flag, Flag, Flag];
    expect(update.episodeId).toBe(open.episodeId);
    expect(resolved.episodeId).toBe(open.episodeId);
    expect(resolved.openedAt).toBe(open.windowEnd);
    expect(next.episodeId).not.toBe(open.episodeId);
    expect(next.openedAt).toBe(next.windowEnd);
  });

  it('the episode id survives a model hot swap (the episode carries on), unlike the flag id', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    const [, open] = feed(tr, [[2, 1], [2, 2]]);
    tr.setModel(1, 'm2');
    const [update] = feed(tr, [[4, 3]], 'pump-1', Date.UTC(2026, 0, 1) + 2000);
    expect(update?.state).toBe('update');
    expect(update?.episodeId).toBe(open?.episodeId);
    expect(update?.model).toBe('m2');
  });
});

describe('an open alert across a gap in the data', () => {
  it('stays open: the new stretch is not judged during its warm-up, and the episode resolves only on calm windows after the gap', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1', 2);
    // Open (run 3, 4 past warm-up 2), gap (run restarts at 1), high warm-up windows, then calm.
    const flags = feed(tr, [[0.1, 1], [0.1, 2], [2, 3], [2, 4], [9, 1], [9, 2], [0.1, 3], [0.1, 4]]);
    expect(flags.map((f) => f?.state ?? '-')).toEqual(['-', '-', '-', 'open', '-', '-', '-', 'resolved']);
    // Warm-up windows after the gap (score 9) were not judged: no update.
    expect(flags[7]?.episodeId).toBe(flags[3]?.episodeId);
    expect(tr.openCount()).toBe(0);
  });

  it('a high stretch after the gap continues the same episode (an update, same episodeId)', () => {
    const tr = new AlertTracker(cfg, 1, features, 'm1');
    const flags = feed(tr, [[2, 1], [2, 2], [2, 1], [4, 2]]);
    expect(flags.map((f) => f?.state ?? '-')).toEqual(['-', 'open', '-', 'update']);
    expect(flags[3]?.episodeId).toBe(flags[1]?.episodeId);
    expect(tr.openCount()).toBe(1);
  });
});
