import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallConfig } from '../helpers.js';
import { POISON_REASONS } from '../../src/pipeline/types.js';
import { caughtUp, DaemonProcess, kafkaClient, readTopic, skabSubset, trainWorkspace, unique, waitFor, type Workspace } from '../kafka/harness.js';
import { bytesOf, describeMessage, fuzzStream, type FuzzMessage, type FuzzShape } from './messages.js';

// Issue 12, proof by fuzzing through the real broker: 10,000 generated messages (good readings
// of a few entities mixed with every kind of bad or odd message, keyed, keyless and binary) are
// produced to a 3-partition topic, and a spawned `seismo run` consumes them. Nothing may halt
// it (caught up, ready, no consumer restart), every message is a reading or a dead letter
// exactly once (counters reconcile with what was produced, the dead-letter topic holds exactly
// the poison, each with a seismo-reason), good readings are never dead-lettered and impossible
// ones always are. Seed: SEISMO_FUZZ_SEED (the same stream for the same seed).

const SEED = Number(process.env.SEISMO_FUZZ_SEED ?? 20261130);
const N = Number(process.env.SEISMO_FUZZ_MESSAGES ?? 10_000);
const PARTITIONS = 3;

// SKAB valve1 features, at the values of its normal regime.
const typical: Record<string, number> = { Accelerometer1RMS: 0.027, Accelerometer2RMS: 0.04, Current: 1.3, Pressure: 0.05, Temperature: 79, Thermocouple: 26, Voltage: 233, 'Volume Flow RateRMS': 32 };
const shape: FuzzShape = { features: Object.keys(typical), typical, goodEntities: ['g0', 'g1', 'g2', 'g3', 'g4', 'g5'], maxMessageBytes: 65_536, baseTs: Date.UTC(2026, 0, 1) };

/** Partition by key, as a keyed producer would (any stable function will do); keyless ones round-robin. */
function partitionOf(m: FuzzMessage, i: number): number {
  const key = bytesOf(m.key);
  if (key === null || key.length === 0) return i % PARTITIONS;
  let h = 0;
  for (const b of key) h = (h * 31 + b) >>> 0;
  return h % PARTITIONS;
}

describe('fuzz: seismo run against the real broker contains 10,000 generated messages', () => {
  let ws: Workspace;
  const daemons: DaemonProcess[] = [];

  beforeAll(() => {
    ws = trainWorkspace(skabSubset(['1.csv']));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  });

  it('0 halts, every message a reading or a dead letter exactly once, counters reconciled', async () => {
    const t0 = Date.now();
    const messages = fuzzStream(shape, N, SEED);
    const generatedMs = Date.now() - t0;
    const t = { topic: unique('fuzz'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    const admin = kafkaClient().admin();
    await admin.connect();
    // Room for batches of records up to input.maxMessageBytes + 1 (the broker's default is 1 MB a batch).
    await admin.createTopics({
      topics: [
        { topic: t.topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '8000000' }] },
        { topic: t.flags, numPartitions: 1, replicationFactor: 1 },
        { topic: t.dlq, numPartitions: 1, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });

    // Sequential batches: per partition, the i-th message sent gets offset i, so a dead letter's
    // seismo-source-partition/offset names the generated message it came from.
    const byPosition = new Map<string, FuzzMessage>();
    const next = Array.from({ length: PARTITIONS }, () => 0);
    const producer = kafkaClient().producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let start = 0; start < messages.length; start += 200) {
      const batch = messages.slice(start, start + 200).map((m, j) => {
        const partition = partitionOf(m, start + j);
        byPosition.set(`${partition}/${next[partition]}`, m);
        next[partition] = (next[partition] as number) + 1;
        return { partition, key: bytesOf(m.key), value: bytesOf(m.value) };
      });
      await producer.send({ topic: t.topic, acks: -1, messages: batch });
    }
    await producer.disconnect();
    const producedMs = Date.now() - t0 - generatedMs;
    const ends = await admin.fetchTopicOffsets(t.topic);
    await admin.disconnect();
    expect(ends.map((e) => Number(e.high)).sort(), 'offsets as counted while producing').toEqual([...next].sort());
    const counts = { accept: 0, poison: 0, either: 0 };
    for (const m of messages) counts[m.expect]++;

    const started = Date.now();
    const d = new DaemonProcess(ws.kafkaConfig(t));
    daemons.push(d);
    await waitFor(() => d.metricsUrl !== undefined, `the daemon to listen\n${d.log()}`, 60_000);
    process.stdout.write(`generated in ${generatedMs} ms, produced in ${producedMs} ms\n`);
    const progress = setInterval(() => void Promise.all([d.metric('seismo_readings_total'), d.metric('seismo_poison_total'), d.metric('seismo_kafka_chunk_failures_total')]).then((v) => process.stdout.write(`progress ${JSON.stringify(v)}\n`)), 5000);
    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to get past all ${N} messages\n${d.log().slice(-4000)}`, 150_000);
    clearInterval(progress);
    const seconds = (Date.now() - started) / 1000;

    // 0 halts: ready, never restarted, never failed a chunk, still running.
    expect(await d.ready(), d.log().slice(-4000)).toBe(true);
    expect(d.exitCode).toBeUndefined();
    expect(await d.metric('seismo_kafka_consumer_restarts_total')).toBe(0);
    expect(await d.metric('seismo_kafka_chunk_failures_total')).toBe(0);

    // Reconciled exactly: every produced message counted once, as a reading or as poison.
    const readings = await d.metric('seismo_readings_total');
    const poison = await d.metric('seismo_poison_total');
    expect(readings + poison, `readings ${readings} + poison ${poison} = messages produced`).toBe(N);
    expect(readings).toBeGreaterThanOrEqual(counts.accept);
    expect(poison).toBeGreaterThanOrEqual(counts.poison);

    const dead = await readTopic(t.dlq, (m) => m.length >= poison, 10_000);
    expect(dead.length, 'dead-letter topic count = poison total').toBe(poison);
    const seen = new Set<string>();
    const reasons: Record<string, number> = {};
    for (const m of dead) {
      const h = (k: string) => m.headers?.[k]?.toString();
      const position = `${h('seismo-source-partition')}/${h('seismo-source-offset')}`;
      const original = byPosition.get(position);
      const what = original ? describeMessage(original) : `no generated message at ${position}`;
      expect(original, what).toBeDefined();
      expect(seen.has(position), `dead-lettered twice: ${what}`).toBe(false);
      seen.add(position);
      const reason = h('seismo-reason') ?? '';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      expect(POISON_REASONS, what).toContain(reason);
      expect(original?.expect, `dead-lettered (${reason}: ${h('seismo-detail')}) but must be accepted: ${what}`).not.toBe('accept');
      // The original bytes travel with the dead letter (a bounded copy for the oversized ones).
      const value = bytesOf(original?.value ?? null);
      if (h('seismo-truncated') === 'true') expect(Number(h('seismo-original-value-bytes'))).toBe(value?.length);
      else if (value === null) expect(m.value?.length ?? 0, what).toBe(0);
      else expect(m.value?.equals(value), what).toBe(true);
    }
    for (const [position, m] of byPosition) if (m.expect === 'poison') expect(seen.has(position), `must be dead-lettered: ${describeMessage(m)}`).toBe(true);
    // Some input that made a stage throw is contained, but still a bug: it is named here.
    const thrown = dead.filter((m) => m.headers?.['seismo-reason']?.toString() === 'processing_error');
    const thrownText = thrown.map((m) => `${m.headers?.['seismo-detail']?.toString()} <- ${describeMessage(byPosition.get(`${m.headers?.['seismo-source-partition']}/${m.headers?.['seismo-source-offset']}`) as FuzzMessage)}`).join('\n');
    // With the windower's timestamp sanity (window.maxFutureSeconds) no generated input makes a stage throw.
    if ('maxFutureSeconds' in smallConfig().window) expect(thrown.length, thrownText).toBe(0);

    expect(await d.stop()).toBe(0);
    // For BENCHMARKS.md: what the stream held and how long it took.
    process.stdout.write(`broker fuzz: ${N} messages (seed ${SEED}; generated accept ${counts.accept}, poison ${counts.poison}, either ${counts.either}) -> readings ${readings}, poison ${poison} ${JSON.stringify(reasons)}; caught up in ${seconds.toFixed(1)} s; processing_error: ${thrown.length}\n${thrownText.slice(0, 2000)}\n`);
  }, 300_000);
});
