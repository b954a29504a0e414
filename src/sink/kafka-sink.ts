import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { SeismoError } from '../errors.js';
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
  connected = false;

  constructor(kafka: Kafka, private readonly metrics: Metrics) {
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
    await this.open();
    const stop = this.metrics.produceDuration.startTimer({ kind });
    try {
      await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    } catch (err) {
      throw new SeismoError('SEISMO_SINK_FAILED', `kafka: producing ${messages.length} message(s) to ${topic} failed: ${(err as Error).message}`, { cause: err });
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

/** Poison records with their original bytes and headers, plus why and where they came from. */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(private readonly link: KafkaProducerLink, private readonly topic: string) {}

  open(): Promise<void> {
    return this.link.open();
  }

  send(records: PoisonRecord[]): Promise<void> {
    return this.link.send(this.topic, 'dead_letter', records.map(deadLetterMessage));
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
