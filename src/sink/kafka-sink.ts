import { createHash } from 'node:crypto';
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { SeismoError } from '../errors.js';
import { chunkTransaction } from '../kafka/transactions.js';
import type { Metrics } from '../observability/metrics.js';
import type { Flag, PoisonRecord } from '../pipeline/types.js';
import type { DeadLetterSink, Sink } from './sink.js';

/**
 * One idempotent producer (acks=all) shared by the flag and dead-letter sinks. send() resolves
 * only when every replica in sync has the messages, which is what lets the source commit.
 */
export class KafkaProducerLink {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Start times of sends not yet acknowledged: one that hangs (a topic rejecting writes, a broker gone) makes Seismo unready. */
  private readonly pending = new Map<number, number>();
  private nextSend = 0;
  private lastFailure: string | undefined;
  connected = false;

  /**
   * `maxMessageBytes`: the largest record batch a send may produce (the topics' max.message.bytes
   * less headroom); sends are split to stay under it. `stallMs`: an unacknowledged send older
   * than this makes health() unready.
   */
  constructor(kafka: Kafka, private readonly metrics: Metrics, readonly maxMessageBytes = 1_000_000, private readonly stallMs = 5000) {
    // Idempotence needs one request in flight per connection to keep ordering under retries.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    this.producer.on(this.producer.events.CONNECT, () => (this.connected = true));
    this.producer.on(this.producer.events.DISCONNECT, () => (this.connected = false));
  }

  open(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw new SeismoError('SEISMO_SINK_FAILED', `kafka producer cannot connect: ${(err as Error).message}`, { cause: err });
    });
    return this.connecting;
  }

  async send(topic: string, kind: 'flags' | 'dead_letter', messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const id = this.nextSend++;
    this.pending.set(id, Date.now());
    try {
      await this.open();
      // kafkajs puts all messages of a partition into one record batch, and the broker checks
      // max.message.bytes against the batch: keep each send under it.
      for (const group of bySize(messages, this.maxMessageBytes)) await this.sendGroup(topic, kind, group);
      this.lastFailure = undefined;
    } catch (err) {
      this.lastFailure = (err as Error).message;
      throw err;
    } finally {
      this.pending.delete(id);
    }
  }

  /** Ready unless a send is stuck or the last one failed; for /readyz. */
  health(now = Date.now()): { ready: boolean; detail: Record<string, unknown> } {
    let oldest = Infinity;
    for (const started of this.pending.values()) oldest = Math.min(oldest, started);
    const stuckMs = now - oldest;
    const stuck = stuckMs > this.stallMs;
    return {
      ready: !stuck && this.lastFailure === undefined,
      detail: { producer: stuck ? `a send has waited ${Math.round(stuckMs / 1000)} s for the broker` : this.lastFailure !== undefined ? 'last send failed' : 'ok', ...(this.lastFailure ? { producerError: this.lastFailure } : {}) },
    };
  }

  private async sendGroup(topic: string, kind: 'flags' | 'dead_letter', messages: Message[]): Promise<void> {
    const stop = this.metrics.produceDuration.startTimer({ kind });
    try {
      // With source.transactions the chunk's transaction carries the messages: they become
      // visible to read_committed subscribers only if the chunk's offsets commit too.
      const tx = chunkTransaction.getStore();
      await (tx ?? this.producer).send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    } catch (err) {
      throw new SeismoError('SEISMO_SINK_FAILED', `kafka: producing ${messages.length} message(s) to ${topic} failed: ${(err as Error).message}`, { cause: err, retriable: !isTooLarge(err) });
    } finally {
      stop();
    }
  }

  close(): Promise<void> {
    this.closing ??= this.connecting ? this.producer.disconnect() : Promise.resolve();
    return this.closing;
  }
}

/** Flags keyed by entity; the flag id is also a header so consumers can deduplicate without parsing. */
export class KafkaFlagSink implements Sink {
  constructor(private readonly link: KafkaProducerLink, private readonly topic: string) {}

  open(): Promise<void> {
    return this.link.open();
  }

  health(): { ready: boolean; detail: Record<string, unknown> } {
    return this.link.health();
  }

  send(flags: Flag[]): Promise<void> {
    return this.link.send(
      this.topic,
      'flags',
      flags.map((f) => ({ key: f.entity, value: JSON.stringify(f), headers: { 'seismo-flag-id': f.id, 'seismo-state': f.state } })),
    );
  }

  async flush(): Promise<void> {}

  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * Poison records with their original bytes and headers, plus why and where they came from. A
 * copy too large for the topic is replaced by a bounded one (a prefix, the size and a hash), so
 * one huge record can never wedge its partition.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(private readonly link: KafkaProducerLink, private readonly topic: string) {}

  open(): Promise<void> {
    return this.link.open();
  }

  health(): { ready: boolean; detail: Record<string, unknown> } {
    return this.link.health();
  }

  async send(records: PoisonRecord[]): Promise<void> {
    const limit = this.link.maxMessageBytes;
    const originals = records.map(deadLetterMessage);
    const messages = originals.map((m) => fitted(m, limit, PREFIX_BYTES));
    try {
      await this.link.send(this.topic, 'dead_letter', messages);
    } catch (err) {
      // The topic allows less than sink.maxMessageBytes: send each one alone, the ones still too
      // large cut down to a small prefix. What then fails is a real outage, and is retried.
      if (!isTooLarge((err as Error).cause ?? err)) throw err;
      for (const [i, m] of messages.entries()) {
        try {
          await this.link.send(this.topic, 'dead_letter', [m]);
        } catch (again) {
          if (!isTooLarge((again as Error).cause ?? again)) throw again;
          await this.link.send(this.topic, 'dead_letter', [fitted(originals[i] as Message, 0, MIN_PREFIX_BYTES)]);
        }
      }
    }
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

export function deadLetterMessage(p: PoisonRecord): Message {
  const original = p.original;
  const where: Record<string, string> = {
    'seismo-reason': p.reason,
    'seismo-detail': p.detail.slice(0, 1024),
    'seismo-source-topic': p.position.source,
  };
  if (p.position.partition !== undefined) where['seismo-source-partition'] = String(p.position.partition);
  if (p.position.offset !== undefined) where['seismo-source-offset'] = String(p.position.offset);
  if (p.position.line !== undefined) where['seismo-source-line'] = String(p.position.line);
  const headers: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(original?.headers ?? {})) headers[k] = typeof v === 'string' ? v : Buffer.from(v);
  return {
    key: original?.key ? Buffer.from(original.key) : null,
    value: original ? (original.value ? Buffer.from(original.value) : null) : p.raw,
    headers: { ...headers, ...where },
  };
}

/** How much of an oversized record a bounded dead letter keeps; and the least, when the topic allows even less. */
const PREFIX_BYTES = 64 * 1024;
const MIN_PREFIX_BYTES = 1024;
/** Per-record overhead in a Kafka record batch beyond key, value and headers (varints, attributes), rounded up. */
const RECORD_OVERHEAD = 64;

function bytes(x: Buffer | string | null | undefined): number {
  if (x === null || x === undefined) return 0;
  return typeof x === 'string' ? Buffer.byteLength(x) : x.length;
}

export function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD + bytes(m.key as Buffer | string | null) + bytes(m.value as Buffer | string | null);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + (Array.isArray(v) ? v.reduce((a, x) => a + bytes(x as Buffer | string), 0) : bytes(v as Buffer | string | undefined));
  return n;
}

/** Splits messages into consecutive groups of at most maxBytes each (a single larger message goes alone). */
export function bySize(messages: Message[], maxBytes: number): Message[][] {
  const groups: Message[][] = [];
  let group: Message[] = [];
  let size = 0;
  for (const m of messages) {
    const n = messageBytes(m);
    if (group.length > 0 && size + n > maxBytes) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(m);
    size += n;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * The dead letter itself when it fits in maxBytes; otherwise a bounded copy: the first
 * prefixBytes of the value, the seismo-* headers, and headers saying it was cut
 * (seismo-truncated), how large the original was and its SHA-256, so it can be found upstream.
 */
export function fitted(m: Message, maxBytes: number, prefixBytes: number): Message {
  if (messageBytes(m) <= maxBytes) return m;
  const value = m.value === null || m.value === undefined ? Buffer.alloc(0) : Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value);
  const key = m.key === null || m.key === undefined ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key);
  const seismoHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (k.startsWith('seismo-') && typeof v === 'string') seismoHeaders[k] = v.slice(0, 1024);
  return {
    key: key && key.length > MIN_PREFIX_BYTES ? key.subarray(0, MIN_PREFIX_BYTES) : key,
    value: value.subarray(0, prefixBytes),
    headers: {
      ...seismoHeaders,
      'seismo-truncated': 'true',
      'seismo-original-bytes': String(messageBytes(m) - RECORD_OVERHEAD),
      'seismo-original-value-bytes': String(value.length),
      'seismo-original-sha256': createHash('sha256').update(value).digest('hex'),
    },
  };
}

/** The broker refused a record (batch) as larger than the topic allows. */
function isTooLarge(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown; name?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}
