#!/usr/bin/env node
// End-to-end benchmark through a real broker: `npm run bench:e2e` (bench/e2e.sh builds first).
//
//   node bench/e2e.mjs [--readings 200000] [--entities 100] [--rates 1000,5000,10000] [--latency-seconds 30]
//                      [--many-entities 10000] [--units 64,32] [--partitions 4] [--port 39092]
//                      [--max-batch 1024] [--many-max-batch 256]   (scoring.maxBatch of the runs)
//                      [--only ready,throughput,latency,memory,scaleout]
//                      [--variant NAME='{"node":["--flag"],"scoring":{"key":1},"window":{"stride":2}}' ...]
//                      [--scaleout-instances 1,2,3] [--scaleout-readings 300000] [--scaleout-partitions 6]
//
// Starts its own broker (scripts/kafka/start.sh on --port, in /tmp/seismo-kafka-bench-PORT),
// trains a throwaway model on simulator data (8 features, lookback 10; quality is irrelevant
// here), then:
//   1. start to ready: spawn `seismo run` until /readyz answers 200 (model warmed, group joined);
//   2. throughput: N readings already in the topic, time until every one is processed and its
//      chunk's flags acknowledged and offsets committed (readings/s, broker included); with
//      --variant, each variant (and default) consumes the same topic in a group of its own,
//      twice, in mirrored order (default, A, A, default);
//   3. latency: readings produced at each steady rate stamped with their send time;
//      p50/p95/p99/max of seismo_end_to_end_latency_seconds (message timestamp -> flags acked),
//      from the histogram (max: the upper bound of the highest non-empty bucket), with the
//      event-loop delay and GC time of the same interval. Each --variant (node flags and/or
//      scoring settings) gets a daemon of its own; the variants take turns at every rate, so
//      they are compared side by side in one run;
//   4. memory: 10,000 entities' window state, RSS from /metrics;
//   5. scale-out: 1, 2, 3 instances in one consumer group on a pre-filled topic; readings/s
//      from the moment the last instance is ready until the topic is consumed.
// The machine's 1-minute load average (os.loadavg) is recorded beside every cell.
// Writes bench/out/e2e.json and prints Markdown tables.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { parseMetrics } from './chaos-lib.mjs';

const root = new URL('../', import.meta.url).pathname;
const CLI = join(root, 'dist/cli.js');
// Daemons start the way users start them: through the launcher, which puts them on jemalloc
// when the library is installed (docs/BENCHMARKS.md, "Issue 15: memory"); node flags pass on.
const LAUNCHER = join(root, 'bin/seismo.js');
const { values: a } = parseArgs({
  options: {
    readings: { type: 'string', default: '200000' },
    entities: { type: 'string', default: '100' },
    rates: { type: 'string', default: '1000,5000,10000' },
    'latency-seconds': { type: 'string', default: '30' },
    'many-entities': { type: 'string', default: '10000' },
    units: { type: 'string', default: '64,32' },
    partitions: { type: 'string', default: '4' },
    port: { type: 'string', default: '39092' },
    'max-batch': { type: 'string', default: '1024' },
    'many-max-batch': { type: 'string', default: '256' },
    only: { type: 'string', default: 'ready,throughput,latency,memory,scaleout' },
    variant: { type: 'string', multiple: true, default: [] },
    'scaleout-instances': { type: 'string', default: '1,2,3' },
    'scaleout-readings': { type: 'string', default: '300000' },
    'scaleout-partitions': { type: 'string', default: '6' },
  },
});
const phases = new Set(a.only.split(','));
const unknownPhase = [...phases].filter((p) => !['ready', 'throughput', 'latency', 'memory', 'scaleout'].includes(p));
if (unknownPhase.length > 0) throw new Error(`--only: unknown phase(s) ${unknownPhase.join(', ')} (known: ready, throughput, latency, memory, scaleout)`);
/** A variant: extra node flags, environment, scoring and window settings for the latency daemons; `default` is today's settings. */
const variants = [{ name: 'default', node: [], env: {}, scoring: {}, window: {} }];
for (const v of a.variant) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${v}: expected NAME=JSON`);
  let spec;
  try {
    spec = JSON.parse(v.slice(eq + 1));
  } catch (err) {
    throw new Error(`--variant ${v.slice(0, eq)}: the JSON does not parse: ${err.message}`);
  }
  variants.push({ name: v.slice(0, eq), node: spec.node ?? [], env: spec.env ?? {}, scoring: spec.scoring ?? {}, window: spec.window ?? {} });
}
const load = () => Number(loadavg()[0].toFixed(2));
const N = Number(a.readings);
const ENTITIES = Number(a.entities);
const dir = mkdtempSync(join(tmpdir(), 'seismo-e2e-'));
// Per port, so that two benchmarks on one machine never share (or stop) each other's broker.
const kafkaDir = `/tmp/seismo-kafka-bench-${a.port}`;
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

const extraKeysYaml = (scoring) => Object.entries(scoring).map(([k, v]) => `\n  ${k}: ${JSON.stringify(v)}`).join('');
const modelYaml = (extra = '', maxBatch = a['max-batch'], scoring = {}, window = {}) => `artifactDir: ${join(dir, 'model')}
window:
  lookback: 10
  maxGapSeconds: 100000000${extraKeysYaml(window)}
model:
  encoderUnits: [${a.units}]
  epochs: 2
  batchSize: 256
  learningRate: 0.005
scoring:
  maxBatch: ${maxBatch}
  maxDelayMs: 5${extraKeysYaml(scoring)}
http:
  port: 0
log:
  level: info
kafka:
  brokers: ["${bootstrap}"]
${extra}`;

function configFor(name, topic, group, maxBatch = a['max-batch'], scoring = {}, partitions = a.partitions, window = {}) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, modelYaml(`source:\n  kind: kafka\n  topics: [${topic}]\n  groupId: ${group}\n  partitionsConsumedConcurrently: ${partitions}\n  maxBatchMessages: 2000\nsink:\n  kind: kafka\n  topic: ${topic}-flags\n  deadLetterTopic: ${topic}-dlq\n`, maxBatch, scoring, window));
  return path;
}

async function topics(name, partitions = Number(a.partitions)) {
  // A broker that has just started (or is busy) may answer the leader check with a retriable error: try again.
  for (let attempt = 0; ; attempt++) {
    try {
      await createTopics(name, partitions);
      return;
    } catch (err) {
      if (attempt >= 5 || err.retriable !== true) throw err;
      await sleep(500);
    }
  }
}

async function createTopics(name, partitions) {
  // Already there after a failed attempt: createTopics answers false, which is fine.
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions }, { topic: `${name}-flags`, numPartitions: 1 }, { topic: `${name}-dlq`, numPartitions: 1 }] });
}

/** Every daemon started, so that a failing run stops them all instead of leaving them orphaned. */
const daemons = new Set();

class Daemon {
  constructor(config, nodeArgs = [], env = {}) {
    daemons.add(this);
    this.started = performance.now();
    this.child = spawn('node', [...nodeArgs, LAUNCHER, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
    this.child.on('exit', (code, signal) => {
      daemons.delete(this);
      // A daemon that dies on its own would otherwise only show as a timeout much later.
      if (!this.stopping) say(`a daemon exited unexpectedly (code ${code}, signal ${signal}); its last output:\n${this.buf.slice(-2000)}`);
    });
  }
  async metrics() {
    return parseMetrics(await (await fetch(this.url)).text());
  }
  async ready() {
    return this.url !== undefined && (await fetch(this.url.replace('/metrics', '/readyz')).catch(() => ({ status: 0 }))).status === 200;
  }
  async stop() {
    this.stopping = true;
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

const results = { machine: `${cpus().length} cores`, readings: N, entities: ENTITIES, units: a.units, partitions: Number(a.partitions), startLoad: load() };

/**
 * The readings/s a set of daemons sustains from their first processed reading until all `total`
 * are processed: counted (readings, or poison) once their chunk's flags are acknowledged and its
 * offsets committed, exactly once across instances (a partition's new owner re-reads what it
 * needs only as replay). Per-partition lag gauges are not used: an instance keeps the last value
 * of a partition that a rebalance took away.
 */
async function consumeAll(daemons, total) {
  const done = (m) => (m.seismo_readings_total ?? 0) + Object.entries(m).filter(([k]) => k.startsWith('seismo_poison_total{')).reduce((s, [, v]) => s + v, 0);
  let first;
  await waitFor(async () => {
    const ms = await Promise.all(daemons.map((d) => d.metrics()));
    const n = ms.reduce((s, m) => s + (m.seismo_readings_total ?? 0), 0);
    if (first === undefined && n > 0) first = { t: performance.now(), n };
    return ms.reduce((s, m) => s + done(m), 0) >= total;
  });
  const end = performance.now();
  const ms = await Promise.all(daemons.map((d) => d.metrics()));
  const n = ms.reduce((s, m) => s + m.seismo_readings_total, 0);
  return { readingsPerSecond: (n - first.n) / ((end - first.t) / 1000), seconds: (end - first.t) / 1000, metrics: ms, end };
}

/** CPU seconds (user + system) of the bench's broker so far, from /proc; NaN if it cannot be read. */
function brokerCpuSeconds() {
  try {
    const pid = readFileSync(join(kafkaDir, 'kafka.pid'), 'utf8').trim();
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** One stage's buckets of seismo_chunk_stage_seconds (from a delta), and its chunk count. */
function stageOnly(d, stage) {
  const label = `stage="${stage}"`;
  const buckets = Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('seismo_chunk_stage_seconds_bucket{') && k.includes(label)));
  const count = Object.entries(d).find(([k]) => k.startsWith('seismo_chunk_stage_seconds_count') && k.includes(label))?.[1] ?? 0;
  return { buckets, count };
}

function stageSummary(stages) {
  return Object.entries(stages ?? {}).filter(([, v]) => v !== undefined).map(([s, v]) => `${s} ${v.p50ms.toFixed(1)} / ${v.p99ms.toFixed(1)}`).join(', ') + ` (${stages?.processing?.chunks ?? 0} chunks)`;
}

function delta(after, before, prefix) {
  const d = {};
  for (const k of Object.keys(after)) if (k.startsWith(prefix)) d[k] = after[k] - (before[k] ?? 0);
  return d;
}

/** Upper bound of the highest bucket that gained an observation: the histogram's bound on the max. */
function histogramMax(d, name) {
  let max = 0;
  let prev = 0;
  const buckets = Object.entries(d)
    .filter(([k]) => k.startsWith(`${name}_bucket{`))
    .map(([k, v]) => [k.includes('+Inf') ? Infinity : Number(/le="([^"]+)"/.exec(k)[1]), v])
    .sort((x, y) => x[0] - y[0]);
  for (const [le, count] of buckets) {
    if (count > prev) max = le;
    prev = count;
  }
  return max;
}

try {
  say(`training a throwaway model (encoder [${a.units}])`);
  const trainData = join(dir, 'train.ndjson');
  run(['simulate', '-o', trainData, '--entities', '2', '--steps', '600', '--events', '0']);
  const trainCfg = join(dir, 'train.yaml');
  writeFileSync(trainCfg, modelYaml());
  run(['train', '-c', trainCfg, '-d', trainData, '--force']); // throughput, not quality, is measured

  // 1 + 2: start to ready, throughput on a pre-filled topic
  if (phases.has('ready') || phases.has('throughput')) {
    const t1 = `tput-${Date.now()}`;
    await topics(t1);
    say(`producing ${N} readings of ${ENTITIES} entities`);
    const produced = run(['produce', '-c', configFor('t1', t1, `${t1}-g`), '--topic', t1, '--entities', String(ENTITIES), '--steps', String(Math.ceil(N / ENTITIES))]);
    say(produced.trim());
    const total = Math.ceil(N / ENTITIES) * ENTITIES;
    // Every variant consumes the same pre-filled topic with a group of its own. With variants,
    // two rounds in mirrored order (A B, B A), so that load drift does not favour one of them.
    const turns = variants.length > 1 ? [...variants.map((v) => [v, 1]), ...[...variants].reverse().map((v) => [v, 2])] : [[variants[0], 1]];
    results.throughputRuns = [];
    for (const [v, round] of turns) {
      const tag = `${v.name.replace(/[^a-zA-Z0-9-]/g, '-')}-${round}`;
      const loadBefore = load();
      const d1 = new Daemon(configFor(`t1-${tag}`, t1, `${t1}-g-${tag}`, a['max-batch'], v.scoring, a.partitions, v.window), v.node, v.env);
      await waitFor(() => d1.ready());
      const startToReadySeconds = (performance.now() - d1.started) / 1000;
      say(`[${v.name}] ready after ${startToReadySeconds.toFixed(2)} s`);
      const cpu0 = { daemon: (await d1.metrics()).seismo_process_cpu_seconds_total ?? 0, broker: brokerCpuSeconds(), t: performance.now() };
      const c = await consumeAll([d1], total);
      const [m1] = c.metrics;
      // Where the 2 cores went while consuming: the daemon (its model calls apart), the broker, the rest.
      const wall = (c.end - cpu0.t) / 1000;
      const cpu = { wallSeconds: wall, coreSeconds: wall * cpus().length, daemon: (m1.seismo_process_cpu_seconds_total ?? 0) - cpu0.daemon, scoringWall: m1.seismo_scoring_duration_seconds_sum, broker: brokerCpuSeconds() - cpu0.broker };
      const cell = {
        variant: v.name,
        round,
        startToReadySeconds,
        startToReadyLoad: loadBefore,
        readingsPerSecond: c.readingsPerSecond,
        seconds: c.seconds,
        windowsScored: m1.seismo_windows_scored_total,
        flags: Object.entries(m1).filter(([k]) => k.startsWith('seismo_flags_total')).reduce((s, [, v]) => s + v, 0),
        meanScoringBatch: m1.seismo_scoring_batch_windows_sum / m1.seismo_scoring_batch_windows_count,
        scoringSecondsShare: m1.seismo_scoring_duration_seconds_sum / ((c.end - d1.started) / 1000),
        rssMB: m1.seismo_process_resident_memory_bytes / 2 ** 20,
        cpu,
        maxBatch: Number(a['max-batch']),
        load: load(),
      };
      results.throughputRuns.push(cell);
      say(`[${v.name}] throughput ${cell.readingsPerSecond.toFixed(0)} readings/s, ${cell.windowsScored} windows, ${cell.flags} flags (load ${cell.load})`);
      say(`  CPU over ${wall.toFixed(1)} s (${cpu.coreSeconds.toFixed(1)} core-seconds): daemon ${cpu.daemon.toFixed(1)} (model calls ${cpu.scoringWall.toFixed(1)} s of wall time), broker ${cpu.broker.toFixed(1)}, left ${(cpu.coreSeconds - cpu.daemon - cpu.broker).toFixed(1)}; daemon ${((cpu.daemon * 1e6) / (cell.readingsPerSecond * wall)).toFixed(0)} us of CPU per reading`);
      await d1.stop();
      if (results.throughput === undefined && v.name === 'default') {
        results.throughput = cell;
        results.startToReadySeconds = startToReadySeconds;
        results.startToReadyLoad = loadBefore;
      }
    }
  }

  // 3: latency at steady rates; every variant has a daemon (and topic, group) of its own
  if (phases.has('latency')) {
    const rates = a.rates.split(',').map(Number);
    const lat = [];
    for (const v of variants) {
      const topic = `lat-${v.name.replace(/[^a-zA-Z0-9-]/g, '-')}-${Date.now()}`;
      await topics(topic);
      lat.push({ v, topic, d: new Daemon(configFor(`lat-${lat.length}`, topic, `${topic}-g`, a['max-batch'], v.scoring, a.partitions, v.window), v.node, v.env) });
    }
    await Promise.all(lat.map(({ d }) => waitFor(() => d.ready())));
    results.latency = [];
    for (const [ri, rate] of rates.entries()) {
      // Turns alternate from rate to rate, so no variant always runs first (or last) on a machine whose load drifts.
      const order = ri % 2 === 0 ? lat : [...lat].reverse();
      for (const { v, topic, d } of order) {
        const before = await d.metrics();
        const loadStart = load();
        say(`latency [${v.name}]: ${rate} readings/s for ${a['latency-seconds']} s (load ${loadStart})`);
        const steps = Math.ceil((rate * Number(a['latency-seconds'])) / ENTITIES);
        run(['produce', '-c', configFor(`lat-p`, topic, `${topic}-g`), '--topic', topic, '--entities', String(ENTITIES), '--steps', String(steps), '--rate', String(rate), '--now', '--seed', String(8 + ri)]);
        await sleep(2000);
        const after = await d.metrics();
        const e2e = delta(after, before, 'seismo_end_to_end_latency_seconds');
        const loopDelay = delta(after, before, 'seismo_event_loop_delay_seconds');
        const q = (p) => histogramQuantile(e2e, 'seismo_end_to_end_latency_seconds', p) * 1000;
        const cell = {
          variant: v.name,
          rate,
          seconds: Number(a['latency-seconds']),
          messages: e2e.seismo_end_to_end_latency_seconds_count,
          p50ms: q(0.5),
          p95ms: q(0.95),
          p99ms: q(0.99),
          maxBelowMs: histogramMax(e2e, 'seismo_end_to_end_latency_seconds') * 1000,
          ...(loopDelay.seismo_event_loop_delay_seconds_count > 0 ? { loopDelayP99ms: histogramQuantile(loopDelay, 'seismo_event_loop_delay_seconds', 0.99) * 1000, loopDelayMaxBelowMs: histogramMax(loopDelay, 'seismo_event_loop_delay_seconds') * 1000 } : {}),
          // Per chunk: where the time goes (waiting for its turn, processing, committing), p50 / p99 ms.
          stages: Object.fromEntries(['waiting', 'processing', 'committing'].map((s) => {
            const h = stageOnly(delta(after, before, 'seismo_chunk_stage_seconds'), s);
            return [s, h.count > 0 ? { chunks: h.count, p50ms: histogramQuantile(h.buckets, 'seismo_chunk_stage_seconds', 0.5) * 1000, p99ms: histogramQuantile(h.buckets, 'seismo_chunk_stage_seconds', 0.99) * 1000 } : undefined];
          })),
          // The model calls themselves: how long the longest ones block (scoring in the main thread) and how many windows they carry.
          scoringCallP99ms: histogramQuantile(delta(after, before, 'seismo_scoring_duration_seconds'), 'seismo_scoring_duration_seconds', 0.99) * 1000,
          scoringBatchP99: histogramQuantile(delta(after, before, 'seismo_scoring_batch_windows'), 'seismo_scoring_batch_windows', 0.99),
          gcSeconds: Object.entries(delta(after, before, 'seismo_nodejs_gc_duration_seconds_sum')).reduce((s, [, x]) => s + x, 0),
          cpuSeconds: (after.seismo_process_cpu_seconds_total ?? 0) - (before.seismo_process_cpu_seconds_total ?? 0),
          meanScoringBatch: (after.seismo_scoring_batch_windows_sum - before.seismo_scoring_batch_windows_sum) / Math.max(1, after.seismo_scoring_batch_windows_count - before.seismo_scoring_batch_windows_count),
          loadStart,
          loadEnd: load(),
        };
        results.latency.push(cell);
        say(`  p50 ${cell.p50ms.toFixed(1)} ms, p95 ${cell.p95ms.toFixed(1)}, p99 ${cell.p99ms.toFixed(1)}, max <= ${cell.maxBelowMs} ms, GC ${cell.gcSeconds.toFixed(2)} s, CPU ${cell.cpuSeconds.toFixed(1)} s (load ${cell.loadEnd})`);
        say(`  per chunk p50 / p99 ms: ${stageSummary(cell.stages)}; model call p99 ${cell.scoringCallP99ms.toFixed(1)} ms, ${cell.scoringBatchP99.toFixed(0)} windows`);
      }
    }
    await Promise.all(lat.map(({ d }) => d.stop()));
  }

  // 4: many entities
  if (phases.has('memory')) {
    const many = Number(a['many-entities']);
    const t4 = `many-${Date.now()}`;
    await topics(t4);
    run(['produce', '-c', configFor('t4', t4, `${t4}-g`), '--topic', t4, '--entities', String(many), '--steps', '20']);
    const d4 = new Daemon(configFor('t4', t4, `${t4}-g`, a['many-max-batch']));
    await waitFor(async () => (await d4.ready()) && ((await d4.metrics()).seismo_readings_total ?? 0) >= many * 20);
    const m4 = await d4.metrics();
    results.manyEntities = { maxBatch: Number(a['many-max-batch']), entities: m4.seismo_entities, rssMB: m4.seismo_process_resident_memory_bytes / 2 ** 20, heapMB: m4.seismo_nodejs_heap_size_used_bytes / 2 ** 20, load: load() };
    say(`${many} entities: RSS ${results.manyEntities.rssMB.toFixed(0)} MB`);
    await d4.stop();
  }

  // 5: scale-out. The instances join a group on a pre-filled topic; whatever the first ones
  // consume before the last is ready is left out, the rest is timed until no lag is left.
  if (phases.has('scaleout')) {
    const parts = Number(a['scaleout-partitions']);
    const n = Number(a['scaleout-readings']);
    results.scaleOut = [];
    for (const k of a['scaleout-instances'].split(',').map(Number)) {
      const topic = `scale${k}-${Date.now()}`;
      await topics(topic, parts);
      say(`scale-out: ${k} instance(s), producing ${n} readings on ${parts} partitions`);
      run(['produce', '-c', configFor('s-p', topic, `${topic}-g`), '--topic', topic, '--entities', String(ENTITIES), '--steps', String(Math.ceil(n / ENTITIES))]);
      const total = Math.ceil(n / ENTITIES) * ENTITIES;
      const loadStart = load();
      // Each instance processes all the partitions it owns at once (as many as the topic has).
      const ds = Array.from({ length: k }, (_, i) => new Daemon(configFor(`s-${k}-${i}`, topic, `${topic}-g`, a['max-batch'], {}, String(parts))));
      await Promise.all(ds.map((d) => waitFor(() => d.ready())));
      // The last join triggers one more rebalance: time from when group joins have stopped.
      const joins = async () => (await Promise.all(ds.map((d) => d.metrics()))).reduce((s, m) => s + (m.seismo_kafka_rebalances_total ?? 0), 0);
      for (let last = await joins(); ; ) {
        await sleep(2000);
        const now = await joins();
        if (now === last) break;
        last = now;
      }
      const before = await Promise.all(ds.map((d) => d.metrics()));
      const t0 = performance.now();
      const n0 = before.reduce((s, m) => s + (m.seismo_readings_total ?? 0), 0);
      const c = await consumeAll(ds, total);
      const n1 = c.metrics.reduce((s, m) => s + m.seismo_readings_total, 0);
      if (n1 - n0 < total / 2) say(`  warning: only ${n1 - n0} of ${total} readings were left when the group settled; use more --scaleout-readings`);
      const cell = { instances: k, readingsTimed: n1 - n0, seconds: (c.end - t0) / 1000, readingsPerSecond: (n1 - n0) / ((c.end - t0) / 1000), replayed: c.metrics.reduce((s, m) => s + (m.seismo_replayed_readings_total ?? 0), 0), loadStart, loadEnd: load() };
      results.scaleOut.push(cell);
      say(`  ${k} instance(s): ${cell.readingsPerSecond.toFixed(0)} readings/s over ${cell.readingsTimed} readings (load ${cell.loadEnd})`);
      await Promise.all(ds.map((d) => d.stop()));
    }
  }
} finally {
  await Promise.all([...daemons].map((d) => d.stop()));
  await admin.disconnect();
  spawnSync('bash', [join(root, 'scripts/kafka/stop.sh'), '--dir', kafkaDir, '--clean']);
}

mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/e2e.json'), JSON.stringify(results, null, 2));
const r = results;
const rows = [];
if (variants.length > 1) for (const t of r.throughputRuns ?? []) rows.push(`| [${t.variant}, round ${t.round}] throughput, ${r.readings.toLocaleString()} readings, scoring.maxBatch ${t.maxBatch}, broker included; start to ready ${t.startToReadySeconds.toFixed(2)} s (load ${t.startToReadyLoad}) | ${Math.round(t.readingsPerSecond).toLocaleString()} readings/s (${t.seconds.toFixed(1)} s; ${t.windowsScored.toLocaleString()} windows, ${t.flags} flags; ${Math.round(t.meanScoringBatch)} windows per scoring flush; scoring ${(t.scoringSecondsShare * 100).toFixed(0)}% of wall time; RSS ${t.rssMB.toFixed(0)} MB) | ${t.load} | >= 20,000 |`);
else if (r.throughput) rows.push(`| throughput, ${r.readings.toLocaleString()} readings of ${r.entities} entities, ${r.partitions} partitions, encoder [${r.units}], scoring.maxBatch ${r.throughput.maxBatch}, broker included | ${Math.round(r.throughput.readingsPerSecond).toLocaleString()} readings/s (${r.throughput.seconds.toFixed(1)} s; ${Math.round(r.throughput.meanScoringBatch)} windows per scoring flush; scoring ${(r.throughput.scoringSecondsShare * 100).toFixed(0)}% of wall time; RSS ${r.throughput.rssMB.toFixed(0)} MB) | ${r.throughput.load} | >= 20,000 |`);
for (const c of r.latency ?? []) rows.push(`| reading -> flags acked latency at ${c.rate.toLocaleString()} readings/s for ${c.seconds} s${variants.length > 1 ? ` [${c.variant}]` : ''} | p50 ${c.p50ms.toFixed(1)} ms, p95 ${c.p95ms.toFixed(1)}, p99 ${c.p99ms.toFixed(1)}, max <= ${c.maxBelowMs} ms (GC ${c.gcSeconds.toFixed(2)} s, CPU ${c.cpuSeconds.toFixed(1)} s${c.loopDelayP99ms !== undefined ? `, event-loop delay p99 ${c.loopDelayP99ms.toFixed(0)} ms` : ''}, ${Math.round(c.meanScoringBatch)} windows per flush, model call p99 ${c.scoringCallP99ms.toFixed(0)} ms and ${c.scoringBatchP99.toFixed(0)} windows; per chunk p50 / p99 ms: ${stageSummary(c.stages)}) | ${c.loadStart} -> ${c.loadEnd} | p99 <= 50 ms |`);
if (r.manyEntities) rows.push(`| RSS with ${r.manyEntities.entities.toLocaleString()} entities in memory (scoring.maxBatch ${r.manyEntities.maxBatch}) | ${r.manyEntities.rssMB.toFixed(0)} MB (JS heap ${r.manyEntities.heapMB.toFixed(0)} MB) | ${r.manyEntities.load} | <= 400 MB |`);
if (r.startToReadySeconds !== undefined) rows.push(`| start to ready (model loaded and warmed, group joined) | ${r.startToReadySeconds.toFixed(2)} s | ${r.startToReadyLoad} | <= 5 s |`);
const one = r.scaleOut?.find((c) => c.instances === 1);
for (const c of r.scaleOut ?? []) rows.push(`| scale-out: ${c.instances} instance(s) in one group, ${c.readingsTimed.toLocaleString()} readings timed | ${Math.round(c.readingsPerSecond).toLocaleString()} readings/s${one ? ` (${(c.readingsPerSecond / one.readingsPerSecond).toFixed(2)}x one instance; ${Math.round(c.readingsPerSecond / c.instances).toLocaleString()} per instance)` : ''} | ${c.loadStart} -> ${c.loadEnd} | |`);
console.log(`| measure | result | load (1 min) | target |
| --- | ---: | ---: | ---: |
${rows.join('\n')}`);
