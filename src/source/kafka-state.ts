import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { SeismoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AlertStateRecord, ChangelogWrite } from './alert-changelog.js';

/** Per input topic-partition ("topic/partition"): each entity's newest changelog record. */
export type StoredState = Map<string, Map<string, AlertStateRecord | null>>;

/**
 * The state store: a compacted Kafka topic keyed by [input topic, partition, entity], holding
 * each entity's alert state (see alert-changelog.ts for what a record means). It replaces the
 * offset-commit metadata, whose 4 KB budget overflowed with many open alerts. Written with
 * acks=all before every commit; read in full once per group generation, when partitions are
 * assigned.
 */
export class KafkaStateStore {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /** Creates the topic (compacted, one partition per input partition) when it is missing. */
  async ensureTopic(admin: Admin, inputTopics: string[]): Promise<void> {
    const existing = new Set(await admin.listTopics());
    if (existing.has(this.topic)) return;
    const meta = await admin.fetchTopicMetadata({ topics: inputTopics.filter((t) => existing.has(t)) });
    const partitions = Math.max(1, ...meta.topics.map((t) => t.partitions.length));
    try {
      await admin.createTopics({
        topics: [{ topic: this.topic, numPartitions: partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
        waitForLeaders: true,
      });
      this.log.info({ topic: this.topic, partitions }, 'created the alert-state topic (compacted)');
    } catch (err) {
      // Another instance may have created it meanwhile.
      if (!(await admin.listTopics()).includes(this.topic)) {
        throw new SeismoError('SEISMO_SOURCE_FAILED', `kafka: cannot create the state topic ${this.topic} (create it with cleanup.policy=compact, or grant CREATE): ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** Writes with acks=all; inside `tx` (source.transactions) when given. */
  async write(inputTopic: string, partition: number, writes: ChangelogWrite[], tx?: Transaction): Promise<void> {
    if (writes.length === 0) return;
    if (tx === undefined) {
      this.connected ??= this.producer.connect().catch((err: unknown) => {
        this.connected = undefined;
        throw err;
      });
      await this.connected;
    }
    await (tx ?? this.producer).send({
      topic: this.topic,
      acks: -1,
      messages: writes.map((w) => ({ key: JSON.stringify([inputTopic, partition, w.entity]), value: w.record === null ? null : JSON.stringify(w.record) })),
    });
    this.metrics.stateWrites.inc(writes.length);
  }

  /** Reads the whole topic up to its end as of now; the newest record per key wins. */
  async load(admin: Admin): Promise<StoredState> {
    const started = Date.now();
    const state: StoredState = new Map();
    const ends = await admin.fetchTopicOffsets(this.topic);
    const remaining = new Set(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => p.partition));
    if (remaining.size === 0) return state;
    const end = new Map(ends.map((p) => [p.partition, Number(p.high)]));
    const groupId = `seismo-state-${randomBytes(6).toString('hex')}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let finish: () => void = () => {};
    let fail: (err: unknown) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    let records = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
      consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
      // The end may be a transaction marker (source.transactions), which eachBatch never sees:
      // kafkajs reports control-only batches through this event alone.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        if (Number(e.payload.lastOffset) >= (end.get(e.payload.partition) ?? 0) - 1) {
          remaining.delete(e.payload.partition);
          if (remaining.size === 0) finish();
        }
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const stopAt = end.get(batch.partition) ?? 0;
          for (const m of batch.messages) {
            if (Number(m.offset) >= stopAt) break;
            records++;
            const key = parseKey(m.key?.toString('utf8'));
            if (key === undefined) continue;
            const [topic, partition, entity] = key;
            const lane = `${topic}/${partition}`;
            let entities = state.get(lane);
            if (entities === undefined) state.set(lane, (entities = new Map()));
            entities.set(entity, m.value === null ? null : parseRecord(m.value.toString('utf8')));
          }
          if (Number(batch.lastOffset()) >= stopAt - 1) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) finish();
          }
        },
      });
      await done;
    } catch (err) {
      throw new SeismoError('SEISMO_SOURCE_FAILED', `kafka: cannot read the state topic ${this.topic}: ${(err as Error).message}`, { cause: err, retriable: true });
    } finally {
      await consumer.disconnect().catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
    }
    this.log.info({ topic: this.topic, records, seconds: (Date.now() - started) / 1000 }, 'alert state loaded');
    return state;
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => {});
  }
}

function parseKey(text: string | undefined): [string, number, string] | undefined {
  if (text === undefined) return undefined;
  try {
    const k = JSON.parse(text) as unknown;
    if (Array.isArray(k) && k.length === 3 && typeof k[0] === 'string' && typeof k[1] === 'number' && typeof k[2] === 'string') return [k[0], k[1], k[2]];
  } catch {
    // not a key Seismo wrote: ignore it
  }
  return undefined;
}

function parseRecord(text: string): AlertStateRecord | null {
  try {
    const r = JSON.parse(text) as AlertStateRecord;
    return typeof r.asOf === 'number' ? r : null;
  } catch {
    return null;
  }
}
