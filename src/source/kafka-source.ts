import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { SourceConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OriginalMessage } from '../pipeline/types.js';
import { decodeCheckpoint, encodeCheckpoint } from './kafka-checkpoint.js';
import type { RecordProcessor, Source, SourceRecord } from './source.js';

type KafkaSourceConfig = Pick<SourceConfig, 'topics' | 'groupId' | 'fromBeginning' | 'partitionsConsumedConcurrently' | 'maxQueuedWindows' | 'commitMetadataMaxBytes'>;

interface LaneState {
  /** Pipeline lane name: topic/partition@generation, so a batch left over from before a rebalance never touches the new state. */
  name: string;
  generation: number;
  replayBelow: number | undefined;
}

/**
 * A consumer group on the input topics. Per partition, batches are processed in order and the
 * offset is committed only after the batch's flags and dead letters are acknowledged. Window
 * state belongs to the partition: every group join drops it, and the new owner rebuilds it by
 * seeking back to the committed offset (see kafka-checkpoint.ts), so a restart, a rebalance or
 * a crash neither loses readings nor changes the flags.
 */
export class KafkaSource implements Source {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly lanes = new Map<string, LaneState>();
  private generation = 0;
  private joined = false;
  private lastError: string | undefined;
  private paused = 0;
  private stopped: Promise<void> | undefined;
  private finish: (() => void) | undefined;

  constructor(
    kafka: Kafka,
    private readonly cfg: KafkaSourceConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.consumer = kafka.consumer({
      groupId: cfg.groupId,
      allowAutoTopicCreation: false,
      retry: {
        // Never give up: after the retries of one attempt run out, the consumer restarts and rejoins.
        restartOnFailure: async (err) => {
          this.metrics.kafkaCrashes.inc();
          this.log.error({ err }, 'kafka consumer failed; restarting it');
          return true;
        },
      },
    });
    this.admin = kafka.admin();
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      this.joined = true;
      this.lastError = undefined;
      this.metrics.kafkaConnected.set(1);
      this.metrics.kafkaRebalances.inc();
      this.resetLanes();
      this.log.info({ assignment: e.payload.memberAssignment, generation: this.generation }, 'joined consumer group');
    });
    this.consumer.on(CRASH, (e) => {
      this.joined = false;
      this.lastError = e.payload.error.message;
      this.metrics.kafkaConnected.set(0);
      this.resetLanes();
    });
    this.consumer.on(DISCONNECT, () => {
      this.joined = false;
      this.metrics.kafkaConnected.set(0);
    });
    this.consumer.on(STOP, () => {
      this.joined = false;
      this.metrics.kafkaConnected.set(0);
    });
  }

  health(): { ready: boolean; detail: Record<string, unknown> } {
    return {
      ready: this.joined,
      detail: { kafka: this.joined ? 'joined' : 'not joined', groupId: this.cfg.groupId, partitions: this.lanes.size, pausedPartitions: this.paused, ...(this.lastError ? { kafkaError: this.lastError } : {}) },
    };
  }

  async start(processor: RecordProcessor): Promise<void> {
    try {
      await this.admin.connect();
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: this.cfg.topics, fromBeginning: this.cfg.fromBeginning });
    } catch (err) {
      throw new SeismoError('SEISMO_SOURCE_FAILED', `kafka: cannot start the consumer for ${this.cfg.topics.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    this.processor = processor;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.cfg.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    return done;
  }

  pause(): void {
    this.consumer.pause(this.cfg.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.consumer.resume(this.cfg.topics.map((topic) => ({ topic })));
  }

  /** Resolves once the group has been joined (startup waits for this before saying ready). */
  async waitJoined(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.joined && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.joined;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // consumer.stop() waits for the batches in flight: they finish, produce, and commit.
      try {
        await this.consumer.disconnect();
      } finally {
        await this.admin.disconnect().catch(() => {});
        this.finish?.();
      }
    })();
    return this.stopped;
  }

  private processor: RecordProcessor | undefined;

  private resetLanes(): void {
    this.generation++;
    for (const lane of this.lanes.values()) this.processor?.dropLane(lane.name);
    this.lanes.clear();
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const processor = this.processor;
    if (processor === undefined || batch.messages.length === 0 || !isRunning() || isStale()) return;
    const { topic, partition } = batch;
    const key = `${topic}/${partition}`;
    this.metrics.kafkaMessagesIn.inc({ topic }, batch.messages.length);
    this.metrics.kafkaBatchSize.observe(batch.messages.length);

    let lane = this.lanes.get(key);
    if (lane === undefined) {
      const generation = this.generation;
      const committed = await this.committed(topic, partition);
      if (generation !== this.generation || !isRunning()) return;
      // Window state was dropped: read again from the committed offset to rebuild it.
      if (committed.offset !== undefined && Number(batch.firstOffset()) > committed.offset) {
        this.log.info({ topic, partition, from: committed.offset, fetched: batch.firstOffset() }, 'rewinding to the committed offset to rebuild window state');
        this.consumer.seek({ topic, partition, offset: String(committed.offset) });
        return;
      }
      lane = { name: `${key}@${generation}`, generation, replayBelow: committed.checkpoint?.next };
      processor.dropLane(lane.name);
      if (committed.checkpoint) processor.restoreLane(lane.name, committed.checkpoint.alerts);
      this.lanes.set(key, lane);
    }

    if (processor.queuedWindows() > this.cfg.maxQueuedWindows) {
      const resume = pause();
      this.paused++;
      this.metrics.kafkaPaused.set(this.paused);
      await processor.drained();
      this.paused--;
      this.metrics.kafkaPaused.set(this.paused);
      resume();
    }

    const records = batch.messages.map((m) => toRecord(topic, partition, m));
    try {
      await processor.process(records, { lane: lane.name, ...(lane.replayBelow !== undefined ? { replayBelow: lane.replayBelow } : {}) });
    } catch (err) {
      // Nothing of this batch may be committed; its state is suspect. Rebuild from the last commit.
      this.lanes.delete(key);
      processor.dropLane(lane.name);
      throw err;
    }
    const now = Date.now();
    for (const m of batch.messages) this.metrics.endToEnd.observe(Math.max(0, now - Number(m.timestamp)) / 1000);
    const lastOffset = batch.lastOffset();
    resolveOffset(lastOffset);
    const next = Number(lastOffset) + 1;
    this.metrics.kafkaLag.set({ topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - next));

    if (lane.generation !== this.generation) {
      processor.dropLane(lane.name);
      return;
    }
    const cp = processor.checkpoint(lane.name);
    const { metadata, dropped } = encodeCheckpoint({ next, alerts: cp.alerts }, this.cfg.commitMetadataMaxBytes);
    if (dropped > 0) {
      this.metrics.kafkaCheckpointOverflow.inc(dropped);
      this.log.warn({ topic, partition, dropped }, 'open-alert state did not fit in the commit metadata; after a restart those entities start fresh');
    }
    const offset = Math.min(cp.replayFrom ?? next, next);
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: String(offset), metadata }]);
      this.metrics.kafkaCommits.inc({ result: 'ok' });
    } catch (err) {
      // Typically a rebalance: the new owner rebuilds from the previous commit (same flags, same ids).
      this.metrics.kafkaCommits.inc({ result: 'failed' });
      this.log.warn({ err, topic, partition }, 'offset commit failed; partition state will be rebuilt from the previous commit');
      this.lanes.delete(key);
      processor.dropLane(lane.name);
      return;
    }
    await heartbeat();
  }

  private async committed(topic: string, partition: number): Promise<{ offset: number | undefined; checkpoint: ReturnType<typeof decodeCheckpoint> }> {
    const result = await this.admin.fetchOffsets({ groupId: this.cfg.groupId, topics: [topic] });
    const p = result.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    const offset = p && Number(p.offset) >= 0 ? Number(p.offset) : undefined;
    return { offset, checkpoint: offset === undefined ? undefined : decodeCheckpoint(p?.metadata) };
  }
}

function toRecord(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  const headers: Record<string, Uint8Array | string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    headers[k] = Array.isArray(v) ? Buffer.concat(v.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))) : v;
  }
  const original: OriginalMessage = { key: m.key, value: m.value, headers };
  const key = m.key?.toString('utf8');
  return {
    kind: 'raw',
    text: m.value?.toString('utf8') ?? '',
    position: { source: topic, partition, offset: m.offset, timestamp: Number(m.timestamp) },
    ...(key !== undefined ? { key } : {}),
    original,
  };
}
