import { describe, expect, it } from 'vitest';
import type { Window, WindowScore } from '../../src/domain/types.js';
import { MicroBatcher } from '../../src/score/batcher.js';

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
    const scores = await batcher.score([win('a', 1), win('a', 2)]);
    expect(scores).toHaveLength(2);
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
    await expect(Promise.all([batcher.score([win('a', 1)]), batcher.score([win('b', 1)])])).rejects.toThrow('boom');
  });
});
