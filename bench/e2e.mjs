#!/usr/bin/env node
// End-to-end benchmark through a real broker: `npm run bench:e2e` (bench/e2e.sh builds first).
//
//   node bench/e2e.mjs [--readings 200000] [--entities 100] [--rate 5000] [--latency-seconds 30]
//                      [--many-entities 10000] [--units 64,32] [--partitions 4]
//                      [--max-batch 1024] [--many-max-batch 256]   (scoring.maxBatch of the runs)
//
// Starts its own broker (scripts/kafka/start.sh, port 39092, /tmp/seismo-kafka-bench), trains a
// throwaway model on simulator data (8 features, lookback 10; quality is irrelevant here), then:
//   1. start to ready: spawn `seismo run` until /readyz answers 200 (model warmed, group joined);
//   2. throughput: N readings already in the topic, time until every one is processed and its
//      chunk's flags acknowledged and offsets committed (readings/s, broker included);
//   3. latency: readings produced at a steady rate stamped with their send time; p50/p99 of
//      seismo_end_to_end_latency_seconds (message timestamp -> flags acked) from the histogram;
//   4. memory: 10,000 entities' window state, RSS from /metrics.
// Writes bench/out/e2e.json and prints a Markdown table.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { parseMetrics } from './chaos-lib.mjs';

const root = new URL('../', import.meta.url).pathname;
const CLI = join(root, 'dist/cli.js');
const { values: a } = parseArgs({
  options: {
    readings: { type: 'string', default: '200000' },
    entities: { type: 'string', default: '100' },
    rate: { type: 'string', default: '5000' },
    'latency-seconds': { type: 'string', default: '30' },
    'many-entities': { type: 'string', default: '10000' },
    units: { type: 'string', default: '64,32' },
    partitions: { type: 'string', default: '4' },
    port: { type: 'string', default: '39092' },
    'max-batch': { type: 'string', default: '1024' },
    'many-max-batch': { type: 'string', default: '256' },
  },
});
const N = Number(a.readings);
const ENTITIES = Number(a.entities);
const dir = mkdtempSync(join(tmpdir(), 'seismo-e2e-'));
const kafkaDir = '/tmp/seismo-kafka-bench';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (m) => process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function run(args, env = {}) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`seismo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const broker = spawnSync('bash', [join(root, 'scripts/kafka/start.sh'), '--port', a.port, '--dir', kafkaDir, '--fresh'], { encoding: 'utf8' });
if (broker.status !== 0) throw new Error(broker.stderr);
const bootstrap = broker.stdout.trim();
const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

const modelYaml = (extra = '', maxBatch = a['max-batch']) => `artifactDir: ${join(dir, 'model')}
window:
  lookback: 10
  maxGapSeconds: 100000000
model:
  encoderUnits: [${a.units}]
  epochs: 2
  batchSize: 256
  learningRate: 0.005
scoring:
  maxBatch: ${maxBatch}
  maxDelayMs: 5
http:
  port: 0
log:
  level: info
kafka:
  brokers: ["${bootstrap}"]
${extra}`;

function configFor(name, topic, group, maxBatch = a['max-batch']) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, modelYaml(`source:\n  kind: kafka\n  topics: [${topic}]\n  groupId: ${group}\n  partitionsConsumedConcurrently: ${a.partitions}\n  maxBatchMessages: 2000\nsink:\n  kind: kafka\n  topic: ${topic}-flags\n  deadLetterTopic: ${topic}-dlq\n`, maxBatch));
  return path;
}

async function topics(name) {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: Number(a.partitions) }, { topic: `${name}-flags`, numPartitions: 1 }, { topic: `${name}-dlq`, numPartitions: 1 }] });
}

class Daemon {
  constructor(config) {
    this.started = performance.now();
    this.child = spawn('node', [CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.buf = '';
    this.url = undefined;
    const on = (d) => {
      this.buf += d.toString();
      const m = /"url":"([^"]+)"/.exec(this.buf);
      if (m) this.url = m[1];
    };
    this.child.stdout.on('data', on);
    this.child.stderr.on('data', on);
    this.exited = new Promise((r) => this.child.on('exit', r));
  }
  async metrics() {
    return parseMetrics(await (await fetch(this.url)).text());
  }
  async ready() {
    return this.url !== undefined && (await fetch(this.url.replace('/metrics', '/readyz')).catch(() => ({ status: 0 }))).status === 200;
  }
  async stop() {
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

async function waitFor(cond, ms = 600_000) {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timeout');
    await sleep(50);
  }
}

function histogramQuantile(m, name, q) {
  const buckets = Object.entries(m)
    .filter(([k]) => k.startsWith(`${name}_bucket{`))
    .map(([k, v]) => [k.includes('+Inf') ? Infinity : Number(/le="([^"]+)"/.exec(k)[1]), v])
    .sort((x, y) => x[0] - y[0]);
  const total = buckets[buckets.length - 1][1];
  const target = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= target) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (target - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return NaN;
}

const results = { machine: `${(await import('node:os')).cpus().length} cores`, readings: N, entities: ENTITIES, units: a.units, partitions: Number(a.partitions) };
try {
  say(`training a throwaway model (encoder [${a.units}])`);
  const trainData = join(dir, 'train.ndjson');
  run(['simulate', '-o', trainData, '--entities', '2', '--steps', '600', '--events', '0']);
  const trainCfg = join(dir, 'train.yaml');
  writeFileSync(trainCfg, modelYaml());
  run(['train', '-c', trainCfg, '-d', trainData, '--force']); // throughput, not quality, is measured

  // 1 + 2: start to ready, throughput on a pre-filled topic
  const t1 = `tput-${Date.now()}`;
  await topics(t1);
  say(`producing ${N} readings of ${ENTITIES} entities`);
  const produced = run(['produce', '-c', configFor('t1', t1, `${t1}-g`), '--topic', t1, '--entities', String(ENTITIES), '--steps', String(Math.ceil(N / ENTITIES))]);
  say(produced.trim());
  const total = Math.ceil(N / ENTITIES) * ENTITIES;
  const d1 = new Daemon(configFor('t1', t1, `${t1}-g`));
  await waitFor(() => d1.ready());
  results.startToReadySeconds = (performance.now() - d1.started) / 1000;
  say(`ready after ${results.startToReadySeconds.toFixed(2)} s`);
  let first;
  await waitFor(async () => {
    const m = await d1.metrics();
    const n = m.seismo_readings_total ?? 0;
    if (first === undefined && n > 0) first = { t: performance.now(), n };
    return (m['seismo_kafka_messages_in_total{topic="' + t1 + '"}'] ?? 0) >= total && Object.entries(m).filter(([k]) => k.startsWith('seismo_kafka_consumer_lag_messages{')).every(([, v]) => v === 0);
  });
  const end = performance.now();
  const m1 = await d1.metrics();
  results.throughput = {
    readingsPerSecond: (m1.seismo_readings_total - first.n) / ((end - first.t) / 1000),
    seconds: (end - first.t) / 1000,
    windowsScored: m1.seismo_windows_scored_total,
    flags: Object.entries(m1).filter(([k]) => k.startsWith('seismo_flags_total')).reduce((s, [, v]) => s + v, 0),
    meanScoringBatch: m1.seismo_scoring_batch_windows_sum / m1.seismo_scoring_batch_windows_count,
    scoringSecondsShare: m1.seismo_scoring_duration_seconds_sum / ((end - d1.started) / 1000),
    rssMB: m1.seismo_process_resident_memory_bytes / 2 ** 20,
    maxBatch: Number(a['max-batch']),
  };
  say(`throughput ${results.throughput.readingsPerSecond.toFixed(0)} readings/s`);

  // 3: latency at a steady rate, on the same daemon (caught up, warm)
  const t3 = t1; // same topic and group: the daemon is subscribed to it
  const before = await d1.metrics();
  say(`latency: ${a.rate} readings/s for ${a['latency-seconds']} s`);
  const steps = Math.ceil((Number(a.rate) * Number(a['latency-seconds'])) / ENTITIES);
  run(['produce', '-c', configFor('t3', t3, `${t1}-g`), '--topic', t3, '--entities', String(ENTITIES), '--steps', String(steps), '--rate', a.rate, '--now', '--seed', '8']);
  await sleep(2000);
  const after = await d1.metrics();
  const delta = {};
  for (const k of Object.keys(after)) if (k.startsWith('seismo_end_to_end_latency_seconds_bucket')) delta[k] = after[k] - (before[k] ?? 0);
  results.latency = { rate: Number(a.rate), seconds: Number(a['latency-seconds']), p50ms: histogramQuantile(delta, 'seismo_end_to_end_latency_seconds', 0.5) * 1000, p99ms: histogramQuantile(delta, 'seismo_end_to_end_latency_seconds', 0.99) * 1000 };
  say(`latency p50 ${results.latency.p50ms.toFixed(1)} ms, p99 ${results.latency.p99ms.toFixed(1)} ms`);
  await d1.stop();

  // 4: many entities
  const many = Number(a['many-entities']);
  const t4 = `many-${Date.now()}`;
  await topics(t4);
  run(['produce', '-c', configFor('t4', t4, `${t4}-g`), '--topic', t4, '--entities', String(many), '--steps', '20']);
  const d4 = new Daemon(configFor('t4', t4, `${t4}-g`, a['many-max-batch']));
  await waitFor(async () => (await d4.ready()) && ((await d4.metrics()).seismo_readings_total ?? 0) >= many * 20);
  const m4 = await d4.metrics();
  results.manyEntities = { maxBatch: Number(a['many-max-batch']), entities: m4.seismo_entities, rssMB: m4.seismo_process_resident_memory_bytes / 2 ** 20, heapMB: m4.seismo_nodejs_heap_size_used_bytes / 2 ** 20 };
  say(`${many} entities: RSS ${results.manyEntities.rssMB.toFixed(0)} MB`);
  await d4.stop();
} finally {
  await admin.disconnect();
  spawnSync('bash', [join(root, 'scripts/kafka/stop.sh'), '--dir', kafkaDir, '--clean']);
}

mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/e2e.json'), JSON.stringify(results, null, 2));
const r = results;
console.log(`| measure | result | target |
| --- | ---: | ---: |
| throughput, ${r.readings.toLocaleString()} readings of ${r.entities} entities, ${r.partitions} partitions, encoder [${r.units}], scoring.maxBatch ${r.throughput.maxBatch}, broker included | ${Math.round(r.throughput.readingsPerSecond).toLocaleString()} readings/s (${r.throughput.seconds.toFixed(1)} s; ${Math.round(r.throughput.meanScoringBatch)} windows per scoring flush; scoring ${(r.throughput.scoringSecondsShare * 100).toFixed(0)}% of wall time; RSS ${r.throughput.rssMB.toFixed(0)} MB) | >= 20,000 |
| reading -> flags acked latency at ${r.latency.rate.toLocaleString()} readings/s for ${r.latency.seconds} s | p50 ${r.latency.p50ms.toFixed(1)} ms, p99 ${r.latency.p99ms.toFixed(1)} ms | p99 <= 50 ms |
| RSS with ${r.manyEntities.entities.toLocaleString()} entities in memory (scoring.maxBatch ${r.manyEntities.maxBatch}) | ${r.manyEntities.rssMB.toFixed(0)} MB (JS heap ${r.manyEntities.heapMB.toFixed(0)} MB) | <= 400 MB |
| start to ready (model loaded and warmed, group joined) | ${r.startToReadySeconds.toFixed(2)} s | <= 5 s |`);
