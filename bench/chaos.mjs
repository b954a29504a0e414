#!/usr/bin/env node
// Chaos benchmark (issue 12): `npm run bench:chaos [-- options]` (bench/chaos.sh builds first).
//
//   node bench/chaos.mjs [--readings 1000000] [--entities 100] [--partitions 6] [--units 16,8]
//                        [--port 39192] [--dir /tmp/seismo-kafka-chaos] [--outage-seconds 10]
//
// On a broker of its own (scripts/kafka/start.sh --fresh), with N simulator readings already in a
// topic (`seismo produce`):
//   1. reference: one `seismo run`, never disturbed, consumes the topic (group ref);
//   2. chaos: in another group, instance A alone; at 10 % of the readings processed B and C join
//      (1 -> 3); at 35 % B is SIGKILLed; at 50 % the broker is stopped, left down for
//      --outage-seconds and restarted on its data; at 70 % C is stopped (SIGTERM) (-> 1);
//      A finishes alone. Progress and lag are sampled from the group's committed checkpoints.
//   3. the flags of both runs, deduplicated by id, must be the same flags (ids, states, windows;
//      scores to 5 significant digits, as the suite compares them), lag must reach 0, and every
//      stall is measured: from the fault to the next committed progress.
// Prints a Markdown summary and writes bench/out/chaos.json (and the lag samples as CSV).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Daemon, groupLag, kafkaOf, readAll, root, runConfig, say as sayAs, seismo, sleep, startBroker, stopBroker, sum, trainModel } from './chaos-lib.mjs';

const { values: a } = parseArgs({
  options: {
    readings: { type: 'string', default: '1000000' },
    entities: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '6' },
    units: { type: 'string', default: '16,8' },
    port: { type: 'string', default: '39192' },
    dir: { type: 'string', default: '/tmp/seismo-kafka-chaos' },
    'outage-seconds': { type: 'string', default: '10' },
    'keep-broker': { type: 'boolean', default: false },
  },
});
const say = (m) => sayAs('chaos', m);
const ENTITIES = Number(a.entities);
const STEPS = Math.ceil(Number(a.readings) / ENTITIES);
const N = STEPS * ENTITIES;
const dir = mkdtempSync(join(tmpdir(), 'seismo-chaos-'));
const out = join(root, 'bench/out');
mkdirSync(out, { recursive: true });
const results = { readings: N, entities: ENTITIES, partitions: Number(a.partitions), units: a.units, outageSeconds: Number(a['outage-seconds']), loadBefore: loadavg().map((x) => x.toFixed(2)).join(' ') };

let bootstrap = startBroker(a.port, a.dir, true);
const daemons = [];
try {
  const kafka = kafkaOf(bootstrap);
  let admin = kafka.admin();
  await admin.connect();
  const topic = `chaos-readings-${Date.now()}`;
  const names = { ref: { group: `${topic}-ref`, flags: `${topic}-ref-flags`, dlq: `${topic}-ref-dlq` }, chaos: { group: `${topic}-chaos`, flags: `${topic}-chaos-flags`, dlq: `${topic}-chaos-dlq` } };
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: Number(a.partitions) }, ...Object.values(names).flatMap((n) => [{ topic: n.flags, numPartitions: 1 }, { topic: n.dlq, numPartitions: 1 }])],
  });
  say(`training a throwaway model (encoder [${a.units}])`);
  trainModel(dir, a.units);
  const cfg = (name, n) => runConfig(dir, name, { units: a.units, bootstrap, topic, ...n });
  say(`producing ${N} readings (${ENTITIES} entities x ${STEPS} steps) to ${a.partitions} partitions`);
  let t = performance.now();
  seismo(['produce', '-c', cfg('produce', names.ref), '--topic', topic, '--entities', String(ENTITIES), '--steps', String(STEPS)]);
  results.produceSeconds = (performance.now() - t) / 1000;

  // 1. Reference: undisturbed.
  say('reference run (one instance, undisturbed)');
  const ref = new Daemon(cfg('ref', names.ref), 'ref');
  daemons.push(ref);
  t = performance.now();
  for (;;) {
    const lag = await groupLag(admin, names.ref.group, topic);
    if (lag && lag.lag === 0 && lag.high === N) break;
    if (ref.exitCode !== undefined) throw new Error(`reference exited ${ref.exitCode}: ${ref.tail}`);
    await sleep(500);
  }
  results.reference = { seconds: (performance.now() - t) / 1000 };
  results.reference.readingsPerSecond = N / results.reference.seconds;
  const refMetrics = await ref.metrics();
  results.reference.readingsTotal = refMetrics.seismo_readings_total;
  results.reference.poison = sum(refMetrics, 'seismo_poison_total');
  await ref.kill('SIGTERM');
  say(`reference: ${results.reference.seconds.toFixed(1)} s, ${results.reference.readingsPerSecond.toFixed(0)} readings/s`);

  // 2. Chaos.
  const events = [];
  const samples = [];
  const event = (what) => {
    events.push({ at: (performance.now() - t) / 1000, what });
    say(what);
  };
  const start = (name) => {
    const d = new Daemon(cfg(name, names.chaos), name);
    daemons.push(d);
    return d;
  };
  t = performance.now();
  const A = start('A');
  event('A started (1 instance)');
  let B;
  let C;
  const stalls = [];
  // A fault's stall: from the fault until every partition that had work left has committed
  // progress again (a SIGKILLed member's partitions wait for the session timeout and a rebalance
  // while the others go on, so the total alone would hide it).
  let openStall; // { what, at, waiting: Map<partition, next at the fault> }
  const done = async () => {
    const lag = await groupLag(admin, names.chaos.group, topic);
    const now = (performance.now() - t) / 1000;
    if (lag) {
      samples.push({ t: now, lag: lag.lag, done: lag.done, instances: daemons.filter((d) => ['A', 'B', 'C'].includes(d.name) && d.exitCode === undefined).length });
      if (openStall) {
        for (const p of lag.parts) {
          const before = openStall.waiting.get(p.partition);
          if (before !== undefined && (p.next > before || p.next >= p.high)) openStall.waiting.delete(p.partition);
        }
        if (openStall.waiting.size === 0) {
          stalls.push({ fault: openStall.what, stallSeconds: now - openStall.at, ...(openStall.backAt ? { afterBrokerBackSeconds: (performance.now() - openStall.backAt) / 1000 } : {}) });
          say(`every partition progressed again ${(now - openStall.at).toFixed(1)} s after: ${openStall.what}`);
          openStall = undefined;
        }
      }
    }
    return lag;
  };
  const until = async (fraction) => {
    for (;;) {
      const lag = await done();
      if (lag && lag.done >= fraction * N) return;
      if (A.exitCode !== undefined) throw new Error(`A exited ${A.exitCode}: ${A.tail}`);
      await sleep(500);
    }
  };
  const fault = async (what) => {
    const lag = (await groupLag(admin, names.chaos.group, topic)) ?? { parts: [] };
    if (openStall) say(`the previous fault (${openStall.what}) had not recovered yet`);
    openStall = { what, at: (performance.now() - t) / 1000, waiting: new Map(lag.parts.filter((p) => p.next < p.high).map((p) => [p.partition, p.next])) };
    event(what);
  };

  await until(0.1);
  B = start('B');
  C = start('C');
  await fault('B and C joined (3 instances): rebalance');
  await until(0.35);
  await fault(`B SIGKILLed (pid ${B.pid})`);
  await B.kill('SIGKILL');
  await until(0.5);
  await fault(`broker stopped, down for ${a['outage-seconds']} s, restarted on its data`);
  await admin.disconnect().catch(() => {});
  stopBroker(a.dir);
  const downAt = performance.now();
  await sleep(Number(a['outage-seconds']) * 1000);
  bootstrap = startBroker(a.port, a.dir, false);
  results.brokerRestart = { downSeconds: (performance.now() - downAt) / 1000 };
  event(`broker back after ${results.brokerRestart.downSeconds.toFixed(1)} s`);
  admin = kafka.admin();
  await admin.connect();
  const backAt = performance.now();
  if (openStall) openStall.backAt = backAt;
  await until(0.7);
  await fault('C stopped with SIGTERM (1 instance left)');
  const cExit = C.kill('SIGTERM');
  await until(1);
  for (;;) {
    const lag = await done();
    if (lag && lag.lag === 0) break;
    await sleep(500);
  }
  results.chaos = { seconds: (performance.now() - t) / 1000, cExitCode: await cExit };
  results.chaos.lagZeroAfterBrokerBackSeconds = (performance.now() - backAt) / 1000;
  await waitReady(A);
  const mA = await A.metrics();
  results.chaos.aConsumerRestarts = mA.seismo_kafka_consumer_restarts_total;
  results.chaos.aReady = await A.ready();
  await A.kill('SIGTERM');
  results.chaos.aExitCode = A.exitCode;
  results.events = events;
  results.stalls = stalls;

  // 3. Flags: deduplicated by id, chaos = reference.
  const flags = async (n) => {
    const byId = new Map();
    let raw = 0;
    for (const m of await readAll(kafka, n.flags)) {
      raw++;
      const f = JSON.parse(m.value.toString('utf8'));
      if (!byId.has(f.id)) byId.set(f.id, f);
    }
    return { byId, raw };
  };
  const refFlags = await flags(names.ref);
  const chaosFlags = await flags(names.chaos);
  const sig = (x) => Number(Number(x).toPrecision(5));
  const canon = (f) => JSON.stringify({ ...f, score: sig(f.score), severity: sig(f.severity), threshold: sig(f.threshold), ...(f.windowScore === undefined ? {} : { windowScore: sig(f.windowScore) }), topFeatures: f.topFeatures.map((x) => ({ ...x, error: sig(x.error), share: sig(x.share) })) });
  const missing = [...refFlags.byId.keys()].filter((id) => !chaosFlags.byId.has(id));
  const extra = [...chaosFlags.byId.keys()].filter((id) => !refFlags.byId.has(id));
  const differ = [...refFlags.byId.keys()].filter((id) => chaosFlags.byId.has(id) && canon(refFlags.byId.get(id)) !== canon(chaosFlags.byId.get(id)));
  results.flags = { reference: refFlags.byId.size, referenceRaw: refFlags.raw, chaos: chaosFlags.byId.size, chaosRaw: chaosFlags.raw, duplicatesDelivered: chaosFlags.raw - chaosFlags.byId.size, missing: missing.length, extra: extra.length, differ: differ.length, equal: missing.length === 0 && extra.length === 0 && differ.length === 0 };
  if (!results.flags.equal) results.flags.examples = { missing: missing.slice(0, 3), extra: extra.slice(0, 3), differ: differ.slice(0, 3).map((id) => [canon(refFlags.byId.get(id)), canon(chaosFlags.byId.get(id))]) };
  results.loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');
  results.pass = stalls.length === 4 && results.flags.equal && samples.at(-1)?.lag === 0 && results.chaos.aExitCode === 0 && results.chaos.cExitCode === 0;
  writeFileSync(join(out, 'chaos.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'chaos-lag.csv'), `seconds,lag,done,instances\n${samples.map((s) => `${s.t.toFixed(1)},${s.lag},${s.done},${s.instances}`).join('\n')}\n`);
  await admin.disconnect();

  const md = [
    `| chaos: ${N.toLocaleString('en')} readings, ${ENTITIES} entities, ${a.partitions} partitions, encoder [${a.units}] | |`,
    '|---|---|',
    `| reference (1 instance, undisturbed) | ${results.reference.seconds.toFixed(1)} s (${results.reference.readingsPerSecond.toFixed(0)} readings/s), ${results.flags.reference} flags |`,
    `| chaos (1 -> 3 -> SIGKILL 1 -> broker down ${a['outage-seconds']} s -> 1) | ${results.chaos.seconds.toFixed(1)} s to lag 0 |`,
    ...stalls.map((s) => `| recovery after: ${s.fault} | ${s.stallSeconds.toFixed(1)} s until every partition committed progress again${s.afterBrokerBackSeconds === undefined ? '' : ` (${s.afterBrokerBackSeconds.toFixed(1)} s after the broker was back)`} |`),
    `| broker back -> lag 0 (includes processing the remaining readings) | ${results.chaos.lagZeroAfterBrokerBackSeconds.toFixed(1)} s |`,
    `| flags, deduplicated by id: chaos vs reference | ${results.flags.equal ? '**equal**' : '**DIFFERENT**'} (${results.flags.chaos} vs ${results.flags.reference}; missing ${results.flags.missing}, extra ${results.flags.extra}, differing ${results.flags.differ}; ${results.flags.duplicatesDelivered} duplicate deliveries) |`,
    `| A: consumer restarts, ready at the end, exit code; C exit code (SIGTERM) | ${results.chaos.aConsumerRestarts}, ${results.chaos.aReady}, ${results.chaos.aExitCode}; ${results.chaos.cExitCode} |`,
    `| load average (1, 5, 15 min) before / after | ${results.loadBefore} / ${results.loadAfter} |`,
    `| result | ${results.pass ? 'PASS' : 'FAIL'} |`,
  ].join('\n');
  process.stdout.write(`${md}\n`);
  process.exitCode = results.pass ? 0 : 1;
} finally {
  for (const d of daemons) await d.kill('SIGKILL');
  if (!a['keep-broker']) stopBroker(a.dir, true);
}

async function waitReady(d) {
  const until = Date.now() + 60_000;
  while (!(await d.ready()) && Date.now() < until) await sleep(250);
}
