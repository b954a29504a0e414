import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Transaction } from 'kafkajs';
import type { SourceConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AlertSnapshot } from '../detect/alerts.js';
import { chunkTransaction, PartitionTransactions } from '../kafka/transactions.js';
import type { OriginalMessage } from '../pipeline/types.js';
import { LaneChangelog, restoreAlerts } from './alert-changelog.js';
import { decodeCheckpoint, encodeCheckpoint } from './kafka-checkpoint.js';
import { KafkaStateStore, type StoredState } from './kafka-state.js';
import type { RecordProcessor, Source, SourceRecord } from './source.js';

type KafkaSourceConfig = Pick<SourceConfig, 'topics' | 'groupId' | 'fromBeginning' | 'partitionsConsumedConcurrently' | 'maxQueuedWindows' | 'maxBatchMessages' | 'stateTopic' | 'transactions' | 'sessionTimeoutMs'>;

interface LaneState {
  /** Pipeline lane name: topic/partition@generation, so a batch left over from before a rebalance never touches the new state. */
  name: string;
  generation: number;
  replayBelow: number | undefined;
  /** What of the lane's alert state the state topic already has. */
  changelog: LaneChangelog;
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
  private readonly state: KafkaStateStore;
  /** With source.transactions: each partition's transactional producer. */
  private readonly transactions: PartitionTransactions | undefined;
  /** The state topic as read for the current group generation (once, shared by its partitions). */
  private stored: { generation: number; state: Promise<StoredState> } | undefined;
  private readonly lanes = new Map<string, LaneState>();
  /**
   * Per partition, the first offset processed while the group had no commit for it: a lane
   * rebuilt before any commit succeeded must start there again, not where the fetch stands.
   */
  private readonly uncommittedStart = new Map<string, number>();
  private generation = 0;
  private joined = false;
  private lastError: string | undefined;
  /** When processing last failed (a sink that rejects, a broker that is gone), until a chunk succeeds again. */
  private failingSince: number | undefined;
  /** Last sign of life from the broker: a fetch, a heartbeat, a commit. */
  private lastContact = 0;
  /** Set when kafkajs gave up on the consumer for good: nothing will be consumed any more. */
  private fatal: string | undefined;
  private paused = 0;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
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
      sessionTimeout: cfg.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(cfg.sessionTimeoutMs / 10)),
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
    this.state = new KafkaStateStore(kafka, cfg.stateTopic ?? `${cfg.groupId}.state`, log, metrics);
    this.transactions = cfg.transactions ? new PartitionTransactions(kafka, cfg.groupId) : undefined;
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP, FETCH, HEARTBEAT, COMMIT_OFFSETS } = this.consumer.events;
    const contact = () => (this.lastContact = Date.now());
    this.consumer.on(FETCH, contact);
    this.consumer.on(HEARTBEAT, contact);
    this.consumer.on(COMMIT_OFFSETS, contact);
    this.consumer.on(GROUP_JOIN, (e) => {
      contact();
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
      // Every error eachBatch throws is retriable (see runBatch), so this is kafkajs itself giving
      // up. Say so loudly and stay unready (liveness fails too): an orchestrator restarts us.
      if (!e.payload.restart && !this.stopping) {
        this.fatal = e.payload.error.message;
        this.log.fatal({ err: e.payload.error }, 'kafka consumer stopped for good; nothing is consumed until Seismo is restarted');
      }
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

  /**
   * Ready while joined to the group, in recent contact with the broker (kafkajs retries a lost
   * broker quietly for a long time), and processing without failures. `live` is false only when
   * the consumer has stopped for good.
   */
  health(now = Date.now()): { ready: boolean; live: boolean; detail: Record<string, unknown> } {
    const silentMs = now - this.lastContact;
    const inContact = silentMs <= this.contactTimeoutMs();
    const failing = this.failingSince !== undefined;
    const ready = this.joined && inContact && !failing && this.fatal === undefined;
    this.metrics.kafkaConnected.set(this.joined && inContact ? 1 : 0);
    const kafka = this.fatal !== undefined ? 'consumer stopped' : !this.joined ? 'not joined' : !inContact ? `no contact with the broker for ${Math.round(silentMs / 1000)} s` : failing ? `processing failing for ${Math.round((now - (this.failingSince as number)) / 1000)} s` : 'joined';
    return {
      ready,
      live: this.fatal === undefined,
      detail: { kafka, groupId: this.cfg.groupId, partitions: this.lanes.size, pausedPartitions: this.paused, ...(this.lastError ? { kafkaError: this.lastError } : {}) },
    };
  }

  /**
   * How long without a fetch, heartbeat or commit means the broker is out of reach. A healthy
   * consumer fetches at least every maxWaitTime (5 s in kafkajs) and heartbeats every
   * sessionTimeout/10; twice the longer of the two leaves room for a slow chunk.
   */
  private contactTimeoutMs(): number {
    return 2 * Math.max(5000, Math.floor(this.cfg.sessionTimeoutMs / 10));
  }

  async start(processor: RecordProcessor): Promise<void> {
    try {
      await this.admin.connect();
      await this.consumer.connect();
      await this.state.ensureTopic(this.admin, this.cfg.topics);
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
      // Stop fetching and let the chunks in flight finish, produce and commit while the consumer
      // still runs: kafkajs skips commits once its runner is stopping.
      this.stopping = true;
      try {
        this.pause();
      } catch {
        // not running yet
      }
      await Promise.allSettled([...this.inFlight]);
      try {
        await this.consumer.disconnect();
      } finally {
        await this.state.close();
        await this.transactions?.close();
        await this.admin.disconnect().catch(() => {});
        this.finish?.();
      }
    })();
    return this.stopped;
  }

  private processor: RecordProcessor | undefined;

  private resetLanes(): void {
    this.generation++;
    // After a rebalance the partition may have had another owner: trust only the group's commits.
    this.uncommittedStart.clear();
    for (const lane of this.lanes.values()) this.processor?.dropLane(lane.name);
    this.lanes.clear();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    if (this.stopping) return;
    const done = this.runBatch(payload);
    this.inFlight.add(done);
    try {
      await done;
    } finally {
      this.inFlight.delete(done);
    }
  }

  private async runBatch({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const processor = this.processor;
    if (processor === undefined || batch.messages.length === 0 || !isRunning() || isStale()) return;
    const { topic, partition } = batch;
    const key = `${topic}/${partition}`;

    let lane = this.lanes.get(key);
    if (lane === undefined) {
      const generation = this.generation;
      // Before reading the committed offset: a previous owner's open transaction is aborted,
      // and it can no longer commit one.
      await this.transactions?.fence(topic, partition);
      const committed = await this.committed(topic, partition);
      if (generation !== this.generation || !isRunning()) return;
      // Window state was dropped: read again from the committed offset to rebuild it (or, with
      // no commit yet, from where this process first started on the partition).
      const from = committed.offset ?? this.uncommittedStart.get(key);
      if (from !== undefined && Number(batch.firstOffset()) > from) {
        this.log.info({ topic, partition, from, fetched: batch.firstOffset() }, 'rewinding to the committed offset to rebuild window state');
        this.consumer.seek({ topic, partition, offset: String(from) });
        return;
      }
      if (committed.offset === undefined) this.uncommittedStart.set(key, Number(batch.firstOffset()));
      else this.uncommittedStart.delete(key);
      const alerts = await this.restoredAlerts(key, generation, committed.checkpoint);
      if (generation !== this.generation || !isRunning()) return;
      lane = { name: `${key}@${generation}`, generation, replayBelow: committed.checkpoint?.next, changelog: new LaneChangelog(alerts) };
      processor.dropLane(lane.name);
      processor.restoreLane(lane.name, alerts, committed.checkpoint?.clock);
      this.lanes.set(key, lane);
    }

    // A fetch can carry thousands of messages: work (and commit) in chunks, so a drain or a
    // rebalance waits for one chunk, not for the whole fetch.
    const chunkSize = this.cfg.maxBatchMessages;
    for (let from = 0; from < batch.messages.length; from += chunkSize) {
      if (this.stopping || !isRunning() || isStale() || lane.generation !== this.generation) break;
      if (processor.queuedWindows() > this.cfg.maxQueuedWindows) {
        const resume = pause();
        this.setPaused(+1);
        await processor.drained();
        this.setPaused(-1);
        resume();
      }
      const chunk = batch.messages.slice(from, from + chunkSize);
      this.metrics.kafkaMessagesIn.inc({ topic }, chunk.length);
      this.metrics.kafkaBatchSize.observe(chunk.length);
      let tx: Transaction | undefined;
      let count: (() => void) | void;
      const started = performance.now();
      const waited = messageAgeSeconds(Date.now(), chunk[0]?.timestamp);
      try {
        const records = chunk.map((m) => toRecord(topic, partition, m));
        const opts = { lane: lane.name, deferCounts: true, ...(lane.replayBelow !== undefined ? { replayBelow: lane.replayBelow } : {}) };
        tx = await this.transactions?.begin(topic, partition);
        count = await (tx ? chunkTransaction.run(tx, () => processor.process(records, opts)) : processor.process(records, opts));
      } catch (err) {
        await this.transactions?.abort(topic, partition, tx);
        // Nothing of this chunk may be committed; its state is suspect. Rebuild from the last commit.
        this.lanes.delete(key);
        processor.dropLane(lane.name);
        this.failingSince ??= Date.now();
        this.lastError = (err as Error).message;
        this.metrics.kafkaChunkFailures.inc();
        this.metrics.kafkaRetriedMessages.inc(chunk.length);
        this.log.error({ err, topic, partition, offset: chunk[0]?.offset }, 'processing a chunk failed; it is retried from the last commit');
        // kafkajs restarts the consumer only after errors it deems retriable; a TypeError (any
        // bug) would stop it for good, silently. Whatever failed, ask for a retry.
        throw new SeismoError('SEISMO_SOURCE_FAILED', `processing ${topic}/${partition} at offset ${chunk[0]?.offset} failed: ${(err as Error).message}`, { retriable: true });
      }
      this.failingSince = undefined;
      const processed = performance.now();
      const now = Date.now();
      // Messages re-read only to rebuild window state after a restart were counted when first processed.
      const replayBelow = lane.replayBelow ?? -1;
      for (const m of chunk) {
        const age = Number(m.offset) >= replayBelow ? messageAgeSeconds(now, m.timestamp) : undefined;
        if (age !== undefined) this.metrics.endToEnd.observe(age);
      }
      const lastOffset = (chunk[chunk.length - 1] as KafkaMessage).offset;
      resolveOffset(lastOffset);
      const next = Number(lastOffset) + 1;
      this.metrics.kafkaLag.set({ topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - next));
      if (!(await this.commit(lane, topic, partition, next, tx))) return;
      // Observed once the chunk is durable: a chunk that failed and was retried counts once (its
      // waiting then includes the retry), and one re-read only as replay not at all.
      if (Number(lastOffset) >= replayBelow) {
        if (waited !== undefined) this.metrics.chunkStage.observe({ stage: 'waiting' }, waited);
        this.metrics.chunkStage.observe({ stage: 'processing' }, (processed - started) / 1000);
        this.metrics.chunkStage.observe({ stage: 'committing' }, (performance.now() - processed) / 1000);
      }
      count?.();
      await heartbeat();
    }
  }

  /** Commits the lane's checkpoint; false (and the lane dropped, to be rebuilt) when the commit failed. */
  private async commit(lane: LaneState, topic: string, partition: number, next: number, tx: Transaction | undefined): Promise<boolean> {
    const processor = this.processor as RecordProcessor;
    const key = `${topic}/${partition}`;
    if (lane.generation !== this.generation) {
      await this.transactions?.abort(topic, partition, tx);
      processor.dropLane(lane.name);
      return false;
    }
    const cp = processor.checkpoint(lane.name);
    const offset = Math.min(cp.replayFrom ?? next, next);
    const metadata = encodeCheckpoint(next, cp.clock);
    try {
      // State first, then the offset: a crash in between leaves state one chunk ahead, which the
      // records' asOf/prev let a restore undo (alert-changelog.ts). In a transaction both, with
      // the chunk's flags and dead letters, commit together or not at all.
      await this.state.write(topic, partition, lane.changelog.diff(cp.alerts, next), tx);
      if (tx) {
        await tx.sendOffsets({ consumerGroupId: this.cfg.groupId, topics: [{ topic, partitions: [{ partition, offset: String(offset), metadata } as { partition: number; offset: string }] }] });
        await tx.commit();
      } else {
        await this.consumer.commitOffsets([{ topic, partition, offset: String(offset), metadata }]);
      }
      this.metrics.kafkaCommits.inc({ result: 'ok' });
      this.lastContact = Date.now();
      return true;
    } catch (err) {
      // Typically a rebalance: the new owner rebuilds from the previous commit (same flags, same ids).
      await this.transactions?.abort(topic, partition, tx);
      this.metrics.kafkaCommits.inc({ result: 'failed' });
      this.log.warn({ err, topic, partition }, 'offset commit failed; partition state will be rebuilt from the previous commit');
      this.lanes.delete(key);
      processor.dropLane(lane.name);
      return false;
    }
  }

  /**
   * The alert state that belongs to the committed position: from the state topic (read once per
   * group generation), or from a version-1 commit's metadata when the topic has none yet.
   */
  private async restoredAlerts(key: string, generation: number, checkpoint: ReturnType<typeof decodeCheckpoint>): Promise<Record<string, AlertSnapshot>> {
    if (checkpoint === undefined) return {};
    if (this.stored?.generation !== generation) {
      const state = this.state.load(this.admin);
      // A failed read is retried by the next lane (and the failed batch by kafkajs).
      state.catch(() => (this.stored = undefined));
      this.stored = { generation, state };
    }
    const entities = (await this.stored.state).get(key);
    const alerts = entities === undefined ? (checkpoint.alerts ?? {}) : restoreAlerts(entities, checkpoint.next);
    this.metrics.stateRestoredEntities.inc(Object.keys(alerts).length);
    return alerts;
  }

  private setPaused(delta: number): void {
    this.paused += delta;
    this.metrics.kafkaPaused.set(this.paused);
  }

  private async committed(topic: string, partition: number): Promise<{ offset: number | undefined; checkpoint: ReturnType<typeof decodeCheckpoint> }> {
    let result: Awaited<ReturnType<Admin['fetchOffsets']>> | undefined;
    for (let attempt = 0; result === undefined; attempt++) {
      try {
        result = await this.admin.fetchOffsets({ groupId: this.cfg.groupId, topics: [topic] });
      } catch (err) {
        // A coordinator that is still loading answers with a retriable error; anything else, or too many, fails the batch.
        if (attempt >= 10 || (err as { retriable?: boolean }).retriable !== true) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** Math.min(attempt, 5)));
      }
    }
    const p = result.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    const offset = p && Number(p.offset) >= 0 ? Number(p.offset) : undefined;
    return { offset, checkpoint: offset === undefined ? undefined : decodeCheckpoint(p?.metadata) };
  }
}

/** Clock skew tolerated between producers and this host before a timestamp counts as bogus. */
const MAX_FUTURE_SKEW_MS = 60_000;

/**
 * Seconds from a Kafka message timestamp (its producer's clock, or the broker's with
 * LogAppendTime) to `nowMs`; undefined when there is no usable timestamp: missing or -1 (old
 * message formats and clients), not a number, or further in the future than clock skew explains.
 * A bogus timestamp must neither throw in a metric (prom-client rejects NaN) nor record decades.
 */
export function messageAgeSeconds(nowMs: number, timestamp: string | undefined): number | undefined {
  const ts = Number(timestamp);
  if (timestamp === undefined || !Number.isFinite(ts) || ts <= 0 || ts > nowMs + MAX_FUTURE_SKEW_MS) return undefined;
  return Math.max(0, nowMs - ts) / 1000;
}

export function toRecord(topic: string, partition: number, m: KafkaMessage): SourceRecord {
  const headers: Record<string, Uint8Array | string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    headers[k] = Array.isArray(v) ? Buffer.concat(v.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))) : v;
  }
  const original: OriginalMessage = { key: m.key, value: m.value, headers };
  const text = m.value?.toString('utf8') ?? '';
  const position = { source: topic, partition, offset: m.offset, timestamp: Number(m.timestamp) };
  // A keyless message lands on any partition: one entity's readings would be split between
  // partitions (and instances), each with half a window. The key is the entity id, always.
  if (m.key === null || m.key.length === 0) {
    return { kind: 'poison', poison: { reason: 'invalid_shape', detail: 'the message has no key: the key must be the entity id, so that all readings of an entity land on one partition', position, raw: text.slice(0, 1024), original } };
  }
  return { kind: 'raw', text, position, key: m.key.toString('utf8'), original };
}
