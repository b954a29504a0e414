import type { AlertSnapshot } from '../detect/alerts.js';

/**
 * What Seismo commits per partition. The committed offset is where a new owner must start
 * reading to rebuild every live entity's window ring (it trails the processed position by
 * about lookback-1 readings per entity); the metadata says where processing really stopped
 * (`next`). Readings between the two are re-read to rebuild windows, never scored or flagged
 * twice. Alert state lives in the state topic (kafka-state.ts); commits of version 1 carried it
 * here, and are still read so an upgrade keeps open alerts.
 */
export interface PartitionCheckpoint {
  /** First offset not yet processed. */
  next: number;
  /** Only in version-1 metadata. */
  alerts?: Record<string, AlertSnapshot>;
  /** The partition's event clock where the replay starts (LaneCheckpoint.clock), for restoreLane. */
  clock?: number;
}

const VERSION = 2;

export function encodeCheckpoint(next: number, clock?: number): string {
  const c = clock !== undefined && Number.isFinite(clock) ? `,"c":${clock}` : '';
  return `{"v":${VERSION},"next":${next}${c}}`;
}

/** Undefined for metadata Seismo did not write (another tool's commit, or none): start fresh from the offset. */
export function decodeCheckpoint(metadata: string | null | undefined): PartitionCheckpoint | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; next?: unknown; a?: unknown; c?: unknown };
    if (typeof parsed.next !== 'number') return undefined;
    const clock = typeof parsed.c === 'number' ? { clock: parsed.c } : {};
    if (parsed.v === VERSION) return { next: parsed.next, ...clock };
    if (parsed.v === 1 && typeof parsed.a === 'object' && parsed.a !== null) return { next: parsed.next, alerts: parsed.a as Record<string, AlertSnapshot>, ...clock };
    return undefined;
  } catch {
    return undefined;
  }
}
