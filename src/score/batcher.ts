import type { Window, WindowScore } from '../domain/types.js';

export interface BatchScorer {
  /** In this thread (WindowScore[]) or in a scoring worker (a Promise: the event loop runs on meanwhile). */
  score(windows: Window[]): WindowScore[] | Promise<WindowScore[]>;
  /** The reconstruction of each window's last timestep, [windows][features], scaled (Scorer.reconstruct); for explaining flags. */
  reconstruct?(windows: Window[]): Float32Array;
}

export interface BatcherOptions {
  maxBatch: number;
  /** Longest a submitted window waits for others to share its model call. */
  maxDelayMs: number;
  /** Called with each model call's size and duration, for metrics. */
  onBatch?: (windows: number, seconds: number) => void;
  /**
   * Batches handed to an asynchronous scorer (a scoring worker) and not yet back; default 1.
   * While that many are out, new windows queue (and the source's maxQueuedWindows backpressure
   * applies to them): the next batch forms while the worker scores, and memory stays bounded.
   */
  maxInFlight?: number;
}

interface Pending {
  windows: Window[];
  scorer: BatchScorer;
  resolve: (scores: WindowScore[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Micro-batcher: windows submitted by concurrent callers (one per Kafka partition) are scored
 * together, because one model call of 256 windows costs little more than one of 16. A batch
 * goes as soon as it is full, or after maxDelayMs at the latest, so the wait is bounded. With an
 * asynchronous scorer, a batch that comes due while maxInFlight batches are out goes as soon as
 * one of them is back, with everything queued meanwhile.
 */
export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedWindows = 0;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];
  private flushWaiters: (() => void)[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly defaultScorer: BatchScorer, private readonly opts: BatcherOptions) {}

  /** Windows waiting for a model call. */
  get queued(): number {
    return this.queuedWindows;
  }

  /**
   * Scores `windows` with `scorer` (the model they were built for: after a hot swap, windows
   * queued before it still go to the old model), sharing model calls with other callers.
   */
  score(windows: Window[], scorer: BatchScorer = this.defaultScorer): Promise<WindowScore[]> {
    if (windows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ windows, scorer, resolve, reject });
      this.queuedWindows += windows.length;
      if (this.queuedWindows >= this.opts.maxBatch || this.opts.maxDelayMs === 0) this.flushSoon();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.maxDelayMs);
    });
  }

  /** Resolves once nothing is queued (backpressure: a paused partition waits for this). */
  drained(): Promise<void> {
    if (this.queuedWindows === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Resolves once the next flush has been scored: from then on nothing queued before this call
   * is pending (a retired model may be disposed). With nothing queued, once the batches in
   * flight are back.
   */
  afterNextFlush(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.queue.length > 0 ? this.flushWaiters : this.idleWaiters).push(resolve));
  }

  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    // A zero timeout still lets callers that are ready in the same turn join this batch.
    this.timer = setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.timer = undefined;
    // A batch is out: this one goes when it is back (settled() flushes), larger by then.
    if (this.inFlight >= (this.opts.maxInFlight ?? 1)) return;
    const taken = this.queue;
    this.queue = [];
    this.queuedWindows = 0;
    const outstanding: Promise<void>[] = [];
    for (const scorer of new Set(taken.map((p) => p.scorer))) {
      const pending = this.run(scorer, taken.filter((p) => p.scorer === scorer));
      if (pending !== undefined) outstanding.push(pending);
    }
    // Nothing is queued any more: paused partitions may go on while the worker scores.
    const drained = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of drained) w();
    const flushed = this.flushWaiters;
    this.flushWaiters = [];
    if (outstanding.length === 0 && this.inFlight === 0) for (const w of flushed) w();
    else void Promise.all(outstanding).then(() => this.whenIdle(flushed));
  }

  /** Scores one scorer's share of a flush; a Promise while an asynchronous scorer works on it. */
  private run(scorer: BatchScorer, group: Pending[]): Promise<void> | undefined {
    const started = performance.now();
    const deliver = (scores: WindowScore[]) => {
      this.opts.onBatch?.(scores.length, (performance.now() - started) / 1000);
      let from = 0;
      for (const p of group) {
        p.resolve(scores.slice(from, from + p.windows.length));
        from += p.windows.length;
      }
    };
    const fail = (err: unknown) => {
      for (const p of group) p.reject(err);
    };
    let result: WindowScore[] | Promise<WindowScore[]>;
    try {
      result = scorer.score(group.flatMap((p) => p.windows));
    } catch (err) {
      fail(err);
      return undefined;
    }
    if (!(result instanceof Promise)) {
      deliver(result);
      return undefined;
    }
    this.inFlight++;
    return result.then(deliver, fail).finally(() => {
      this.inFlight--;
      this.settled();
    });
  }

  /** A batch is back: what queued meanwhile has waited long enough, it goes now. */
  private settled(): void {
    if (this.queue.length > 0) this.flushSoon();
    else if (this.inFlight === 0) this.whenIdle([]);
  }

  /** Flush waiters resolve once no batch is out any more (nothing submitted before them is pending). */
  private whenIdle(waiters: (() => void)[]): void {
    this.idleWaiters.push(...waiters);
    if (this.inFlight > 0) return;
    const ready = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ready) w();
  }
}
