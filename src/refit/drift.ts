/**
 * The drift test: a one-sided Page-Hinkley test per entity on the live model's calm scores
 * divided by its threshold (x, about 0..1). Each entity's first `warmupWindows` calm windows
 * under a model set its reference level m; after them S = max(0, S + x - m - slack), and the
 * test fires when S > limit. Only a sustained rise of the calm level counts (one noisy window
 * adds at most 1 - m - slack), and only calm windows feed it, so an anomaly (alerted, or over
 * the threshold) is not drift. Pure and synchronous.
 */
export interface DriftOptions {
  slack: number;
  /** 0: the test never fires. */
  limit: number;
  warmupWindows: number;
  maxEntities: number;
}

interface EntityDrift {
  n: number;
  reference: number;
  sum: number;
}

export class DriftTest {
  private readonly entities = new Map<string, EntityDrift>();

  constructor(private readonly opts: DriftOptions) {}

  /** Feeds one calm window's normalised score; true when this window makes the test fire. */
  observe(entity: string, x: number): boolean {
    if (!Number.isFinite(x)) return false;
    let e = this.entities.get(entity);
    if (e === undefined) {
      if (this.entities.size >= this.opts.maxEntities) return false;
      e = { n: 0, reference: 0, sum: 0 };
      this.entities.set(entity, e);
    }
    e.n++;
    if (e.n <= this.opts.warmupWindows) {
      e.reference += (x - e.reference) / e.n;
      return false;
    }
    e.sum = Math.max(0, e.sum + x - e.reference - this.opts.slack);
    return this.opts.limit > 0 && e.sum > this.opts.limit;
  }

  /** The largest statistic over the entities as a fraction of the limit (1: fires). For metrics. */
  ratio(): number {
    let max = 0;
    for (const e of this.entities.values()) if (e.sum > max) max = e.sum;
    return this.opts.limit > 0 ? max / this.opts.limit : 0;
  }

  /** After a refit started: count again from 0, keeping the reference levels (same model). */
  restart(): void {
    for (const e of this.entities.values()) e.sum = 0;
  }

  /** A new model scores on another scale: every entity learns its reference again. */
  reset(): void {
    this.entities.clear();
  }
}
