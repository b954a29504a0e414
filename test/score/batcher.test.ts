import { describe, expect, it } from 'vitest';
import type { Window, WindowScore } from '../../src/domain/types.js';
import { MIN_BUDGET_WINDOWS, MicroBatcher } from '../../src/score/batcher.js';

/** A scorer that records its call sizes; the score is the window's first value, so results can be matched to inputs. */
function recordingScorer() {
  const calls: number[] = [];
  return {
    calls,
    score(windows: Window[]): WindowScore[] {
      calls.push(windows.length);
      return windows.map((w) => ({ entity: w.entity, startTs: w.startTs, endTs: w.endTs, score: w.data[0] as number, featureErrors: new Float32Array(1) }));
    },
  };
}
const win = (entity: string, v: number): Window => ({ entity, startTs: 0, endTs: v, data: Float32Array.of(v) });

describe('MicroBatcher', () => {
  it('scores concurrent submissions in one model call and hands each caller its own scores', async () => {
    const scorer = recordingScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 100, maxDelayMs: 20 });
    const [a, b] = await Promise.all([batcher.score([win('a', 1), win('a', 2)]), batcher.score([win('b', 3)])]);
    expect(scorer.calls).toEqual([3]);
    expect(a.map((s) => [s.entity, s.score])).toEqual([['a', 1], ['a', 2]]);
    expect(b.map((s) => [s.entity, s.score])).toEqual([['b', 3]]);
  });

  it('does not wait for the delay once the batch is full', async () => {
    const scorer = recordingScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 2, maxDelayMs: 60_000 });
    // Not a timing assertion: the full batch must be scored before a 1 s timer fires at all
    // (with a 60 s delay a batcher that waited would lose this race by a minute).
    const winner = await Promise.race([batcher.score([win('a', 1), win('a', 2)]).then((s) => s.length), new Promise((r) => setTimeout(() => r('waited'), 1000).unref())]);
    expect(winner).toBe(2);
    // A submission below maxBatch does wait (else the test above proves nothing).
    const small = batcher.score([win('b', 3)]);
    const raced = await Promise.race([small.then(() => 'scored'), new Promise((r) => setTimeout(() => r('waiting'), 200).unref())]);
    expect(raced).toBe('waiting');
  });

  it('flushes a lone small submission after maxDelayMs, and reports queued windows until then', async () => {
    const scorer = recordingScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 100, maxDelayMs: 10 });
    const pending = batcher.score([win('a', 1)]);
    expect(batcher.queued).toBe(1);
    const drained = batcher.drained();
    await pending;
    await drained;
    expect(batcher.queued).toBe(0);
    expect(scorer.calls).toEqual([1]);
  });

  it('rejects every caller of a failed model call', async () => {
    const batcher = new MicroBatcher({ score: () => { throw new Error('boom'); } }, { maxBatch: 10, maxDelayMs: 1 });
    // allSettled, not all: every caller must see the rejection, not just the first.
    const results = await Promise.allSettled([batcher.score([win('a', 1)]), batcher.score([win('b', 1)])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : ''))).toEqual(['boom', 'boom']);
  });

  it('scores windows queued for two models (a hot swap) each with its own model, in one flush', async () => {
    const old = recordingScorer();
    const next = { calls: [] as number[], score: (ws: Window[]) => (next.calls.push(ws.length), ws.map((w) => ({ entity: w.entity, startTs: 0, endTs: w.endTs, score: 100 + (w.data[0] as number), featureErrors: new Float32Array(1) }))) };
    const batcher = new MicroBatcher(old, { maxBatch: 100, maxDelayMs: 5 });
    const [a, b, c] = await Promise.all([batcher.score([win('a', 1)], old), batcher.score([win('b', 2)], next), batcher.score([win('c', 3), win('c', 4)], old)]);
    expect(old.calls).toEqual([3]);
    expect(next.calls).toEqual([1]);
    expect([a, b, c].map((x) => x.map((s) => s.score))).toEqual([[1], [102], [3, 4]]);
  });

  it('afterNextFlush resolves only once what was queued before it has been scored (a retired model may then be disposed)', async () => {
    const scorer = recordingScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 100, maxDelayMs: 20 });
    await expect(batcher.afterNextFlush()).resolves.toBeUndefined(); // nothing queued: at once
    const pending = batcher.score([win('a', 1)]);
    let flushed = false;
    const after = batcher.afterNextFlush().then(() => {
      flushed = true;
      expect(scorer.calls).toEqual([1]);
    });
    expect(flushed).toBe(false);
    await pending;
    await after;
    expect(flushed).toBe(true);
  });

  it('rejects a negative latency budget', () => {
    expect(() => new MicroBatcher(recordingScorer(), { maxBatch: 10, maxDelayMs: 1, latencyBudgetMs: -1 })).toThrow(/latencyBudgetMs must be >= 0, got -1/);
  });
});

/** A scorer that costs at least `msPerWindow` of wall time per window (it spins), so the batcher's cost estimate has a floor. */
function slowScorer(msPerWindow: number) {
  const calls: number[] = [];
  return {
    calls,
    score(windows: Window[]): WindowScore[] {
      calls.push(windows.length);
      const until = performance.now() + msPerWindow * windows.length;
      while (performance.now() < until) {
        // spin
      }
      return windows.map((w) => ({ entity: w.entity, startTs: w.startTs, endTs: w.endTs, score: w.data[0] as number, featureErrors: new Float32Array(1) }));
    },
  };
}
const many = (entity: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => win(entity, from + i));

describe('MicroBatcher with scoring.latencyBudgetMs', () => {
  it('sizes model calls from the measured cost per window, and hands every caller its own scores in order', async () => {
    const scorer = slowScorer(0.05); // >= 0.05 ms per window: a 5 ms budget allows at most 100
    const batcher = new MicroBatcher(scorer, { maxBatch: 4096, maxDelayMs: 1, latencyBudgetMs: 5 });
    expect(batcher.callLimit).toBe(Infinity); // nothing measured yet
    await batcher.score(many('warm', 200));
    expect(scorer.calls).toEqual([200]);
    expect(batcher.callLimit).toBeGreaterThanOrEqual(MIN_BUDGET_WINDOWS);
    expect(batcher.callLimit).toBeLessThanOrEqual(100);
    scorer.calls.length = 0;
    const [a, b] = await Promise.all([batcher.score(many('a', 300)), batcher.score(many('b', 250, 1000))]);
    expect(scorer.calls.reduce((x, y) => x + y, 0)).toBe(550);
    expect(scorer.calls.length).toBeGreaterThanOrEqual(6);
    for (const n of scorer.calls.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(MIN_BUDGET_WINDOWS);
    for (const n of scorer.calls) expect(n).toBeLessThanOrEqual(100);
    expect(a.map((s) => s.score)).toEqual(many('a', 300).map((w) => w.data[0]));
    expect(b.map((s) => s.score)).toEqual(many('b', 250, 1000).map((w) => w.data[0]));
    expect(a.every((s) => s.entity === 'a') && b.every((s) => s.entity === 'b')).toBe(true);
  });

  it('lets the event loop run between calls, and answers a caller as soon as its own windows are scored', async () => {
    const scorer = slowScorer(0.05);
    const batcher = new MicroBatcher(scorer, { maxBatch: 4096, maxDelayMs: 1, latencyBudgetMs: 5 });
    await batcher.score(many('warm', 200));
    scorer.calls.length = 0;
    const seen: string[] = [];
    const a = batcher.score(many('a', 100)).then(() => seen.push(`a answered after ${scorer.calls.length} call(s)`));
    const b = batcher.score(many('b', 600)).then(() => seen.push(`b answered after ${scorer.calls.length} call(s)`));
    // Due while the flush is running: without the yields it would run only after all of it.
    const io = new Promise<void>((resolve) => setTimeout(() => (seen.push(`timer after ${scorer.calls.length} call(s)`), resolve()), 2));
    await Promise.all([a, b, io]);
    const total = scorer.calls.length;
    expect(total).toBeGreaterThanOrEqual(7);
    expect(seen).toContain(`b answered after ${total} call(s)`);
    const aAfter = Number(/a answered after (\d+)/.exec(seen.join(' '))?.[1]);
    const timerAfter = Number(/timer after (\d+)/.exec(seen.join(' '))?.[1]);
    expect(aAfter).toBeLessThan(total);
    expect(timerAfter).toBeLessThan(total);
  });

  it('rejects exactly the callers with a window in the failed call; the others get their scores', async () => {
    const calls: Set<string>[] = [];
    const failing = 3; // the third call of the split flush (the first is the warm-up)
    const scorer = {
      score(windows: Window[]): WindowScore[] {
        calls.push(new Set(windows.map((w) => w.entity)));
        const until = performance.now() + 0.05 * windows.length;
        while (performance.now() < until) {
          // spin
        }
        if (calls.length === failing) throw new Error('boom');
        return windows.map((w) => ({ entity: w.entity, startTs: 0, endTs: w.endTs, score: 1, featureErrors: new Float32Array(1) }));
      },
    };
    const batcher = new MicroBatcher(scorer, { maxBatch: 4096, maxDelayMs: 1, latencyBudgetMs: 5 });
    await batcher.score(many('warm', 200));
    const names = ['a', 'b', 'c', 'd', 'e'];
    const results = await Promise.allSettled(names.map((n) => batcher.score(many(n, 60))));
    expect(calls.length).toBeGreaterThan(failing);
    const hit = calls[failing - 1] as Set<string>;
    expect(hit.size).toBeGreaterThan(0);
    expect(results.map((r, i) => [names[i], r.status])).toEqual(names.map((n) => [n, hit.has(n) ? 'rejected' : 'fulfilled']));
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
  });

  it('drained() resolves once what was queued before it is scored, across the split calls', async () => {
    const scorer = slowScorer(0.05);
    const batcher = new MicroBatcher(scorer, { maxBatch: 4096, maxDelayMs: 1, latencyBudgetMs: 5 });
    await batcher.score(many('warm', 200));
    let scored = false;
    const done = batcher.score(many('a', 500)).then(() => (scored = true));
    expect(batcher.queued).toBe(500);
    await batcher.drained();
    expect(scored).toBe(true);
    expect(batcher.queued).toBe(0);
    await done;
  });
});

