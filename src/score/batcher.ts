import type { Window, WindowScore } from '../domain/types.js';

export interface BatchScorer {
  score(windows: Window[]): WindowScore[];
}

export interface BatcherOptions {
  maxBatch: number;
  /** Longest a submitted window waits for others to share its model call. */
  maxDelayMs: number;
  /**
   * 0: a flush scores everything queued in one synchronous call (the event loop is blocked for
   * all of it). > 0: a flush scores in calls sized to take about this long (from the measured
   * cost per window) and yields to the event loop between them, so fetches, acknowledgements
   * and commits go on, and each caller gets its scores as soon as its own windows are done.
   */
  latencyBudgetMs?: number;
  /** Called with each model call's size and duration, for metrics. */
  onBatch?: (windows: number, seconds: number) => void;
}

interface Pending {
  windows: Window[];
  scorer: BatchScorer;
  resolve: (scores: WindowScore[]) => void;
  reject: (err: unknown) => void;
}

/** Under a latency budget, no call is sized below this: smaller calls pay the per-call overhead for little gain. */
export const MIN_BUDGET_WINDOWS = 64;
/** Weight of the newest call in the running cost per window (exponential moving average). */
const COST_SMOOTHING = 0.2;

/**
 * Micro-batcher: windows submitted by concurrent callers (one per Kafka partition) are scored
 * together, because one model call of 256 windows costs little more than one of 16. A batch
 * goes as soon as it is full, or after maxDelayMs at the latest, so the wait is bounded.
 */
export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedWindows = 0;
  /** Windows taken by a running flush and not scored yet. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  /** Flush rounds started and finished; a waiter is due once a round that started after it has finished. */
  private roundsStarted = 0;
  private roundsDone = 0;
  private waiters: { round: number; resolve: () => void }[] = [];
  /** Running estimate of a model call's seconds per window (calls of at least MIN_BUDGET_WINDOWS). */
  private secondsPerWindow: number | undefined;

  constructor(private readonly defaultScorer: BatchScorer, private readonly opts: BatcherOptions) {
    const budget = opts.latencyBudgetMs ?? 0;
    if (!(budget >= 0)) throw new RangeError(`MicroBatcher: latencyBudgetMs must be >= 0, got ${budget}`);
  }

  /** Windows waiting for a model call, or in one. */
  get queued(): number {
    return this.queuedWindows + this.inFlight;
  }

  /** Windows per model call the latency budget allows now (Infinity without a budget or before the first measurement). */
  get callLimit(): number {
    const budget = this.opts.latencyBudgetMs ?? 0;
    if (budget === 0 || this.secondsPerWindow === undefined) return Infinity;
    return Math.max(MIN_BUDGET_WINDOWS, Math.floor(budget / 1000 / this.secondsPerWindow));
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
      if (this.flushing) return; // the running flush takes it in its next round
      if (this.queuedWindows >= this.opts.maxBatch || this.opts.maxDelayMs === 0) this.flushSoon();
      else this.timer ??= setTimeout(() => void this.flush(), this.opts.maxDelayMs);
    });
  }

  /** Resolves once everything queued before the call is scored (backpressure: a paused partition waits for this). */
  drained(): Promise<void> {
    return this.afterNextFlush();
  }

  /** Resolves once nothing queued before this call is pending (a retired model may then be disposed). */
  afterNextFlush(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return Promise.resolve();
    // Due once the round that takes the current queue has finished (the running round's windows
    // finish before it), or as soon as the batcher is idle with nothing queued.
    const round = this.roundsStarted + 1;
    return new Promise((resolve) => this.waiters.push({ round, resolve }));
  }

  private flushSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    // A zero timeout still lets callers that are ready in the same turn join this batch.
    this.timer = setTimeout(() => void this.flush(), 0);
  }

  /** Rounds until the queue is empty: each takes the whole queue and scores it, model by model. */
  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const taken = this.queue;
        this.queue = [];
        this.inFlight += this.queuedWindows;
        this.queuedWindows = 0;
        this.roundsStarted++;
        for (const scorer of new Set(taken.map((p) => p.scorer))) await this.scoreGroup(taken.filter((p) => p.scorer === scorer), scorer);
        this.roundsDone++;
        this.releaseWaiters();
      }
    } finally {
      this.flushing = false;
      this.releaseWaiters();
    }
  }

  /**
   * Scores one model's pending submissions in calls of at most callLimit windows, in submission
   * order; without a budget that is one call, and nothing yields.
   */
  private async scoreGroup(group: Pending[], scorer: BatchScorer): Promise<void> {
    const results = group.map(() => [] as WindowScore[]);
    const failed = new Set<number>();
    let p = 0; // submission being taken
    let w = 0; // its next window
    let answered = 0; // submissions before this one have been resolved or rejected
    while (p < group.length) {
      const limit = this.callLimit;
      const slice: Window[] = [];
      const owners: number[] = [];
      while (p < group.length && slice.length < limit) {
        const { windows } = group[p] as Pending;
        const n = Math.min(windows.length - w, limit - slice.length);
        for (let i = 0; i < n; i++) {
          slice.push(windows[w + i] as Window);
          owners.push(p);
        }
        w += n;
        if (w === windows.length) {
          p++;
          w = 0;
        }
      }
      this.scoreSlice(slice, owners, scorer, results, failed, group);
      this.inFlight -= slice.length;
      // Submissions whose last window was in this slice have all their scores: hand them over now.
      for (; answered < p; answered++) if (!failed.has(answered)) (group[answered] as Pending).resolve(results[answered] as WindowScore[]);
      if (p < group.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private scoreSlice(slice: Window[], owners: number[], scorer: BatchScorer, results: WindowScore[][], failed: Set<number>, group: Pending[]): void {
    try {
      const started = performance.now();
      const scores = scorer.score(slice);
      const seconds = (performance.now() - started) / 1000;
      this.opts.onBatch?.(scores.length, seconds);
      if (scores.length >= MIN_BUDGET_WINDOWS) {
        const perWindow = seconds / scores.length;
        this.secondsPerWindow = this.secondsPerWindow === undefined ? perWindow : this.secondsPerWindow + COST_SMOOTHING * (perWindow - this.secondsPerWindow);
      }
      scores.forEach((s, i) => (results[owners[i] as number] as WindowScore[]).push(s));
    } catch (err) {
      // Everyone with a window in the failed call is rejected (once); the pipeline then scores
      // their windows one by one to find the one at fault.
      for (const i of new Set(owners)) {
        if (failed.has(i)) continue;
        failed.add(i);
        (group[i] as Pending).reject(err);
      }
    }
  }

  private releaseWaiters(): void {
    const due = this.waiters.filter((x) => x.round <= this.roundsDone || (!this.flushing && this.queue.length === 0));
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((x) => !due.includes(x));
    for (const x of due) x.resolve();
  }
}
