import { CompressionTypes, type Kafka, type Message } from 'kafkajs';
import type { Reading } from '../pipeline/types.js';

export interface ProduceOptions {
  /** Readings per second; 0 = as fast as the broker takes them. */
  rate: number;
  /** Stamp each reading with the time it is sent (latency runs) instead of its own timestamp. */
  restamp: boolean;
  /** Messages per produce request. */
  chunk?: number;
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
  await producer.connect();
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
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
    }
  } finally {
    await producer.disconnect();
  }
  return { sent: readings.length, seconds: (performance.now() - started) / 1000 };
}
