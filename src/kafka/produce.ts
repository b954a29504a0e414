import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import { SeismoError } from '../errors.js';
import type { Reading } from '../domain/types.js';

export interface ProduceOptions {
  /** Readings per second; 0 = as fast as the broker takes them. */
  rate: number;
  /** Stamp each reading with the time it is sent (latency runs) instead of its own timestamp. */
  restamp: boolean;
  /** Messages per produce request. */
  chunk?: number;
  /**
   * Give up when connecting, or any one produce request, takes longer than this (ms): a load
   * tool pointed at the wrong broker must fail with a clear error, not retry for minutes.
   */
  giveUpMs?: number;
  /** Named in the error when giving up (the configured bootstrap brokers). */
  brokers?: string[];
}

/** Rejects with `error()` when `work` has not settled within `ms`; the timer never outlives it. */
async function within<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The DESIGN.md message: key = entity id, value = the JSON reading. */
export function readingMessage(r: Reading, ts = r.ts): Message {
  return { key: r.entity, value: JSON.stringify({ entity: r.entity, ts: new Date(ts).toISOString(), values: r.values }) };
}

/**
 * Load tool behind `seismo produce`: writes readings in order, paced to `rate` with a running
 * schedule (so a slow request is caught up, not accumulated).
 */
export async function produceReadings(kafka: Kafka, topic: string, readings: Reading[], opts: ProduceOptions): Promise<{ sent: number; seconds: number }> {
  // Idempotent with one request in flight: retries cannot reorder an entity's readings.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: true, maxInFlightRequests: 1 });
  const giveUpMs = opts.giveUpMs ?? 30_000;
  const where = opts.brokers ? ` (brokers ${opts.brokers.join(', ')})` : '';
  const bounded = <T>(work: Promise<T>, what: string) =>
    within(work, giveUpMs, () => new SeismoError('SEISMO_SINK_FAILED', `${what} did not succeed within ${giveUpMs / 1000} s${where}; is the broker running and kafka.brokers right?`, { retriable: false }));
  try {
    await bounded(producer.connect(), 'connecting to Kafka');
  } catch (err) {
    // kafkajs keeps retrying in the background; stop it (bounded too) so the process can exit.
    await within(producer.disconnect(), 2000, () => new Error('disconnect timed out')).catch(() => {});
    throw err instanceof SeismoError ? err : new SeismoError('SEISMO_SINK_FAILED', `connecting to Kafka failed${where}: ${(err as Error).message}`, { cause: err, retriable: false });
  }
  const chunk = opts.chunk ?? (opts.rate > 0 ? Math.max(1, Math.min(500, Math.round(opts.rate / 100))) : 1000);
  const started = performance.now();
  try {
    for (let from = 0; from < readings.length; from += chunk) {
      if (opts.rate > 0) {
        const due = started + (from / opts.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const now = Date.now();
      const messages = readings.slice(from, from + chunk).map((r) => readingMessage(r, opts.restamp ? now : r.ts));
      await bounded(producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages }), `writing to ${topic}`);
    }
  } finally {
    await within(producer.disconnect(), 2000, () => new Error('disconnect timed out')).catch(() => {});
  }
  return { sent: readings.length, seconds: (performance.now() - started) / 1000 };
}
