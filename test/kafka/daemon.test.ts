import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { TEST_KAFKA_PORT } from '../global-kafka.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';
import {
  bootstrap,
  caughtUp,
  cli,
  MODEL_YAML,
  createTopics,
  DaemonProcess,
  daemonTracker,
  dedupe,
  kafkaClient,
  kcatRead,
  offlineFlags,
  produce,
  readTopic,
  SKAB,
  sleep,
  skabSubset,
  sortFlags,
  trainWorkspace,
  unique,
  waitFor,
  type Workspace,
} from './harness.js';

// `seismo run` against the real broker: processes, signals, topics. No mocks anywhere.
const describeKafka = bootstrap ? describe : describe.skip;

describeKafka('seismo run against a real Kafka broker', () => {
  let ws: Workspace;
  /** Four SKAB files (entities "0".."3"), ~4,500 readings. */
  let small: string;
  /** All sixteen valve1 files, ~18,000 readings: long enough to interrupt mid-stream. */
  let large: string;
  let smallOffline: Flag[];
  let largeOffline: Flag[];
  const { daemon, stopAll } = daemonTracker();

  beforeAll(() => {
    small = skabSubset(['0.csv', '1.csv', '2.csv', '3.csv']);
    large = skabSubset(readdirSync(`${SKAB}/valve1`).filter((f) => f.endsWith('.csv')));
    ws = trainWorkspace(small);
    smallOffline = offlineFlags(ws, small);
    largeOffline = offlineFlags(ws, large);
  }, 300_000);

  afterAll(stopAll);

  function topics(partitions = 3) {
    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    return { ...t, create: () => createTopics([{ topic: t.topic, partitions }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }]) };
  }

  it('flags a SKAB replay exactly like the offline replay; a kafkajs consumer and kcat read the same flags', async () => {
    expect(smallOffline.length).toBeGreaterThan(3);
    const t = topics();
    await t.create();
    const config = ws.kafkaConfig(t);
    produce(config, small, t.topic);
    const d = daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to process ${t.topic}\n${d.log()}`);
    expect(await d.ready()).toBe(true);

    const messages = await readTopic(t.flags, (m) => m.length >= smallOffline.length);
    const flags = messages.map((m) => JSON.parse(m.value?.toString() ?? '') as Flag);
    expect(sortFlags(flags)).toEqual(sortFlags(smallOffline));
    // Keyed by entity, with the id in a header for consumers that deduplicate without parsing.
    for (const m of messages) {
      const f = JSON.parse(m.value?.toString() ?? '') as Flag;
      expect(m.key?.toString()).toBe(f.entity);
      expect(m.headers?.['seismo-flag-id']?.toString()).toBe(f.id);
    }
    const viaKcat = kcatRead(t.flags);
    expect(sortFlags(viaKcat.map((m) => JSON.parse(m.value) as Flag))).toEqual(sortFlags(smallOffline));
    expect(viaKcat.every((m) => m.key === (JSON.parse(m.value) as Flag).entity)).toBe(true);

    expect(await d.metric('seismo_readings_total')).toBe(readingsIn(small));
    const commits = await d.metric('seismo_kafka_commits_total', 'result="ok"');
    expect(commits).toBeGreaterThan(0);
    // Every committed chunk is timed in each stage once: where its time went is on /metrics.
    for (const stage of ['waiting', 'processing', 'committing']) expect(await d.metric('seismo_chunk_stage_seconds_count', `stage="${stage}"`)).toBe(commits);
    expect(await d.metric('seismo_chunk_stage_seconds_sum', 'stage="processing"')).toBeGreaterThan(0);
    expect(await d.metric('seismo_kafka_consumer_lag_messages')).toBe(0);
    expect(await d.stop()).toBe(0);
  });

  it('sends every poison message to the dead-letter topic with its reason and original bytes, and scores every good one', async () => {
    const t = topics(1);
    await t.create();
    const config = ws.kafkaConfig(t);
    const good = (i: number) => ({ key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_000_000 + i * 1000, values: values(i) }) });
    const bad: { key: string | null; value: Buffer | string; reason: string }[] = [
      { key: 'pump', value: '{"entity":"pump","ts":', reason: 'invalid_json' },
      { key: 'pump', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), reason: 'invalid_json' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 'yesterday', values: values(0) }), reason: 'invalid_timestamp' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_000_500, values: { ...values(0), Current: 'high' } }), reason: 'invalid_shape' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_100_000, values: { ...values(0), Current: null } }), reason: 'missing_feature' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_100_001, values: { Current: 1 } }), reason: 'missing_feature' },
      { key: 'pump', value: JSON.stringify({ entity: 'other', ts: 1_700_000_000_000, values: values(0) }), reason: 'invalid_shape' },
      { key: 'pump', value: `{"entity":"pump","ts":1,"values":{},"pad":"${'x'.repeat(70_000)}"}`, reason: 'oversized' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_000_000, values: values(0) }), reason: 'out_of_order' },
      { key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_100_002, values: { ...values(0), Pressure: 12345.678 } }).replace('12345.678', '1e400'), reason: 'non_finite_value' },
    ];
    const producer = kafkaClient().producer();
    await producer.connect();
    const messages = [];
    let b = 0;
    for (let i = 0; i < 40; i++) {
      messages.push(good(i));
      if (i % 4 === 3 && b < bad.length) {
        const x = bad[b++];
        messages.push({ key: x?.key ?? null, value: x?.value ?? '', headers: { origin: `bad-${b}` } });
      }
    }
    await producer.send({ topic: t.topic, messages });
    await producer.disconnect();

    const d = daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to process ${t.topic}\n${d.log()}`);
    const dead = await readTopic(t.dlq, (m) => m.length >= bad.length);
    expect(dead.map((m) => m.headers?.['seismo-reason']?.toString())).toEqual(bad.map((x) => x.reason));
    dead.forEach((m, i) => {
      const original = bad[i];
      expect(m.value).toEqual(Buffer.from(original?.value ?? ''));
      expect(m.key?.toString()).toBe(original?.key);
      expect(m.headers?.origin?.toString()).toBe(`bad-${i + 1}`);
      expect(m.headers?.['seismo-source-topic']?.toString()).toBe(t.topic);
      expect(m.headers?.['seismo-source-partition']?.toString()).toBe('0');
      expect(Number(m.headers?.['seismo-source-offset']?.toString())).toBeGreaterThan(0);
      expect(m.headers?.['seismo-detail']?.toString().length).toBeGreaterThan(0);
    });
    expect(await d.metric('seismo_readings_total')).toBe(40);
    expect(await d.metric('seismo_windows_scored_total')).toBe(40 - 10 + 1);
    expect(await d.metric('seismo_poison_total', 'reason="invalid_json"')).toBe(2);
    expect(await d.metric('seismo_poison_total')).toBe(bad.length);
    expect(await d.stop()).toBe(0);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} mid-stream, then a restart: every reading is scored at least once and the deduplicated flags equal an uninterrupted run`, async () => {
      const t = topics(4);
      await t.create();
      const config = ws.kafkaConfig(t);
      produce(config, large, t.topic);
      const total = readingsIn(large);

      const first = daemon(config);
      await waitFor(async () => (await first.metric('seismo_readings_total')) >= total * 0.3, `progress\n${first.log()}`);
      const code = await first.stop(signal);
      expect(code).toBe(signal === 'SIGTERM' ? 0 : null);
      const firstReadings = first.totals()?.readings;
      if (signal === 'SIGTERM') expect(firstReadings).toBeLessThan(total);

      const second = daemon(config);
      await waitFor(() => caughtUp(t.group, t.topic), `the second daemon to finish\n${second.log()}`);
      const replayed = await second.metric('seismo_replayed_readings_total');
      const secondReadings = await second.metric('seismo_readings_total');
      expect(await second.stop()).toBe(0);

      // At least once: the two runs together accepted every reading (SIGKILL leaves no totals, so
      // the second run alone must cover everything the first could not have committed).
      if (firstReadings !== undefined) expect(firstReadings + secondReadings).toBeGreaterThanOrEqual(total);
      expect(secondReadings).toBeLessThan(total);
      expect(replayed).toBeGreaterThan(0);
      const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= largeOffline.length));
      expect(sortFlags(flags)).toEqual(sortFlags(largeOffline));
    });
  }

  it('two instances in one group split the partitions; when one stops the other takes over and nothing is lost', async () => {
    const t = topics(4);
    await t.create();
    const config = ws.kafkaConfig(t);
    const a = daemon(config);
    const b = daemon(config);
    await waitFor(async () => (await a.ready()) && (await b.ready()), `both to join\n${a.log()}\n${b.log()}`);
    await waitFor(() => assignment(a) + assignment(b) === 4 && assignment(a) > 0 && assignment(b) > 0, `a split assignment\n${a.log()}\n${b.log()}`);
    produce(config, large, t.topic);
    await waitFor(async () => (await a.metric('seismo_readings_total')) > 1000, `a to make progress\n${a.log()}`);
    expect(await a.stop()).toBe(0);
    await waitFor(() => assignment(b) === 4, `b to take every partition\n${b.log()}`);
    await waitFor(() => caughtUp(t.group, t.topic), `b to finish\n${b.log()}`);
    expect(await b.stop()).toBe(0);
    const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= largeOffline.length));
    expect(sortFlags(flags)).toEqual(sortFlags(largeOffline));
  });

  it('hot-swaps the model under load through the admin endpoint: nothing lost, new flags carry the new model; a bad model is refused and the old one kept', async () => {
    const other = `${ws.dir}/model-seed-7`;
    const incompatible = `${ws.dir}/model-4-features`;
    trainSeed(ws.dir, other, small);
    trainFeatures(ws.dir, incompatible, small);

    const t = topics(4);
    await t.create();
    const config = ws.kafkaConfig({ ...t, extra: 'admin:\n  enabled: true\n  port: 0\n' });
    produce(config, large, t.topic);
    const total = readingsIn(large);
    const d = daemon(config);
    await waitFor(async () => (await d.metric('seismo_readings_total')) >= total * 0.25, `progress\n${d.log()}`);
    const admin = (d.lines.find((l) => l.msg === 'admin endpoint listening')?.url as string | undefined) ?? '';
    expect(admin).toContain('/model/reload');

    const refused = await fetch(admin, { method: 'POST', body: JSON.stringify({ artifactDir: incompatible }) });
    expect(refused.status).toBe(409);
    const why = (await refused.json()) as { error: string; code: string };
    expect(why.code).toBe('SEISMO_MODEL_INCOMPATIBLE');
    expect(why.error).toContain('features');

    const swapped = await fetch(admin, { method: 'POST', body: JSON.stringify({ artifactDir: other }) });
    expect(swapped.status).toBe(200);
    const versions = (await swapped.json()) as { model: string; previous: string };
    expect(versions.model).not.toBe(versions.previous);

    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to finish\n${d.log()}`);
    expect(await d.metric('seismo_readings_total')).toBe(total);
    expect(await d.metric('seismo_model_reloads_total', 'result="ok"')).toBe(1);
    expect(await d.metric('seismo_model_reloads_total', 'result="failed"')).toBe(1);
    expect(await d.metric('seismo_model_info', `model="${versions.model}"`)).toBe(1);
    expect(await d.metric('seismo_poison_total')).toBe(0);
    expect(await d.stop()).toBe(0);
    const flags = dedupe(await readTopic(t.flags, () => false, 3_000));
    expect(new Set(flags.map((f) => f.model))).toEqual(new Set([versions.previous, versions.model]));
  });

  it('survives its broker stopping and coming back mid-run: not ready meanwhile, then recovers and loses nothing', async () => {
    // A broker of its own, so the other tests' broker is never disturbed.
    const dir = '/tmp/seismo-kafka-outage-test';
    const port = String(TEST_KAFKA_PORT + 2); // controller on +3; the suite broker holds +0 and +1
    const scripts = new URL('../../scripts/kafka/', import.meta.url).pathname;
    const broker = spawnSync('bash', [`${scripts}start.sh`, '--port', port, '--dir', dir, '--fresh'], { encoding: 'utf8' });
    expect(broker.status, broker.stderr).toBe(0);
    const brokers = broker.stdout.trim();
    try {
      const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
      await createTopics([{ topic: t.topic, partitions: 3 }, { topic: t.flags, partitions: 1 }, { topic: t.dlq, partitions: 1 }], brokers);
      const config = ws.kafkaConfig({ ...t, brokers });
      produce(config, large, t.topic);
      const d = daemon(config);
      await waitFor(async () => (await d.metric('seismo_readings_total')) >= readingsIn(large) * 0.2, `progress\n${d.log()}`);

      expect(spawnSync('bash', [`${scripts}stop.sh`, '--dir', dir], { encoding: 'utf8' }).status).toBe(0);
      // Within seconds: kafkajs retries a lost broker quietly; no fetch, heartbeat or commit for 10 s is an outage.
      await waitFor(async () => !(await d.ready()), `/readyz to report the outage\n${d.log()}`, 20_000);
      // Unready can come first (a produce left waiting); the broker counts as out of reach once
      // nothing has reached it for 10 s.
      await waitFor(async () => (await d.metric('seismo_kafka_connected')) === 0, `seismo_kafka_connected to drop\n${d.log()}`, 20_000);
      await sleep(3_000);
      expect(d.exitCode).toBeUndefined();

      const again = spawnSync('bash', [`${scripts}start.sh`, '--port', port, '--dir', dir], { encoding: 'utf8' });
      expect(again.status, again.stderr).toBe(0);
      await waitFor(() => caughtUp(t.group, t.topic, brokers), `recovery after the broker restart\n${d.log()}`, 240_000);
      expect(await d.ready()).toBe(true);
      expect(await d.stop()).toBe(0);
      const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= largeOffline.length, 5_000, brokers));
      expect(sortFlags(flags)).toEqual(sortFlags(largeOffline));
    } finally {
      spawnSync('bash', [`${scripts}stop.sh`, '--dir', dir, '--clean']);
    }
  });
});

/** Partitions in the daemon's latest group assignment (from its "joined consumer group" log line). */
function assignment(d: DaemonProcess): number {
  const joins = d.lines.filter((l) => l.msg === 'joined consumer group');
  const last = joins[joins.length - 1]?.assignment as Record<string, number[]> | undefined;
  return last ? Object.values(last).reduce((n, p) => n + p.length, 0) : 0;
}

function values(i: number): Record<string, number> {
  return { Accelerometer1RMS: 0.02 + 0.001 * (i % 5), Accelerometer2RMS: 0.04, Current: 1.3, Pressure: 0.05, Temperature: 79, Thermocouple: 26, Voltage: 233, 'Volume Flow RateRMS': 32 };
}

function readingsIn(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += readFileLines(`${dir}/${f}`) - 1;
  return n;
}

function readFileLines(path: string): number {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().length > 0).length;
}

/** The same architecture trained from another seed: a compatible, different model. */
function trainSeed(dir: string, out: string, data: string): void {
  const path = `${dir}/train-seed.yaml`;
  writeFileSync(path, `${MODEL_YAML.replace('  learningRate: 0.01\n', '  learningRate: 0.01\n  seed: 7\n')}artifactDir: ${out}\nhttp:\n  enabled: false\n`);
  cli(['train', '-c', path, '-d', data]);
}

/** A model over 4 of the 8 sensors: incompatible with the running one. */
function trainFeatures(dir: string, out: string, data: string): void {
  const path = `${dir}/train-features.yaml`;
  writeFileSync(path, `${MODEL_YAML}artifactDir: ${out}\nfeatures: [Accelerometer1RMS, Accelerometer2RMS, Current, Pressure]\nhttp:\n  enabled: false\n`);
  cli(['train', '-c', path, '-d', data]);
}
