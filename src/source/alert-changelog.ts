import type { AlertSnapshot } from '../detect/alerts.js';

/**
 * One changelog record of an entity's alert state. The state is written before the offset is
 * committed, so the newest record may belong to a chunk whose commit never happened (a crash in
 * between): `asOf` says which chunk (the offset after it) and `prev` keeps the state as of the
 * commit before it. A restore takes `cur` when asOf <= the committed position, else `prev`:
 * exactly the state that belongs to the committed offset, without transactions.
 * `cur: null` means the entity went back to rest.
 */
export interface AlertStateRecord {
  asOf: number;
  cur: AlertSnapshot | null;
  prev: AlertSnapshot | null;
}

/** What to write for one entity: a record, or null (a tombstone: compaction may forget the entity). */
export interface ChangelogWrite {
  entity: string;
  record: AlertStateRecord | null;
}

type Written = { rest: false; snap: AlertSnapshot; json: string } | { rest: true };

/**
 * The changelog side of one partition's alert state: remembers what was last written per
 * entity, and turns each chunk's snapshot into the few records that changed. Pure: the Kafka
 * adapter (kafka-state.ts) writes and reads what this decides.
 */
export class LaneChangelog {
  private readonly written = new Map<string, Written>();

  /** Starts from the state a restore produced (what the changelog holds as of the commit). */
  constructor(restored: Record<string, AlertSnapshot> = {}) {
    for (const [entity, snap] of Object.entries(restored)) this.written.set(entity, { rest: false, snap, json: JSON.stringify(snap) });
  }

  /**
   * The records for the chunk ending before `next`, given the snapshot of every entity not at
   * rest after it. Entities that went to rest get a rest record (its `prev` is still needed if
   * this chunk's commit fails); one chunk later, once that commit is known to have happened,
   * a tombstone lets compaction forget them.
   */
  diff(alerts: Record<string, AlertSnapshot>, next: number): ChangelogWrite[] {
    const out: ChangelogWrite[] = [];
    for (const [entity, w] of this.written) {
      if (w.rest) {
        out.push({ entity, record: null });
        this.written.delete(entity);
      }
    }
    for (const [entity, snap] of Object.entries(alerts)) {
      const json = JSON.stringify(snap);
      const before = this.written.get(entity);
      if (before !== undefined && !before.rest && before.json === json) continue;
      // A tombstone queued above for an entity that is busy again: the new record supersedes it.
      const i = out.findIndex((w) => w.entity === entity);
      if (i >= 0) out.splice(i, 1);
      out.push({ entity, record: { asOf: next, cur: snap, prev: before !== undefined && !before.rest ? before.snap : null } });
      this.written.set(entity, { rest: false, snap, json });
    }
    for (const [entity, w] of this.written) {
      if (w.rest || entity in alerts) continue;
      out.push({ entity, record: { asOf: next, cur: null, prev: w.snap } });
      this.written.set(entity, { rest: true });
    }
    return out;
  }
}

/** The alert state that belongs to the committed position `next`, from each entity's newest changelog record. */
export function restoreAlerts(latest: Map<string, AlertStateRecord | null>, next: number): Record<string, AlertSnapshot> {
  const out: Record<string, AlertSnapshot> = {};
  for (const [entity, r] of latest) {
    if (r === null) continue;
    const snap = r.asOf <= next ? r.cur : r.prev;
    if (snap !== null) out[entity] = snap;
  }
  return out;
}
