import type { Flag, PoisonRecord } from '../pipeline/types.js';

/** Where flags go. send() resolves when the flags are durable (written, fsynced, or acked). */
export interface Sink {
  /** Connects (if the sink has a connection) so startup fails fast rather than at the first flag. */
  open?(): Promise<void>;
  send(flags: Flag[]): Promise<void>;
  flush(): Promise<void>;
  /** Safe to call twice. */
  close(): Promise<void>;
  /** For /readyz: false while flags cannot be made durable (sends stuck or failing). */
  health?(): Health;
}

export interface Health {
  ready: boolean;
  detail: Record<string, unknown>;
}

/** Where poison records go, with their reason and position, so nothing is lost silently. */
export interface DeadLetterSink {
  open?(): Promise<void>;
  send(records: PoisonRecord[]): Promise<void>;
  close(): Promise<void>;
  health?(): Health;
}
