import type { AlertSnapshot } from '../detect/alerts.js';
import type { OriginalMessage, PoisonRecord, Position, Reading } from '../domain/types.js';
import { decodeReading, type Decoded } from './decode.js';

/** What a source hands the pipeline: raw bytes to decode, an already parsed reading (CSV), or a row that failed to parse. */
export type SourceRecord =
  | { kind: 'raw'; text: string; position: Position; key?: string; original?: OriginalMessage }
  | { kind: 'reading'; reading: Reading; position: Position }
  | { kind: 'poison'; poison: PoisonRecord };

export interface ProcessOptions {
  /** State is kept per lane (a Kafka topic-partition); a file replay uses one default lane. */
  lane?: string;
  /** Records at offsets below this were processed before a restart: rebuild state only. */
  replayBelow?: number;
  /**
   * Don't count the chunk in the metrics yet: process() resolves to a function that does, for
   * the source to call once the chunk is committed (a chunk processed again after a failed
   * commit is then counted once).
   */
  deferCounts?: boolean;
}

/** Counts a processed chunk in the metrics (see ProcessOptions.deferCounts). */
export type CountChunk = () => void;

export interface LaneCheckpoint {
  /** Oldest offset a replay must start at to rebuild the lane's windows; undefined when nothing is buffered. */
  replayFrom: number | undefined;
  /** Alert state of entities that are not at rest. */
  alerts: Record<string, AlertSnapshot>;
  /**
   * The lane's event clock just before replayFrom. A replay must start from it (restoreLane) to
   * evict idle entities exactly where the running daemon did; absent when nothing is buffered.
   */
  clock?: number;
}

/** What a source feeds. */
export interface RecordProcessor {
  /**
   * Resolving means "processed, and every flag it produced is durable downstream": only then
   * may a source commit past these records. Rejecting means nothing in the batch may be committed.
   */
  process(records: SourceRecord[], opts?: ProcessOptions): Promise<CountChunk | void>;
  dropLane(lane: string): void;
  /** Windows waiting for the scorer, and a promise for when none are: backpressure. */
  queuedWindows(): number;
  drained(): Promise<void>;
  /** Before replaying a lane from its checkpoint: its alert state, and its clock (LaneCheckpoint.clock). */
  restoreLane(lane: string, alerts: Record<string, AlertSnapshot>, clock?: number): void;
  checkpoint(lane: string): LaneCheckpoint;
}

export interface Source {
  /** Starts delivering; resolves when the source is exhausted (file) or stopped. */
  start(processor: RecordProcessor): Promise<void>;
  pause(): void;
  resume(): void;
  /** Stops fetching; in-flight handler calls finish first. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * For /readyz: whether the source is connected and consuming, and why not. `live: false`
   * means it cannot recover by itself (for /healthz).
   */
  health?(): { ready: boolean; live?: boolean; detail: Record<string, unknown> };
}

/** Turns any source record into a Reading, or the poison record that explains why not. */
export function recordToReading(record: SourceRecord, maxMessageBytes: number): Decoded {
  if (record.kind === 'poison') return { ok: false, poison: record.poison };
  if (record.kind === 'raw') {
    const decoded = decodeReading(record.text, record.position, maxMessageBytes, record.key);
    if (!decoded.ok && record.original) decoded.poison.original = record.original;
    return decoded;
  }
  return { ok: true, reading: record.reading };
}
