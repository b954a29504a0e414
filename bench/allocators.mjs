#!/usr/bin/env node
// Memory allocators side by side through a real broker (issue 15): `npm run bench:allocators`.
//
//   node bench/allocators.mjs [--rounds 2] [--readings 200000] [--entities 100] [--many-entities 10000]
//                             [--units 64,32] [--partitions 4] [--max-batch 1024] [--many-max-batch 256]
//                             [--only 'glibc;jemalloc*;...'] [--port 39142] [--settle-seconds 10] [--gc-probe] [--probe]
//                             [--variant NAME='{"node":["--flag"],"env":{"MALLOC_CONF":"..."}}' ...]
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
//
// --variant: a candidate of its own, started like the default (through bin/seismo.js) with extra
// node flags before the launcher (it passes them on to the daemon) and/or environment variables
// (MALLOC_CONF here replaces the launcher's). Variants run in every round, beside the others.
// --probe: where the memory of each 10,000-entity daemon is (bench/memory-probe.cjs: V8's heap
// per space, tfjs tensors, ArrayBuffers, smaps by mapping, before and after a full GC), and on
// jemalloc its own totals (allocated, active, metadata, resident), printed when the daemon exits.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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
    probe: { type: 'boolean', default: false },
    variant: { type: 'string', multiple: true, default: [] },
  },
});
if (a.probe) a['gc-probe'] = true;
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
/** The launcher's own MALLOC_CONF (what a launcher candidate runs on unless it sets its own). */
const LAUNCHER_MALLOC_CONF = /const MALLOC_CONF = '([^']+)'/.exec(readFileSync(join(root, 'bin/seismo.js'), 'utf8'))?.[1];
for (const v of a.variant) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`--variant ${v}: expected NAME='{"node":[...],"env":{...}}'`);
  let spec;
  try {
    spec = JSON.parse(v.slice(eq + 1));
  } catch (err) {
    throw new Error(`--variant ${v.slice(0, eq)}: the JSON does not parse: ${err.message}`);
  }
  const unknown = Object.keys(spec).filter((k) => k !== 'node' && k !== 'env');
  if (unknown.length > 0) throw new Error(`--variant ${v.slice(0, eq)}: unknown key(s) ${unknown.join(', ')} (known: node, env)`);
  ALL.push({ name: v.slice(0, eq), launcher: true, variant: true, nodeArgs: spec.node ?? [], env: spec.env ?? {} });
}
const MALLOC_VARS = /^(LD_PRELOAD|MALLOC_.*|SEISMO_ALLOCATOR.*|TCMALLOC_.*|MIMALLOC_.*|_RJEM_.*)$/;
const wanted = a.only ? a.only.split(';').map((s) => s.trim()) : undefined;
const candidates = ALL.filter((c) => c.variant || (wanted ? wanted.some((w) => (w.endsWith('*') ? c.name.startsWith(w.slice(0, -1)) : c.name === w)) : !c.extra)).filter((c) => {
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
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --expose-gc -r ${join(root, a.probe ? 'bench/memory-probe.cjs' : 'bench/gc-probe.cjs')}`.trim();
      env.SEISMO_GC_PROBE_DIR = dir;
    }
    // jemalloc's totals when the daemon exits (one short summary, not the per-arena tables).
    const onJemalloc = candidate.lib === 'libjemalloc.so.2' || (candidate.launcher && !env.LD_PRELOAD && !env.SEISMO_ALLOCATOR);
    if (a.probe && onJemalloc) env.MALLOC_CONF = `${env.MALLOC_CONF ?? (candidate.launcher ? LAUNCHER_MALLOC_CONF : '')},stats_print:true,stats_print_opts:gdablxeh`.replace(/^,/, '');
    const entry = candidate.launcher ? join(root, 'bin/seismo.js') : CLI;
    this.started = performance.now();
    this.child = spawn('node', [...(candidate.nodeArgs ?? []), entry, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.tail = '';
    this.jemalloc = '';
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
  /** --probe: the memory breakdown as it is now, without a GC (bench/memory-probe.cjs, SIGWINCH). */
  async snapshotNow() {
    const file = join(dir, `${this.pid}.now.json`);
    process.kill(this.pid, 'SIGWINCH');
    await waitFor(() => existsSync(file), 30_000);
    await sleep(100);
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    unlinkSync(file);
    return snap;
  }
  async stop() {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    await this.exited;
    this.jemalloc = /Allocated: \d+, active: \d+, metadata: \d+[^,]*, resident: \d+, mapped: \d+, retained: \d+/.exec(this.tail)?.[0] ?? '';
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
      if (first === undefined && n > 0) first = { t: performance.now(), n, cpu: m.seismo_process_cpu_seconds_total, gc: gcSeconds(m) };
      return (m[`seismo_kafka_messages_in_total{topic="${topic}"}`] ?? 0) >= total && Object.entries(m).filter(([k]) => k.startsWith('seismo_kafka_consumer_lag_messages{')).every(([, v]) => v === 0);
    });
    const end = performance.now();
    const m = await d.metrics();
    const probe = a.probe ? await d.snapshotNow() : undefined;
    return {
      ...(probe ? { probe } : {}),
      startSeconds,
      readingsPerSecond: (m.seismo_readings_total - first.n) / ((end - first.t) / 1000),
      // Per CPU-second of the daemon itself: what the allocator costs, much less disturbed than
      // wall-clock readings/s when other work shares the cores.
      readingsPerCpuSecond: (m.seismo_readings_total - first.n) / (m.seismo_process_cpu_seconds_total - first.cpu),
      // GC pauses on the main thread per 100,000 readings (V8's concurrent marking and sweeping
      // on helper threads is in the CPU figure above, not here).
      gcSecondsPer100k: ((gcSeconds(m) - first.gc) / (m.seismo_readings_total - first.n)) * 100_000,
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

/** Seconds the daemon spent in GC pauses so far, all kinds (seismo_nodejs_gc_duration_seconds). */
function gcSeconds(m) {
  return Object.entries(m).filter(([k]) => k.startsWith('seismo_nodejs_gc_duration_seconds_sum')).reduce((t, [, v]) => t + v, 0);
}

/** RSS with many entities' window state, when the topic is done and after settling. */
async function memoryCell(c, topic, total, group) {
  const loadBefore = load();
  const d = new Daemon(config(group, topic, group, a['many-max-batch']), c);
  try {
    await waitFor(async () => (await d.ready()) && ((await d.metrics()).seismo_readings_total ?? 0) >= total);
    const m = await d.metrics();
    const parts = d.rssParts();
    const done = a.probe ? await d.snapshotNow() : undefined;
    await sleep(Number(a['settle-seconds']) * 1000);
    const settled = await d.metrics();
    const afterGc = a['gc-probe'] ? await d.afterFullGc() : undefined;
    return {
      ...(a.probe && afterGc ? { probe: { done, settled: afterGc.before, afterGc: afterGc.after } } : {}),
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
    if (a.probe) lastExitStats = jemallocTotals(d.jemalloc);
  }
}

/** jemalloc's "Allocated: N, active: N, metadata: N (n_thp N), resident: N, ..." line in MB. */
function jemallocTotals(line) {
  if (!line) return undefined;
  return Object.fromEntries([...line.matchAll(/(\w+): (\d+)/g)].filter(([, k]) => k !== 'n_thp').map(([, k, v]) => [`${k}MB`, Math.round((Number(v) / 2 ** 20) * 10) / 10]));
}
let lastExitStats;

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
      if (a.probe) mem.jemallocAtExit = lastExitStats;
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
console.log('| round | allocator | mapped | start to ready s | readings/s | readings per daemon CPU-s | GC pause s per 100k readings | RSS after throughput MB | RSS 10k entities MB (anon + file) | JS heap used / total MB | after settling MB | load before -> after |');
console.log('| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const x of results.cells) {
  const mm = x.memory;
  console.log(`| ${x.round} | ${x.allocator} | ${mm.mapped.join(' ') || 'glibc'} | ${x.throughput.startSeconds.toFixed(2)} | ${f0(x.throughput.readingsPerSecond)} | ${f0(x.throughput.readingsPerCpuSecond)} | ${x.throughput.gcSecondsPer100k?.toFixed(2) ?? '–'} | ${f0(x.throughput.rssMB)} | ${f0(mm.rssMB)} (${f0(mm.anonMB)} + ${f0(mm.fileMB)}) | ${f0(mm.heapMB)} / ${f0(mm.heapTotalMB)} | ${f0(mm.settledRssMB)} | ${la(x.throughput.loadBefore)} -> ${la(mm.loadAfter)} |`);
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
if (a.probe) {
  // Where the daemon's RSS is: when the throughput topic is done (100 entities), and for the
  // 10,000-entity daemon at three moments: when the topic is done (as bench/e2e.mjs measures it),
  // --settle-seconds later, and after a full GC. "V8 heap" is what
  // V8 has resident for its spaces; "malloc side" is anonymous RSS less that (jemalloc's or
  // glibc's heap: TensorFlow, ArrayBuffers' backing stores, Node's C++ side; plus thread stacks).
  const sp = (s, name) => s.v8.spaces[name]?.physicalMB ?? 0;
  console.log('\n| round | candidate | moment | RSS MB | file-backed MB (largest) | anonymous MB | V8 heap resident MB: new / old / code / large objects / other | JS heap used MB | external / arrayBuffers MB | tfjs tensors (bytes MB; native handles) | malloc side MB | threads |');
  console.log('| ---: | --- | --- | ---: | --- | ---: | --- | ---: | --- | --- | ---: | ---: |');
  for (const x of results.cells) {
    const moments = [['throughput done (100 entities)', x.throughput.probe], ...Object.entries(x.memory.probe ?? {}).map(([k, v]) => [`10k entities: ${k}`, v])];
    for (const [moment, s] of moments) {
      if (!s) continue;
      const named = ['new_space', 'old_space', 'code_space', 'large_object_space'];
      const other = Object.keys(s.v8.spaces).filter((k) => !named.includes(k)).reduce((t, k) => t + sp(s, k), 0);
      const top = s.smaps.topFiles.slice(0, 2).map(([n, v]) => `${n} ${f0(v)}`).join(', ');
      console.log(`| ${x.round} | ${x.allocator} | ${moment} | ${f0(s.status.rssMB)} | ${f0(s.status.rssFileMB)} (${top}) | ${f0(s.status.rssAnonMB)} | ${f0(s.v8.totalPhysicalMB)}: ${f0(sp(s, 'new_space'))} / ${f0(sp(s, 'old_space'))} / ${f0(sp(s, 'code_space'))} / ${f0(sp(s, 'large_object_space'))} / ${f0(other)} | ${f0(s.memoryUsage.heapUsed)} | ${f0(s.memoryUsage.external)} / ${f0(s.memoryUsage.arrayBuffers)} | ${s.tf ? `${s.tf.numTensors} (${s.tf.numBytesMB} MB; ${s.tf.nativeTensors ?? '?'})` : '-'} | ${f0(s.status.rssAnonMB - s.v8.totalPhysicalMB)} | ${s.status.threads} |`);
    }
  }
  const je = results.cells.filter((x) => x.memory.jemallocAtExit);
  if (je.length > 0) {
    console.log('\n| round | candidate | jemalloc at exit: allocated / active / metadata / resident / mapped / retained MB |');
    console.log('| ---: | --- | --- |');
    for (const x of je) {
      const j = x.memory.jemallocAtExit;
      console.log(`| ${x.round} | ${x.allocator} | ${j.AllocatedMB} / ${j.activeMB} / ${j.metadataMB} / ${j.residentMB} / ${j.mappedMB} / ${j.retainedMB} |`);
    }
  }
}
