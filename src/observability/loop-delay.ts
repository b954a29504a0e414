/**
 * Samples how late the event loop runs a timer: every `intervalMs` a timer is due, and the time
 * by which it fired late goes to `observe` (seconds). A loop blocked for 300 ms (a large model
 * call, a GC pause, a big JSON parse) shows as one sample near 0.3 s. It samples in the daemon's
 * own loop, so it sees exactly the stalls that delay fetches, produce acknowledgements and commits.
 */
export class EventLoopDelaySampler {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;

  constructor(
    private readonly observe: (seconds: number) => void,
    private readonly intervalMs = 20,
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`EventLoopDelaySampler: intervalMs must be > 0, got ${intervalMs}`);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.due = performance.now() + this.intervalMs;
    // unref: sampling alone never keeps a process alive.
    this.timer = setTimeout(() => {
      this.observe(Math.max(0, performance.now() - this.due) / 1000);
      if (this.timer !== undefined) this.schedule();
    }, this.intervalMs).unref();
  }
}
