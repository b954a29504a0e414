import type { Flag, PoisonRecord } from '../pipeline/types.js';

/** Where flags go. send() resolves when the flags are durable (written, fsynced, or acked). */
export interface Sink {
  send(flags: Flag[]): Promise<void>;
  flush(): Promise<void>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** Where poison records go, with their reason and position, so nothing is lost silently. */
export interface DeadLetterSink {
  send(records: PoisonRecord[]): Promise<void>;
  close(): Promise<void>;
}
