import type { PoisonRecord, Position, Reading } from '../pipeline/types.js';
import { decodeReading, type Decoded } from './decode.js';

/** What a source hands the pipeline: raw bytes to decode, an already parsed reading (CSV), or a row that failed to parse. */
export type SourceRecord =
  | { kind: 'raw'; text: string; position: Position; key?: string }
  | { kind: 'reading'; reading: Reading; position: Position }
  | { kind: 'poison'; poison: PoisonRecord };

/**
 * Resolving means "processed, and every flag it produced is durable downstream": only then may
 * a source commit past these records. Rejecting means nothing in the batch may be committed.
 */
export type RecordHandler = (records: SourceRecord[]) => Promise<void>;

export interface Source {
  /** Starts delivering; resolves when the source is exhausted (file) or stopped. */
  start(handler: RecordHandler): Promise<void>;
  pause(): void;
  resume(): void;
  /** Stops fetching; in-flight handler calls finish first. Safe to call twice. */
  stop(): Promise<void>;
}

/** Turns any source record into a Reading, or the poison record that explains why not. */
export function recordToReading(record: SourceRecord, maxMessageBytes: number): Decoded {
  if (record.kind === 'poison') return { ok: false, poison: record.poison };
  if (record.kind === 'raw') return decodeReading(record.text, record.position, maxMessageBytes, record.key);
  return { ok: true, reading: record.reading };
}
