import type { AlertSnapshot } from '../detect/alerts.js';

/**
 * What Seismo commits per partition. The committed offset is where a new owner must start
 * reading to rebuild every live entity's window ring (it trails the processed position by
 * about lookback-1 readings per entity); the metadata says where processing really stopped
 * (`next`) and carries the alert state a fresh start would not have. Readings between the two
 * are re-read to rebuild windows, never scored or flagged twice.
 */
export interface PartitionCheckpoint {
  /** First offset not yet processed. */
  next: number;
  alerts: Record<string, AlertSnapshot>;
  /** The partition's event clock where the replay starts (LaneCheckpoint.clock), for restoreLane. */
  clock?: number;
}

const VERSION = 1;

/** Encodes within maxBytes; alert states that do not fit are left out and counted. */
export function encodeCheckpoint(cp: PartitionCheckpoint, maxBytes: number): { metadata: string; dropped: number } {
  // "c" is optional within version 1: metadata without it still decodes, and older readers skip it.
  const clock = cp.clock !== undefined && Number.isFinite(cp.clock) ? `"c":${cp.clock},` : '';
  const head = `{"v":${VERSION},"next":${cp.next},${clock}"a":{`;
  let body = '';
  let dropped = 0;
  for (const [entity, snap] of Object.entries(cp.alerts)) {
    const item = `${body ? ',' : ''}${JSON.stringify(entity)}:${JSON.stringify(snap)}`;
    if (Buffer.byteLength(head + body + item + '}}') > maxBytes) {
      dropped++;
      continue;
    }
    body += item;
  }
  return { metadata: `${head}${body}}}`, dropped };
}

/** Undefined for metadata Seismo did not write (another tool's commit, or none): start fresh from the offset. */
export function decodeCheckpoint(metadata: string | null | undefined): PartitionCheckpoint | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { v?: unknown; next?: unknown; a?: unknown; c?: unknown };
    if (parsed.v !== VERSION || typeof parsed.next !== 'number' || typeof parsed.a !== 'object' || parsed.a === null) return undefined;
    return { next: parsed.next, alerts: parsed.a as Record<string, AlertSnapshot>, ...(typeof parsed.c === 'number' ? { clock: parsed.c } : {}) };
  } catch {
    return undefined;
  }
}
