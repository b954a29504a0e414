import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kafka, Producer, Transaction } from 'kafkajs';

/**
 * The transaction the chunk being processed belongs to (`source.transactions`). Set by the
 * Kafka source around `process()`; the Kafka sinks send through it when it is set, so a chunk's
 * flags and dead letters commit or abort together with its state and offsets.
 */
export const chunkTransaction = new AsyncLocalStorage<Transaction>();

/**
 * One transactional producer per input partition, with transactional.id
 * `<groupId>.<topic>.<partition>`: the owner of a partition initialises its producer before it
 * reads the committed offset, which fences a previous owner that may still be running (a
 * zombie after a rebalance) and aborts whatever transaction that one left open. kafkajs has no
 * KIP-447 (fencing by consumer-group generation), so per-partition ids are how fencing works.
 */
export class PartitionTransactions {
  private readonly producers = new Map<string, Promise<Producer>>();

  constructor(private readonly kafka: Kafka, private readonly groupId: string) {}

  /**
   * A fresh transactional producer for the partition (the previous one, if any, may have been
   * fenced by another owner meanwhile), initialised: from now on only this one can commit for it.
   */
  async fence(topic: string, partition: number): Promise<void> {
    const id = this.id(topic, partition);
    const old = this.producers.get(id);
    this.producers.delete(id);
    if (old !== undefined) await old.then((p) => p.disconnect()).catch(() => {});
    const tx = await (await this.producer(topic, partition)).transaction();
    await tx.abort();
  }

  async begin(topic: string, partition: number): Promise<Transaction> {
    try {
      return await (await this.producer(topic, partition)).transaction();
    } catch {
      // The producer is stuck in a transaction it could not end, or was fenced: start afresh.
      await this.fence(topic, partition);
      return (await this.producer(topic, partition)).transaction();
    }
  }

  /**
   * Aborts, and when even that fails (the broker refused the transaction's state), replaces the
   * producer so the next chunk can begin one; the broker aborts the old transaction on init.
   */
  async abort(topic: string, partition: number, tx: Transaction | undefined): Promise<void> {
    if (tx === undefined) return;
    try {
      await tx.abort();
    } catch {
      await this.fence(topic, partition).catch(() => {});
    }
  }

  async close(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.allSettled(all.map(async (p) => (await p).disconnect()));
  }

  private id(topic: string, partition: number): string {
    return `${this.groupId}.${topic}.${partition}`;
  }

  private producer(topic: string, partition: number): Promise<Producer> {
    const id = this.id(topic, partition);
    let p = this.producers.get(id);
    if (p === undefined) {
      const producer = this.kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      p = producer.connect().then(() => producer);
      // A failed connect is retried by the next call.
      p.catch(() => this.producers.delete(id));
      this.producers.set(id, p);
    }
    return p;
  }
}
