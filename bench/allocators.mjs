#!/usr/bin/env node
// Memory allocators side by side through a real broker (issue 15): `npm run bench:allocators`.
//
//   node bench/allocators.mjs [--rounds 2] [--readings 200000] [--entities 100] [--many-entities 10000]
//                             [--units 64,32] [--partitions 4] [--max-batch 1024] [--many-max-batch 256]
//                             [--only 'glibc;jemalloc*;...'] [--port 39142] [--settle-seconds 10] [--gc-probe]
//
// One broker, one throwaway model, two topics filled once (the throughput topic: N readings of
// 100 entities; the memory topic: 10,000 entities x 20 steps), so every allocator reads the same
// bytes. For each allocator, in rounds whose order rotates so that drift in the machine's load
// does not favour one: a `seismo run` with a fresh consumer group on each topic (as
// bench/e2e.mjs measures them):
//   start   spawn until /readyz answers 200;
//   tput    readings/s from the first reading until every message is processed and lag is 0;
//   rss     RSS (from /metrics) when the 10,000-entity topic is done, and again after
//           --settle-seconds (allocators that return memory on a timer show it there).
// Every cell records os.loadavg() beside it and whether /proc/PID/maps shows the allocator
// library actually loaded. Writes bench/out/allocators.json and prints Markdown tables.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, kafkaOf, parseMetrics, root, say as sayTag, seismo, sleep, startBroker, stopBroker, trainModel } from './chaos-lib.mjs';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    readings: { type: 'string', default: '200000' },
    entities: { type: 'string', default: '100' },
    'many-entities': { type: 'string', default: '10000' },
    units: { type: 'string', default: '64,32' },
    partitions: { type: 'string', default: '4' },
    'max-batch': { type: 'string', default: '1024' },
    'many-max-batch': { type: 'string', default: '256' },
    only: { type: 'string' },
    port: { type: 'string', default: '39142' },
    dir: { type: 'string', default: '/tmp/seismo-kafka-allocators' },
    'settle-seconds': { type: 'string', default: '10' },
    'gc-probe': { type: 'boolean', default: false },
  },
});
const say = (m) => sayTag('allocators', m);
const LIB = '/usr/lib/x86_64-linux-gnu';

/**
 * The candidates. `env` is the whole allocator environment of the daemon (everything malloc-
 * related in this process's environment is removed first); `lib` is what /proc/PID/maps must show.
 * `launcher` runs bin/seismo.js with no allocator settings: whatever it picks by default.
 */
const ALL = [
  { name: 'glibc', env: {} },
  { name: 'glibc, MALLOC_ARENA_MAX=2', env: { MALLOC_ARENA_MAX: '2' } },
  { name: 'glibc, MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144', env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '262144' } },
  { name: 'jemalloc', lib: 'libjemalloc.so.2', env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2` } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0', lib: 'libjemalloc.so.2', env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  // Tuning variants: only when named in --only (names separated by ';', NAME* for a prefix).
  { name: 'jemalloc, narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0', extra: true, lib: 'libjemalloc.so.2', env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'narenas:2,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0', extra: true, lib: 'libjemalloc.so.2', env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:0,muzzy_decay_ms:0' } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0, node --optimize-for-size', extra: true, lib: 'libjemalloc.so.2', nodeArgs: ['--optimize-for-size'], env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0, node --max-semi-space-size=4', extra: true, lib: 'libjemalloc.so.2', nodeArgs: ['--max-semi-space-size=4'], env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0, node --max-semi-space-size=8', extra: true, lib: 'libjemalloc.so.2', nodeArgs: ['--max-semi-space-size=8'], env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  { name: 'jemalloc, background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0, node --heap-growing-percent=50', extra: true, lib: 'libjemalloc.so.2', nodeArgs: ['--heap-growing-percent=50'], env: { LD_PRELOAD: `${LIB}/libjemalloc.so.2`, MALLOC_CONF: 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0' } },
  { name: 'tcmalloc (minimal)', lib: 'libtcmalloc_minimal.so.4', env: { LD_PRELOAD: `${LIB}/libtcmalloc_minimal.so.4` } },
  { name: 'mimalloc', lib: 'libmimalloc.so.2', env: { LD_PRELOAD: `${LIB}/libmimalloc.so.2` } },
  { name: 'default (bin/seismo.js)', launcher: true, env: {} },
];
const MALLOC_VARS = /^(LD_PRELOAD|MALLOC_.*|SEISMO_ALLOCATOR.*|TCMALLOC_.*|MIMALLOC_.*|_RJEM_.*)$/;
const wanted = a.only ? a.only.split(';').map((s) => s.trim()) : undefined;
const candidates = ALL.filter((c) => (wanted ? wanted.some((w) => (w.endsWith('*') ? c.name.startsWith(w.slice(0, -1)) : c.name === w)) : !c.extra)).filter((c) => {
  if (c.lib && !existsSync(join(LIB, c.lib))) {
    say(`skipping ${c.name}: ${join(LIB, c.lib)} is not installed (apt-get install libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0)`);
    return false;
  }
  return true;
});
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

/** A `seismo run` child under the candidate's allocator environment. */
class Daemon {
  constructor(config, candidate) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !MALLOC_VARS.test(k)));
    Object.assign(env, candidate.env);
    if (a['gc-probe']) {
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --expose-gc -r ${join(root, 'bench/gc-probe.cjs')}`.trim();
      env.SEISMO_GC_PROBE_DIR = dir;
    }
    const entry = candidate.launcher ? join(root, 'bin/seismo.js') : CLI;
    this.started = performance.now();
    this.child = spawn('node', [...(candidate.nodeArgs ?? []), entry, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.tail = '';
    this.url = undefined;
    this.exitCode = undefined;
    const on = (d) => {
      this.tail = (this.tail + d.toString()).slice(-20_000);
      this.url ??= /"url":"(http[^"]+\/metrics)"/.exec(this.tail)?.[1];
    };
    this.child.stdout.on('data', on);
    this.child.stderr.on('data', on);
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r((this.exitCode = code ?? signal))));
  }
  async metrics() {
    if (this.url === undefined || this.exitCode !== undefined) return {};
    return parseMetrics(await (await fetch(this.url, { signal: AbortSignal.timeout(10_000) })).text());
  }
  async ready() {
    if (this.exitCode !== undefined) throw new Error(`seismo run exited ${this.exitCode}:\n${this.tail.slice(-3000)}`);
    if (this.url === undefined) return false;
    return (await fetch(this.url.replace('/metrics', '/readyz'), { signal: AbortSignal.timeout(10_000) }).catch(() => ({ status: 0 }))).status === 200;
  }
  /** The daemon's pid: the child's, or behind the launcher the pid its allocator log line names. */
  get pid() {
    return Number(/"allocator":"[^"]+"[^\n]*"pid":(\d+)/.exec(this.tail)?.[1] ?? this.child.pid);
  }
  /** The allocator libraries mapped into the daemon. */
  allocatorsMapped() {
    const maps = readFileSync(`/proc/${this.pid}/maps`, 'utf8');
    return ['libjemalloc', 'libtcmalloc', 'libmimalloc'].filter((l) => maps.includes(l));
  }
  /** Anonymous (malloc, V8 heap, stacks) and file-backed (libtensorflow's code) resident MB. */
  rssParts() {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
    return { anonMB: kb('RssAnon'), fileMB: kb('RssFile') };
  }
  /** --gc-probe: a full GC in the daemon (bench/gc-probe.cjs), then its process.memoryUsage(). */
  async afterFullGc() {
    const file = join(dir, `${this.pid}.json`);
    process.kill(this.pid, 'SIGUSR2');
    await waitFor(() => existsSync(file), 30_000);
    await sleep(100);
    return JSON.parse(readFileSync(file, 'utf8'));
  }
  async stop() {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    await this.exited;
  }
}

async function waitFor(cond, ms = 600_000) {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timeout');
    await sleep(100);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'seismo-allocators-'));
const P = Number(a.partitions);
let bootstrap;
let admin;

function config(name, topic, group, maxBatch) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `artifactDir: ${join(dir, 'model')}
window:
  lookback: 10
  maxGapSeconds: 100000000
scoring:
  maxBatch: ${maxBatch}
  maxDelayMs: 5
http:
  port: 0
log:
  level: info
kafka:
  brokers: ["${bootstrap}"]
source:
  kind: kafka
  topics: [${topic}]
  groupId: ${group}
  partitionsConsumedConcurrently: ${P}
  maxBatchMessages: 2000
sink:
  kind: kafka
  topic: ${topic}-flags
  deadLetterTopic: ${topic}-dlq
`,
  );
  return path;
}

async function fillTopic(topic, entities, steps) {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: P }, { topic: `${topic}-flags`, numPartitions: 1 }, { topic: `${topic}-dlq`, numPartitions: 1 }] });
  say(seismo(['produce', '-c', config(`fill-${topic}`, topic, 'unused', 256), '--topic', topic, '--entities', String(entities), '--steps', String(steps)]).trim());
  return entities * steps;
}

/** Start to ready, then throughput on the pre-filled topic (a new group reads it from the start). */
async function throughputCell(c, topic, total, group) {
  const loadBefore = load();
  const d = new Daemon(config(group, topic, group, a['max-batch']), c);
  try {
    await waitFor(() => d.ready(), 120_000);
    const startSeconds = (performance.now() - d.started) / 1000;
    let first;
    await waitFor(async () => {
      const m = await d.metrics();
      const n = m.seismo_readings_total ?? 0;
      if (first === undefined && n > 0) first = { t: performance.now(), n, cpu: m.seismo_process_cpu_seconds_total };
      return (m[`seismo_kafka_messages_in_total{topic="${topic}"}`] ?? 0) >= total && Object.entries(m).filter(([k]) => k.startsWith('seismo_kafka_consumer_lag_messages{')).every(([, v]) => v === 0);
    });
    const end = performance.now();
    const m = await d.metrics();
    return {
      startSeconds,
      readingsPerSecond: (m.seismo_readings_total - first.n) / ((end - first.t) / 1000),
      // Per CPU-second of the daemon itself: what the allocator costs, much less disturbed than
      // wall-clock readings/s when other work shares the cores.
      readingsPerCpuSecond: (m.seismo_readings_total - first.n) / (m.seismo_process_cpu_seconds_total - first.cpu),
      rssMB: m.seismo_process_resident_memory_bytes / 2 ** 20,
      mapped: d.allocatorsMapped(),
      reported: Object.keys(m).find((k) => k.startsWith('seismo_allocator_info{')) ?? null,
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    await d.stop();
  }
}

/** RSS with many entities' window state, when the topic is done and after settling. */
async function memoryCell(c, topic, total, group) {
  const loadBefore = load();
  const d = new Daemon(config(group, topic, group, a['many-max-batch']), c);
  try {
    await waitFor(async () => (await d.ready()) && ((await d.metrics()).seismo_readings_total ?? 0) >= total);
    const m = await d.metrics();
    const parts = d.rssParts();
    await sleep(Number(a['settle-seconds']) * 1000);
    const settled = await d.metrics();
    const afterGc = a['gc-probe'] ? await d.afterFullGc() : undefined;
    return {
      ...(afterGc ? { afterGcHeapUsedMB: afterGc.heapUsed / 2 ** 20, afterGcHeapTotalMB: afterGc.heapTotal / 2 ** 20, afterGcRssMB: afterGc.rss / 2 ** 20, afterGcAnonMB: afterGc.rssAnonKB / 1024 } : {}),
      entities: m.seismo_entities,
      rssMB: m.seismo_process_resident_memory_bytes / 2 ** 20,
      ...parts,
      heapMB: m.seismo_nodejs_heap_size_used_bytes / 2 ** 20,
      heapTotalMB: m.seismo_nodejs_heap_size_total_bytes / 2 ** 20,
      externalMB: m.seismo_nodejs_external_memory_bytes / 2 ** 20,
      settledRssMB: settled.seismo_process_resident_memory_bytes / 2 ** 20,
      mapped: d.allocatorsMapped(),
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    await d.stop();
  }
}

const results = { started: new Date().toISOString(), machine: `${cpus().length} cores`, args: a, cells: [] };
try {
  bootstrap = startBroker(Number(a.port), a.dir, true);
  admin = kafkaOf(bootstrap).admin();
  await admin.connect();
  say(`training a throwaway model (encoder [${a.units}])`);
  trainModel(dir, a.units);
  const tTopic = `tput-${Date.now()}`;
  const mTopic = `many-${Date.now()}`;
  const ENT = Number(a.entities);
  const tTotal = await fillTopic(tTopic, ENT, Math.ceil(Number(a.readings) / ENT));
  const mTotal = await fillTopic(mTopic, Number(a['many-entities']), 20);
  const rounds = Number(a.rounds);
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no candidate always runs first (or last) in a round.
    const order = candidates.map((_, i) => candidates[(i + r) % candidates.length]);
    for (const c of order) {
      const group = `g${r}-${candidates.indexOf(c)}`;
      say(`round ${r + 1}/${rounds}: ${c.name} (load ${load().join(' ')})`);
      const tput = await throughputCell(c, tTopic, tTotal, `${group}-t`);
      const mem = await memoryCell(c, mTopic, mTotal, `${group}-m`);
      results.cells.push({ round: r + 1, allocator: c.name, env: c.env, throughput: tput, memory: mem });
      say(`  ready ${tput.startSeconds.toFixed(2)} s, ${Math.round(tput.readingsPerSecond)} readings/s, RSS ${mem.rssMB.toFixed(0)} MB -> ${mem.settledRssMB.toFixed(0)} MB settled; mapped [${mem.mapped.join(' ')}]`);
      mkdirSync(join(root, 'bench/out'), { recursive: true });
      writeFileSync(join(root, 'bench/out/allocators.json'), JSON.stringify(results, null, 2));
    }
  }
} finally {
  await admin?.disconnect();
  stopBroker(a.dir, true);
}

const f0 = (x) => Math.round(x).toLocaleString('en-US');
const la = (l) => l.join(' / ');
console.log(`\nRun ${results.started}, ${results.machine}; throughput: ${Number(a.readings).toLocaleString('en-US')} readings of ${a.entities} entities, ${a.partitions} partitions, encoder [${a.units}], scoring.maxBatch ${a['max-batch']}; memory: ${Number(a['many-entities']).toLocaleString('en-US')} entities x 20 readings, scoring.maxBatch ${a['many-max-batch']}. Load = os.loadavg() 1/5/15 min.\n`);
console.log('| round | allocator | mapped | start to ready s | readings/s | readings per daemon CPU-s | RSS after throughput MB | RSS 10k entities MB (anon + file) | JS heap used / total MB | after settling MB | load before -> after |');
console.log('| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const x of results.cells) {
  const mm = x.memory;
  console.log(`| ${x.round} | ${x.allocator} | ${mm.mapped.join(' ') || 'glibc'} | ${x.throughput.startSeconds.toFixed(2)} | ${f0(x.throughput.readingsPerSecond)} | ${f0(x.throughput.readingsPerCpuSecond)} | ${f0(x.throughput.rssMB)} | ${f0(mm.rssMB)} (${f0(mm.anonMB)} + ${f0(mm.fileMB)}) | ${f0(mm.heapMB)} / ${f0(mm.heapTotalMB)} | ${f0(mm.settledRssMB)} | ${la(x.throughput.loadBefore)} -> ${la(mm.loadAfter)} |`);
}
if (a['gc-probe']) {
  console.log('\n| round | allocator | RSS 10k entities MB | JS heap used / total MB | after a full GC: JS heap used / total MB | after a full GC: RSS (anon) MB |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const x of results.cells) {
    const mm = x.memory;
    console.log(`| ${x.round} | ${x.allocator} | ${f0(mm.settledRssMB)} | ${f0(mm.heapMB)} / ${f0(mm.heapTotalMB)} | ${f0(mm.afterGcHeapUsedMB)} / ${f0(mm.afterGcHeapTotalMB)} | ${f0(mm.afterGcRssMB)} (${f0(mm.afterGcAnonMB)}) |`);
  }
}
// Ratios against glibc's default, per round (same round = nearest in time), then the mean.
const base = (round) => results.cells.find((x) => x.round === round && x.allocator === 'glibc');
if (results.cells.some((x) => x.allocator === 'glibc')) {
  // The malloc side: anonymous RSS less V8's heap. Total RSS moves by +-50 MB from run to run
  // with the garbage V8 has not collected yet, which no allocator touches; this part they do.
  console.log('\n| allocator | readings/s vs glibc (mean of rounds) | readings per daemon CPU-s vs glibc | RSS 10k entities vs glibc | malloc side (anon RSS - V8 heap) MB, mean | start to ready vs glibc |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const c of candidates) {
    const mine = results.cells.filter((x) => x.allocator === c.name);
    const ratio = (pick) => mine.reduce((s, x) => s + pick(x) / pick(base(x.round)), 0) / mine.length;
    console.log(`| ${c.name} | ${ratio((x) => x.throughput.readingsPerSecond).toFixed(2)}x | ${ratio((x) => x.throughput.readingsPerCpuSecond).toFixed(2)}x | ${ratio((x) => x.memory.rssMB).toFixed(2)}x | ${f0(mine.reduce((s, x) => s + x.memory.anonMB - x.memory.heapTotalMB, 0) / mine.length)} | ${ratio((x) => x.throughput.startSeconds).toFixed(2)}x |`);
  }
}
