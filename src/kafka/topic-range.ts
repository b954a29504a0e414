import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { SeismoError } from '../errors.js';

export interface TimeRange {
  /** Epoch ms, inclusive (by Kafka message timestamp); undefined = from the beginning. */
  since?: number | undefined;
  /** Epoch ms, exclusive; undefined = up to the end as of the call. */
  until?: number | undefined;
}

/**
 * Reads every message of `topic` whose Kafka timestamp falls in the range, partition by
 * partition, then stops. Offsets come from the broker's time index; a throwaway consumer group
 * is used (Kafka needs one) and deleted afterwards, so no real group's offsets move.
 */
export async function readTopicRange(kafka: Kafka, topic: string, range: TimeRange, onMessage: (message: KafkaMessage, partition: number) => void): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `seismo-read-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  try {
    const high = await admin.fetchTopicOffsets(topic);
    const startAt = range.since === undefined ? high.map((p) => ({ partition: p.partition, offset: p.low })) : await admin.fetchTopicOffsetsByTimestamp(topic, range.since);
    const endAt = range.until === undefined ? high.map((p) => ({ partition: p.partition, offset: p.high })) : await admin.fetchTopicOffsetsByTimestamp(topic, range.until);
    const start = new Map(startAt.map((p) => [p.partition, Number(p.offset)]));
    // fetchTopicOffsetsByTimestamp answers the high watermark when no message is that late.
    const end = new Map(endAt.map((p) => [p.partition, Number(p.offset)]));
    const remaining = new Set([...end.keys()].filter((p) => (end.get(p) ?? 0) > (start.get(p) ?? 0)));
    if (remaining.size === 0) return 0;

    let count = 0;
    let finish: () => void = () => {};
    let fail: (err: unknown) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    consumer.on(consumer.events.CRASH, (e) => fail(new SeismoError('SEISMO_SOURCE_FAILED', `reading ${topic}: ${e.payload.error.message}`, { cause: e.payload.error })));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const stopAt = end.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset >= stopAt) break;
          if (offset >= (start.get(batch.partition) ?? 0)) {
            onMessage(m, batch.partition);
            count++;
          }
        }
        if (Number(batch.lastOffset()) >= stopAt - 1) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) finish();
        }
      },
    });
    for (const [partition, offset] of start) consumer.seek({ topic, partition, offset: String(offset) });
    await done;
    return count;
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
