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

  /** An asynchronous scorer (as the scoring worker is) whose batches finish when the test says so. */
  function heldScorer() {
    const calls: number[] = [];
    const release: (() => void)[] = [];
    return {
      calls,
      release,
      score(windows: Window[]): Promise<WindowScore[]> {
        calls.push(windows.length);
        return new Promise((resolve) => release.push(() => resolve(recordingScorer().score(windows))));
      },
    };
  }
  const turn = () => new Promise((r) => setTimeout(r, 5));

  it('with an asynchronous scorer, keeps one batch out and forms the next from everything queued meanwhile', async () => {
    const scorer = heldScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 2, maxDelayMs: 0 });
    const first = batcher.score([win('a', 1), win('a', 2)]);
    await turn();
    expect(scorer.calls).toEqual([2]);
    // While the first batch is out, three submissions queue; none is sent.
    const later = [batcher.score([win('b', 3)]), batcher.score([win('c', 4), win('c', 5)]), batcher.score([win('d', 6)])];
    await turn();
    expect(scorer.calls).toEqual([2]);
    expect(batcher.queued).toBe(4);
    let drained = false;
    void batcher.drained().then(() => (drained = true));
    let retiredSafe = false;
    void batcher.afterNextFlush().then(() => (retiredSafe = true));
    scorer.release[0]?.();
    expect((await first).map((s) => s.score)).toEqual([1, 2]);
    await turn();
    // Back: the queue went as one batch; the source may go on (drained) while it scores...
    expect(scorer.calls).toEqual([2, 4]);
    expect(drained).toBe(true);
    // ...but what was queued before afterNextFlush is not scored yet.
    expect(retiredSafe).toBe(false);
    scorer.release[1]?.();
    expect((await Promise.all(later)).map((x) => x.map((s) => s.score))).toEqual([[3], [4, 5], [6]]);
    await turn();
    expect(retiredSafe).toBe(true);
  });

  it('with an asynchronous scorer, afterNextFlush with nothing queued waits for the batch that is out', async () => {
    const scorer = heldScorer();
    const batcher = new MicroBatcher(scorer, { maxBatch: 1, maxDelayMs: 0 });
    const out = batcher.score([win('a', 1)]);
    await turn();
    let done = false;
    void batcher.afterNextFlush().then(() => (done = true));
    await turn();
    expect(done).toBe(false);
    scorer.release[0]?.();
    await out;
    await turn();
    expect(done).toBe(true);
  });

  it('with an asynchronous scorer, a failed batch rejects its callers and the next batch still goes', async () => {
    let n = 0;
    const batcher = new MicroBatcher({ score: async (ws: Window[]) => (n++ === 0 ? Promise.reject(new Error('worker said no')) : recordingScorer().score(ws)) }, { maxBatch: 1, maxDelayMs: 0 });
    const first = Promise.allSettled([batcher.score([win('a', 1)])]);
    await turn();
    const [[a], [b]] = await Promise.all([first, Promise.allSettled([batcher.score([win('b', 2)])])]);
    expect(a?.status === 'rejected' && (a.reason as Error).message).toBe('worker said no');
    expect(b?.status === 'fulfilled' && b.value.map((s) => s.score)).toEqual([2]);
  });
});
