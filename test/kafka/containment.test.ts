import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag } from '../../src/pipeline/types.js';
import { caughtUp, daemonTracker, dedupe, kafkaClient, offlineFlags, produce, readTopicCount, readTopic, skabSubset, sortFlags, trainWorkspace, unique, waitFor, type Workspace } from './harness.js';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Issue 12 against the real broker: inputs and failures that used to stop consumption for good
// (while /healthz said 200) must end in a dead letter, a visible unready state, or a retry.

const values = (i: number): Record<string, number> => ({ Accelerometer1RMS: 0.02 + 0.001 * (i % 5), Accelerometer2RMS: 0.04, Current: 1.3, Pressure: 0.05, Temperature: 79, Thermocouple: 26, Voltage: 233, 'Volume Flow RateRMS': 32 });

async function createTopicsWith(topics: { topic: string; config?: Record<string, string> }[]): Promise<void> {
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((t) => ({ topic: t.topic, numPartitions: 1, replicationFactor: 1, configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })) })),
    waitForLeaders: true,
  });
  await admin.disconnect();
}

async function send(topic: string, messages: { key: string | null; value: string | Buffer }[]): Promise<void> {
  const producer = kafkaClient().producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, messages: messages.slice(i, i + 500) });
  await producer.disconnect();
}

/** Daemons of the describes below: killed after the file, whatever a failing test left running. */
const tracked = daemonTracker();
afterAll(tracked.stopAll);

describe('seismo run keeps consuming whatever a record or a sink does (real broker)', () => {
  let ws: Workspace;
  let data: string;
  let offline: Flag[];
  const { daemon, stopAll } = daemonTracker();

  beforeAll(() => {
    data = skabSubset(['1.csv', '2.csv']);
    ws = trainWorkspace(data);
    offline = offlineFlags(ws, data);
  }, 300_000);

  afterAll(stopAll);

  const names = () => ({ topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') });

  it('an extreme value, a timestamp past the Date range and a keyless message neither halt nor wedge the partition', async () => {
    const t = names();
    await createTopicsWith([{ topic: t.topic }, { topic: t.flags }, { topic: t.dlq }]);
    const ts = (i: number) => 1_700_000_000_000 + i * 1000;
    const messages: { key: string | null; value: string }[] = [];
    for (let i = 0; i < 30; i++) messages.push({ key: 'pump', value: JSON.stringify({ entity: 'pump', ts: ts(i), values: values(i) }) });
    // A PLC's FLT_MAX-like sentinel on an established entity: its window's error overflows to Infinity.
    messages.push({ key: 'pump', value: JSON.stringify({ entity: 'pump', ts: ts(30), values: { ...values(30), Pressure: 1e30 } }) });
    // A date no JavaScript Date can hold, on a reading that is rejected anyway (the reject message printed it).
    messages.push({ key: 'far', value: JSON.stringify({ entity: 'far', ts: '10000000000000000', values: { Current: 1 } }) });
    messages.push({ key: null, value: JSON.stringify({ entity: 'pump', ts: ts(31), values: values(31) }) });
    for (let i = 32; i < 60; i++) messages.push({ key: 'pump', value: JSON.stringify({ entity: 'pump', ts: ts(i), values: values(i) }) });
    await send(t.topic, messages);

    const d = daemon(ws.kafkaConfig(t));
    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to get past every record\n${d.log()}`, 90_000);
    expect(await d.ready()).toBe(true);
    // 59 keyed pump readings, the 1e30 one among them; the far-future one and the keyless one are poison.
    expect(await d.metric('seismo_readings_total')).toBe(59);
    expect(await d.metric('seismo_poison_total')).toBe(2);
    expect(await d.metric('seismo_nonfinite_scores_total')).toBeGreaterThan(0);
    expect(await d.metric('seismo_kafka_consumer_restarts_total')).toBe(0);
    const dead = await readTopic(t.dlq, (m) => m.length >= 2);
    expect(dead.map((m) => m.key?.toString() ?? null)).toEqual(['far', null]);
    expect(['invalid_timestamp', 'processing_error', 'missing_feature']).toContain(dead[0]?.headers?.['seismo-reason']?.toString());
    expect(dead[1]?.headers?.['seismo-detail']?.toString()).toContain('no key');
    const flags = dedupe(await readTopic(t.flags, (m) => m.length >= 1));
    // Judged on the mean of the last 3 window scores (alerts.smoothWindows), one or two of them at the maximum.
    const extreme = flags.reduce((a, f) => (f.score > a.score ? f : a));
    expect(extreme?.score).toBeGreaterThan(1e29);
    expect(Number.isFinite(extreme?.severity)).toBe(true);
    expect(await d.stop()).toBe(0);
  });

  it('dead letters too large for the dead-letter topic are sent as bounded copies and the partition moves on', async () => {
    const t = names();
    await createTopicsWith([{ topic: t.topic, config: { 'max.message.bytes': '2000000' } }, { topic: t.flags }, { topic: t.dlq, config: { 'max.message.bytes': '20000' } }]);
    const big = Buffer.alloc(1_048_500, 0x61);
    const medium = `{"entity":"pump","ts":${'9'.repeat(50_000)}`; // invalid JSON, under input.maxMessageBytes, over the DLQ topic's limit
    const messages: { key: string | null; value: string | Buffer }[] = [{ key: 'pump', value: big }, { key: 'pump', value: medium }];
    for (let i = 0; i < 20; i++) messages.push({ key: 'pump', value: JSON.stringify({ entity: 'pump', ts: 1_700_000_000_000 + i * 1000, values: values(i) }) });
    for (const m of messages) await send(t.topic, [m]);

    const d = daemon(ws.kafkaConfig(t));
    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to get past the oversized records\n${d.log()}`, 90_000);
    expect(await d.metric('seismo_readings_total')).toBe(20);
    const dead = await readTopic(t.dlq, (m) => m.length >= 2);
    expect(dead.map((m) => m.headers?.['seismo-reason']?.toString())).toEqual(['oversized', 'invalid_json']);
    for (const [i, original] of [big, Buffer.from(medium)].entries()) {
      const m = dead[i];
      expect(m?.headers?.['seismo-truncated']?.toString()).toBe('true');
      expect(m?.headers?.['seismo-original-sha256']?.toString()).toBe(createHash('sha256').update(original).digest('hex'));
      expect(Number(m?.headers?.['seismo-original-value-bytes']?.toString())).toBe(original.length);
      expect(original.subarray(0, m?.value?.length).equals(m?.value as Buffer)).toBe(true);
      expect(m?.value?.length).toBeGreaterThan(0);
    }
    expect(await d.stop()).toBe(0);
  });

  it('a flags topic that rejects writes makes /readyz 503 within seconds; once it accepts, every flag arrives and readings are counted once', async () => {
    const t = names();
    // Every flag is larger than 200 bytes: the broker refuses each write until the limit is raised.
    await createTopicsWith([{ topic: t.topic }, { topic: t.flags, config: { 'max.message.bytes': '200' } }, { topic: t.dlq }]);
    const config = ws.kafkaConfig({ ...t, http: '  livenessGraceSeconds: 4\n' });
    produce(config, data, t.topic);
    const d = daemon(config);
    const healthz = async () => (await fetch((d.metricsUrl as string).replace('/metrics', '/healthz'))).status;
    await waitFor(async () => (await d.metric('seismo_kafka_chunk_failures_total')) > 0, `a failing chunk\n${d.log()}`, 90_000);
    const failedAt = Date.now();
    await waitFor(async () => !(await d.ready()), 'readiness to turn 503', 15_000);
    const readyz = await (await fetch((d.metricsUrl as string).replace('/metrics', '/readyz'))).json();
    expect(JSON.stringify(readyz)).toMatch(/producer|processing failing/);
    expect(Date.now() - failedAt).toBeLessThan(15_000);
    expect(await d.metric('seismo_ready')).toBe(0);
    // Unready past http.livenessGraceSeconds: /healthz fails too, so an orchestrator restarts Seismo.
    expect(await healthz()).toBe(200);
    await waitFor(async () => (await healthz()) === 503, 'liveness to fail after the grace', 15_000);
    expect(Date.now() - failedAt).toBeGreaterThan(4_000);
    // Nothing was made durable, so nothing is counted, however often it was retried.
    expect(await d.metric('seismo_flags_total')).toBe(0);

    const admin = kafkaClient().admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: t.flags, configEntries: [{ name: 'max.message.bytes', value: '1000000' }] }] });
    await admin.disconnect();

    await waitFor(() => caughtUp(t.group, t.topic), `the daemon to recover\n${d.log()}`, 120_000);
    await waitFor(() => d.ready(), 'readiness to come back', 15_000);
    expect(await healthz()).toBe(200);
    expect(await d.metric('seismo_readings_total')).toBe(readingsIn(data));
    expect(await d.metric('seismo_kafka_retried_messages_total')).toBeGreaterThan(0);
    const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= offline.length));
    expect(sortFlags(flags)).toEqual(sortFlags(offline));
    expect(await d.stop()).toBe(0);
  });
});

describe('source.transactions: exactly once for read_committed subscribers (real broker)', () => {
  let ws: Workspace;
  let data: string;
  let offline: Flag[];
  beforeAll(() => {
    data = skabSubset(['1.csv', '2.csv', '3.csv']);
    ws = trainWorkspace(data);
    offline = offlineFlags(ws, data);
  }, 300_000);

  it('SIGKILL mid-stream, then a restart: the flags topic holds every flag exactly once, no duplicates to drop', async () => {
    expect(offline.length).toBeGreaterThan(3);
    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopicsWith([{ topic: t.topic }, { topic: t.flags }, { topic: t.dlq }]);
    const config = ws.kafkaConfig(t);
    writeFileSync(config, readFileSync(config, 'utf8').replace('  sessionTimeoutMs: 8000\n', '  sessionTimeoutMs: 8000\n  transactions: true\n  maxBatchMessages: 100\n'));
    expect(readFileSync(config, 'utf8')).toContain('transactions: true');
    produce(config, data, t.topic);
    const total = readingsIn(data);
    const first = tracked.daemon(config);
    await waitFor(async () => (await first.metric('seismo_readings_total')) >= total * 0.4, `progress\n${first.log()}`, 120_000);
    expect(await first.stop('SIGKILL')).toBe(null);

    const second = tracked.daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the second run to finish\n${second.log()}`, 120_000);
    expect(await second.stop()).toBe(0);
    // kafkajs consumers read with isolation.level=read_committed: aborted chunks are invisible.
    const flags = (await readTopic(t.flags, (m) => m.length >= offline.length)).map((m) => JSON.parse(m.value?.toString() ?? '') as Flag);
    expect(flags.length).toBe(offline.length);
    expect(new Set(flags.map((f) => f.id)).size).toBe(flags.length);
    expect(sortFlags(flags)).toEqual(sortFlags(offline));
  });
});

describe('source.transactions when a commit fails after the flags were sent (real broker)', () => {
  let ws: Workspace;
  let data: string;
  let offline: Flag[];
  let offlineAdaptive: Flag[];
  const withAdaptation = (y: string) => y.replace('  cooldownWindows: 5\n', '  cooldownWindows: 5\n  adaptiveHalfLifeWindows: 100\n  adaptiveWarmupWindows: 20\n');
  beforeAll(() => {
    data = skabSubset(['1.csv', '2.csv']);
    ws = trainWorkspace(data);
    offline = offlineFlags(ws, data);
    offlineAdaptive = offlineFlags(ws, data, withAdaptation);
  }, 300_000);

  // The state topic refuses every write (max.message.bytes 100) until the test raises its limit:
  // each chunk that changes alert state sends its flags, then fails to commit, and is retried.
  async function run(transactions: boolean, adaptive = false): Promise<Flag[]> {
    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopicsWith([{ topic: t.topic }, { topic: t.flags }, { topic: t.dlq }, { topic: `${t.group}.state`, config: { 'max.message.bytes': '100', 'cleanup.policy': 'compact' } }]);
    const config = ws.kafkaConfig(t);
    // Without adaptation the first chunks leave alert state at rest (nothing to write, commits
    // succeed) and the failures start with the first alert, after flags were sent. With it,
    // every chunk writes state, so not even the first commit succeeds.
    const text = readFileSync(config, 'utf8').replace('  sessionTimeoutMs: 8000\n', `  sessionTimeoutMs: 8000\n  transactions: ${transactions}\n  maxBatchMessages: 200\n`);
    writeFileSync(config, adaptive ? withAdaptation(text) : text);
    expect(readFileSync(config, 'utf8').includes('adaptiveHalfLifeWindows: 100')).toBe(adaptive);
    produce(config, data, t.topic);
    const d = tracked.daemon(config);
    const failures = async () => (await d.metric('seismo_kafka_commits_total', 'result="failed"')) + (await d.metric('seismo_kafka_chunk_failures_total'));
    await waitFor(async () => (await failures()) >= 3, `failed commits\n${d.log().slice(-4000)}`, 60_000);
    const admin = kafkaClient().admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: `${t.group}.state`, configEntries: [{ name: 'max.message.bytes', value: '1000000' }] }] });
    await admin.disconnect();
    await waitFor(() => caughtUp(t.group, t.topic), `recovery\n${d.log()}`, 100_000);
    expect(await d.stop()).toBe(0);
    return (await readTopic(t.flags, () => false, 3_000)).map((m) => JSON.parse(m.value?.toString() ?? '') as Flag);
  }

  it('without transactions the retried chunks publish their flags again (consumers must drop duplicate ids)', { timeout: 240_000 }, async () => {
    const flags = await run(false);
    expect(flags.length).toBeGreaterThan(offline.length);
    expect(sortFlags(dedupe(flags.map((f) => ({ value: Buffer.from(JSON.stringify(f)) }) as never)))).toEqual(sortFlags(offline));
  });

  it('when not even the first commit succeeds (adaptation writes state from the first chunk), the rebuilt lane starts where it started, not where the fetch stands', { timeout: 240_000 }, async () => {
    // Before the fix, with no committed offset the lane was rebuilt mid-stream, skipping the
    // failed chunks: different alert histories, different flags.
    const flags = await run(false, true);
    expect(sortFlags(dedupe(flags.map((f) => ({ value: Buffer.from(JSON.stringify(f)) }) as never)))).toEqual(sortFlags(offlineAdaptive));
  });

  it('with transactions a read_committed subscriber sees every flag exactly once', { timeout: 240_000 }, async () => {
    const flags = await run(true);
    expect(flags.length).toBe(offline.length);
    expect(sortFlags(flags)).toEqual(sortFlags(offline));
  });
});

describe('alert state in the state topic (issue 12: the 4 KB commit metadata overflowed)', () => {
  let ws: Workspace;
  beforeAll(() => {
    ws = trainWorkspace(skabSubset(['1.csv']));
  }, 300_000);

  it('300 entities with open alerts keep them across a restart: flags equal an uninterrupted run', async () => {
    // 300 entities far from the training data: every one opens an alert in the first half and
    // is still open at the restart. Their state is ~20 KB, five times the old metadata budget.
    const entities = Array.from({ length: 300 }, (_, i) => `machine-${String(i).padStart(3, '0')}`);
    const lines = (from: number, to: number) => {
      const out: string[] = [];
      for (let i = from; i < to; i++) for (const e of entities) out.push(JSON.stringify({ entity: e, ts: 1_700_000_000_000 + i * 1000, values: { ...values(i), Current: 9 + (i % 3), Voltage: 100 } }));
      return out;
    };
    const first = lines(0, 20);
    const second = lines(20, 32);
    const dir = mkdtempSync(join(tmpdir(), 'seismo-state-'));
    writeFileSync(join(dir, 'all.ndjson'), `${[...first, ...second].join('\n')}\n`);
    const reference = offlineFlags(ws, dir);
    expect(reference.filter((f) => f.state === 'open').length).toBe(entities.length);

    const t = { topic: unique('readings'), group: unique('group'), flags: unique('flags'), dlq: unique('dlq') };
    await createTopicsWith([{ topic: t.topic }, { topic: t.flags }, { topic: t.dlq }]);
    const config = ws.kafkaConfig(t);
    const asMessages = (ls: string[]) => ls.map((l) => ({ key: (JSON.parse(l) as { entity: string }).entity, value: l }));
    await send(t.topic, asMessages(first));
    const one = tracked.daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the first run\n${one.log()}`, 120_000);
    expect(await one.metric('seismo_alerts_open')).toBe(entities.length);
    expect(await one.metric('seismo_state_writes_total')).toBeGreaterThanOrEqual(entities.length);
    expect(await one.stop()).toBe(0);

    await send(t.topic, asMessages(second));
    const two = tracked.daemon(config);
    await waitFor(() => caughtUp(t.group, t.topic), `the second run\n${two.log()}`, 120_000);
    expect(await two.metric('seismo_state_restored_entities_total')).toBe(entities.length);
    expect(await two.stop()).toBe(0);
    const flags = dedupe(await readTopic(t.flags, (m) => dedupe(m).length >= reference.length));
    expect(sortFlags(flags)).toEqual(sortFlags(reference));
    expect(await readTopicCount(`${t.group}.state`)).toBeGreaterThanOrEqual(entities.length);
  });
});

function readingsIn(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter((l) => l.trim().length > 0).length - 1;
  return n;
}
