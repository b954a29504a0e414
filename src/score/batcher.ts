import type { Window, WindowScore } from '../pipeline/types.js';

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

  constructor(private readonly scorer: BatchScorer, private readonly opts: BatcherOptions) {}

  /** Windows waiting for a model call. */
  get queued(): number {
    return this.queuedWindows;
  }

  score(windows: Window[]): Promise<WindowScore[]> {
    if (windows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ windows, resolve, reject });
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
    const windows = taken.flatMap((p) => p.windows);
    try {
      const started = performance.now();
      const scores = this.scorer.score(windows);
      this.opts.onBatch?.(windows.length, (performance.now() - started) / 1000);
      let from = 0;
      for (const p of taken) {
        p.resolve(scores.slice(from, from + p.windows.length));
        from += p.windows.length;
      }
    } catch (err) {
      for (const p of taken) p.reject(err);
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
