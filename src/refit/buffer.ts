import type { Reading } from '../domain/types.js';

/** Per entity, time intervals [start, end] (epoch ms, inclusive) that must not be learned as normal. */
export type ExcludedIntervals = Map<string, [number, number][]>;

interface EntityRing {
  ts: Float64Array;
  /** Row-major [capacity][features], in the model's feature order; NaN for a missing value. */
  values: Float64Array;
  head: number;
  count: number;
  /** Intervals of windows judged over the threshold or inside an open alert, oldest first, merged. */
  excluded: [number, number][];
}

export interface BufferExport {
  /** Readings outside every excluded interval, per entity in time order. */
  readings: Reading[];
  excluded: ExcludedIntervals;
  /** Readings left out because they fell inside an excluded interval. */
  left: number;
}

/**
 * The refit buffer: the most recent `capacity` readings of each of the first `maxEntities`
 * entities, plus the time intervals whose windows the live model judged abnormal (over the
 * threshold, or while the entity's alert was open). What it exports for training leaves those
 * readings out, and the intervals go with it so training drops every window touching them too:
 * an anomaly is never learned as normal. Memory is fixed by capacity x entities x features.
 */
export class RefitBuffer {
  private readonly rings = new Map<string, EntityRing>();

  constructor(
    private readonly features: readonly string[],
    private readonly capacity: number,
    private readonly maxEntities: number,
  ) {}

  /** Keeps a reading (of a tracked entity; the first maxEntities seen are tracked). */
  add(r: Reading): void {
    const ring = this.ring(r.entity);
    if (ring === undefined) return;
    const F = this.features.length;
    if (ring.count > 0 && r.ts <= (ring.ts[(ring.head - 1 + this.capacity) % this.capacity] as number)) {
      // The entity's clock went back (accepted under window.outOfOrder: reset). Its intervals
      // assume time order: a later abnormal window would merge into the last interval and its own
      // readings be learned as normal, and pruning would judge by a slot that is not the oldest.
      // Start over, as the windower does: the stretch before is another timeline.
      ring.head = 0;
      ring.count = 0;
      ring.excluded = [];
    }
    const at = ring.head;
    ring.ts[at] = r.ts;
    for (let j = 0; j < F; j++) {
      const v = r.values[this.features[j] as string];
      ring.values[at * F + j] = typeof v === 'number' && Number.isFinite(v) ? v : NaN;
    }
    ring.head = (ring.head + 1) % this.capacity;
    if (ring.count < this.capacity) ring.count++;
    this.prune(ring);
  }

  /** The window [startTs, endTs] of `entity` was not normal: its readings are not to be learned. */
  exclude(entity: string, startTs: number, endTs: number): void {
    const ring = this.rings.get(entity);
    if (ring === undefined) return;
    const last = ring.excluded[ring.excluded.length - 1];
    // Consecutive abnormal windows overlap: one interval per stretch, not one per window.
    if (last !== undefined && startTs <= last[1]) last[1] = Math.max(last[1], endTs);
    else ring.excluded.push([startTs, endTs]);
  }

  /** Readings held (cheap: for a metric after every chunk). */
  size(): number {
    let readings = 0;
    for (const ring of this.rings.values()) readings += ring.count;
    return readings;
  }

  /** Readings outside every excluded interval: what training would get (walks the buffer). */
  usable(): number {
    let usable = 0;
    for (const ring of this.rings.values()) for (let i = 0; i < ring.count; i++) if (!inside(ring.excluded, this.tsAt(ring, i))) usable++;
    return usable;
  }

  export(): BufferExport {
    const readings: Reading[] = [];
    const excluded: ExcludedIntervals = new Map();
    const F = this.features.length;
    let left = 0;
    for (const [entity, ring] of this.rings) {
      if (ring.excluded.length > 0) excluded.set(entity, ring.excluded.map(([a, b]) => [a, b]));
      const oldest = (ring.head - ring.count + this.capacity) % this.capacity;
      for (let i = 0; i < ring.count; i++) {
        const slot = (oldest + i) % this.capacity;
        const ts = ring.ts[slot] as number;
        if (inside(ring.excluded, ts)) {
          left++;
          continue;
        }
        const values: Record<string, number> = {};
        for (let j = 0; j < F; j++) {
          const v = ring.values[slot * F + j] as number;
          if (Number.isFinite(v)) values[this.features[j] as string] = v;
        }
        readings.push({ entity, ts, values });
      }
    }
    return { readings, excluded, left };
  }

  private tsAt(ring: EntityRing, i: number): number {
    return ring.ts[(ring.head - ring.count + i + 2 * this.capacity) % this.capacity] as number;
  }

  private ring(entity: string): EntityRing | undefined {
    let ring = this.rings.get(entity);
    if (ring === undefined) {
      if (this.rings.size >= this.maxEntities) return undefined;
      ring = { ts: new Float64Array(this.capacity), values: new Float64Array(this.capacity * this.features.length), head: 0, count: 0, excluded: [] };
      this.rings.set(entity, ring);
    }
    return ring;
  }

  /** Intervals that end before the oldest reading held can exclude nothing any more. */
  private prune(ring: EntityRing): void {
    const oldestTs = this.tsAt(ring, 0);
    while (ring.excluded.length > 0 && (ring.excluded[0] as [number, number])[1] < oldestTs) ring.excluded.shift();
  }
}

function inside(list: [number, number][], ts: number): boolean {
  for (const [a, b] of list) if (ts >= a && ts <= b) return true;
  return false;
}
