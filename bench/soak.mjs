#!/usr/bin/env node
// Soak benchmark (issue 12): `npm run bench:soak [-- options]` (bench/soak.sh builds first).
//
//   node bench/soak.mjs [--duration-seconds 3600] [--rate 5000] [--entities 100] [--partitions 4]
//                       [--warmup-seconds 300] [--window-seconds 600] [--sample-seconds 10]
//                       [--max-growth-percent 5] [--units 16,8] [--port 39292]
//                       [--dir /tmp/seismo-kafka-soak] [--csv bench/out/soak.csv]
//
// One `seismo run` against a broker of its own, fed at a steady rate for the whole duration by
// a producer in this process (simulator readings, stamped with the wall clock, strictly
// increasing per entity). Every sample-seconds it records RSS, JS heap, seismo_live_tensors,
// consumer lag (the daemon's gauge and the group's committed lag from the broker) and counters
// to the CSV. At the end it compares the mean of the last window-seconds with the mean of the
// first window-seconds after the warm-up: RSS and live tensors must not grow by more than
// max-growth-percent, and the consumer must keep up (last-window mean lag below 10 s of input).
import { mkdirSync, mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Daemon, groupLag, kafkaOf, root, runConfig, say as sayAs, sleep, startBroker, stopBroker, sum, trainModel } from './chaos-lib.mjs';

const { values: a } = parseArgs({
  options: {
    'duration-seconds': { type: 'string', default: '3600' },
    rate: { type: 'string', default: '5000' },
    entities: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '4' },
    'warmup-seconds': { type: 'string', default: '300' },
    'window-seconds': { type: 'string', default: '600' },
    'sample-seconds': { type: 'string', default: '10' },
    'max-growth-percent': { type: 'string', default: '5' },
    units: { type: 'string', default: '16,8' },
    port: { type: 'string', default: '39292' },
    dir: { type: 'string', default: '/tmp/seismo-kafka-soak' },
    csv: { type: 'string', default: join(root, 'bench/out/soak.csv') },
  },
});
const say = (m) => sayAs('soak', m);
const DURATION = Number(a['duration-seconds']);
const RATE = Number(a.rate);
const ENTITIES = Number(a.entities);
const WARMUP = Number(a['warmup-seconds']);
const WINDOW = Number(a['window-seconds']);
const SAMPLE = Number(a['sample-seconds']);
const MAX_GROWTH = Number(a['max-growth-percent']);
if (WARMUP + 2 * WINDOW > DURATION) throw new Error(`--duration-seconds ${DURATION} must cover the warm-up (${WARMUP} s) and two windows (${WINDOW} s each)`);

const { simulate } = await import(join(root, 'dist/simulate/simulator.js'));
const dir = mkdtempSync(join(tmpdir(), 'seismo-soak-'));
mkdirSync(dirname(a.csv), { recursive: true });
const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');

/** Readings forever: simulator segments of 10 s of input (small, so generating one does not delay a sample), one seed after the other, restamped when sent. */
function* readingSource() {
  const steps = Math.max(20, Math.ceil((RATE * 10) / ENTITIES));
  for (let seed = 1; ; seed++) {
    const sim = simulate({ seed, entities: ENTITIES, periodSeconds: 120, steps, eventsPerEntity: 1, eventFrom: Math.floor(steps / 2), startTs: Date.UTC(2026, 0, 1) });
    yield* sim.readings;
  }
}

const bootstrap = startBroker(a.port, a.dir, true);
let daemon;
let producing = true;
try {
  const kafka = kafkaOf(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const topic = `soak-${Date.now()}`;
  const t = { topic, group: `${topic}-g`, flags: `${topic}-flags`, dlq: `${topic}-dlq` };
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: Number(a.partitions) }, { topic: t.flags, numPartitions: 1 }, { topic: t.dlq, numPartitions: 1 }] });
  say(`training a throwaway model (encoder [${a.units}])`);
  trainModel(dir, a.units);
  daemon = new Daemon(runConfig(dir, 'soak', { units: a.units, bootstrap, ...t }), 'soak');
  for (const until = Date.now() + 120_000; !(await daemon.ready()); await sleep(250)) if (Date.now() > until || daemon.exitCode !== undefined) throw new Error(`daemon not ready: ${daemon.tail}`);
  say(`daemon ready; producing ${RATE} readings/s for ${DURATION} s`);

  // The producer: every 100 ms, what the schedule says is due (a slow send is caught up, not accumulated).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const source = readingSource();
  const lastTs = new Map();
  let produced = 0;
  let produceErrors = 0;
  const t0 = performance.now();
  const produceLoop = (async () => {
    while (producing) {
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
      const n = Math.min(due - produced, 5000);
      if (n > 0) {
        const now = Date.now();
        const messages = [];
        for (let i = 0; i < n; i++) {
          const r = source.next().value;
          const ts = Math.max(now, (lastTs.get(r.entity) ?? 0) + 1);
          lastTs.set(r.entity, ts);
          messages.push({ key: r.entity, value: JSON.stringify({ entity: r.entity, ts, values: r.values }) });
        }
        try {
          await producer.send({ topic, acks: -1, messages });
          produced += n;
        } catch (err) {
          produceErrors++;
          say(`produce failed: ${err.message}`);
        }
      }
      await sleep(100);
    }
  })();

  const header = 'seconds,rss_mb,heap_mb,live_tensors,lag_daemon,lag_group,produced,readings_total,poison_total,flags_total,entities,ready\n';
  writeFileSync(a.csv, header);
  const samples = [];
  for (let k = 1; k * SAMPLE <= DURATION; k++) {
    const at = t0 + k * SAMPLE * 1000;
    await sleep(Math.max(0, at - performance.now()));
    const m = await daemon.metrics();
    const group = await groupLag(admin, t.group, topic);
    const s = {
      seconds: Math.round((performance.now() - t0) / 1000),
      rss: (m.seismo_process_resident_memory_bytes ?? NaN) / 2 ** 20,
      heap: (m.seismo_nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20,
      tensors: m.seismo_live_tensors ?? NaN,
      lagDaemon: sum(m, 'seismo_kafka_consumer_lag_messages'),
      lagGroup: group?.lag ?? NaN,
      produced,
      readings: m.seismo_readings_total ?? NaN,
      poison: sum(m, 'seismo_poison_total'),
      flags: sum(m, 'seismo_flags_total'),
      entities: m.seismo_entities ?? NaN,
      ready: (await daemon.ready()) ? 1 : 0,
    };
    samples.push(s);
    appendFileSync(a.csv, `${s.seconds},${s.rss.toFixed(1)},${s.heap.toFixed(1)},${s.tensors},${s.lagDaemon},${s.lagGroup},${s.produced},${s.readings},${s.poison},${s.flags},${s.entities},${s.ready}\n`);
    if (k % 6 === 0) say(`${s.seconds} s: RSS ${s.rss.toFixed(0)} MB, tensors ${s.tensors}, lag ${s.lagGroup}, readings ${s.readings}/${s.produced}`);
    if (daemon.exitCode !== undefined) throw new Error(`the daemon exited ${daemon.exitCode}: ${daemon.tail}`);
  }
  producing = false;
  await produceLoop;
  await producer.disconnect();
  await admin.disconnect();

  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const first = samples.filter((s) => s.seconds > WARMUP && s.seconds <= WARMUP + WINDOW);
  const last = samples.filter((s) => s.seconds > DURATION - WINDOW);
  const growth = (key) => {
    const f = mean(first.map((s) => s[key]));
    const l = mean(last.map((s) => s[key]));
    return { first: f, last: l, percent: f === 0 ? (l === 0 ? 0 : Infinity) : ((l - f) / f) * 100 };
  };
  const rss = growth('rss');
  const tensors = growth('tensors');
  const lastLag = mean(last.map((s) => s.lagGroup));
  const keptUp = lastLag < RATE * 10;
  const final = samples.at(-1);
  const result = {
    durationSeconds: DURATION, rate: RATE, entities: ENTITIES, warmupSeconds: WARMUP, windowSeconds: WINDOW, samples: samples.length,
    rss, tensors, heap: growth('heap'), lastWindowMeanLag: lastLag, maxLag: Math.max(...samples.map((s) => s.lagGroup).filter(Number.isFinite)),
    produced: final.produced, readings: final.readings, poison: final.poison, flags: final.flags, produceErrors, notReadySamples: samples.filter((s) => !s.ready).length,
    loadBefore, loadAfter: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  result.pass = rss.percent <= MAX_GROWTH && tensors.percent <= MAX_GROWTH && keptUp;
  writeFileSync(a.csv.replace(/\.csv$/, '.json'), `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `| soak: ${DURATION} s at ${RATE} readings/s, ${ENTITIES} entities, encoder [${a.units}] (first window: ${WARMUP}-${WARMUP + WINDOW} s, last: ${DURATION - WINDOW}-${DURATION} s) | first | last | growth |`,
    '|---|---|---|---|',
    `| RSS (MB) | ${rss.first.toFixed(1)} | ${rss.last.toFixed(1)} | **${rss.percent.toFixed(2)} %** |`,
    `| JS heap used (MB) | ${result.heap.first.toFixed(1)} | ${result.heap.last.toFixed(1)} | ${result.heap.percent.toFixed(2)} % |`,
    `| seismo_live_tensors | ${tensors.first.toFixed(1)} | ${tensors.last.toFixed(1)} | **${tensors.percent.toFixed(2)} %** |`,
    `| consumer lag, messages (group, committed): last-window mean / max | | ${lastLag.toFixed(0)} / ${result.maxLag} | |`,
    `| produced / readings / poison / flags / produce errors / unready samples | | ${result.produced} / ${result.readings} / ${result.poison} / ${result.flags} / ${produceErrors} / ${result.notReadySamples} | |`,
    `| load average (1, 5, 15 min) before / after | | ${loadBefore} / ${result.loadAfter} | |`,
    `| result (growth <= ${MAX_GROWTH} % for RSS and tensors, lag < 10 s of input) | | | ${result.pass ? 'PASS' : 'FAIL'} |`,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  process.exitCode = result.pass ? 0 : 1;
} finally {
  producing = false;
  if (daemon) await daemon.kill('SIGTERM');
  stopBroker(a.dir, true);
}
