import type { Window, WindowScore } from '../domain/types.js';

export interface BatchScorer {
  score(windows: Window[]): WindowScore[];
}

export interface BatcherOptions {
  maxBatch: number;
  /** Longest a submitted window waits for others to share its model call. */
  maxDelayMs: number;
  /** Called with each model call's size and duration, for metrics. */
  onBatch?: (windows: number, seconds: number) => void;
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
 * goes as soon as it is full, or after maxDelayMs at the latest, so the wait is bounded.
 */
export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedWindows = 0;
  private timer: NodeJS.Timeout | undefined;
  private drainWaiters: (() => void)[] = [];
  private flushWaiters: (() => void)[] = [];

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

  /** Resolves after the next flush: from then on nothing queued before this call is pending (a retired model may be disposed). */
  afterNextFlush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    // A zero timeout still lets callers that are ready in the same turn join this batch.
    this.timer = setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.timer = undefined;
    const taken = this.queue;
    this.queue = [];
    this.queuedWindows = 0;
    for (const scorer of new Set(taken.map((p) => p.scorer))) {
      const group = taken.filter((p) => p.scorer === scorer);
      try {
        const started = performance.now();
        const scores = scorer.score(group.flatMap((p) => p.windows));
        this.opts.onBatch?.(scores.length, (performance.now() - started) / 1000);
        let from = 0;
        for (const p of group) {
          p.resolve(scores.slice(from, from + p.windows.length));
          from += p.windows.length;
        }
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
    const waiters = [...this.drainWaiters, ...this.flushWaiters];
    this.drainWaiters = [];
    this.flushWaiters = [];
    for (const w of waiters) w();
  }
}
