#!/usr/bin/env node
// What a refit's training costs the daemon's event loop (the thread that scores): the longest
// event-loop delay while the same buffer is trained (a) in a `seismo train` child process, as
// the refit policy does, and (b) in this process with trainFromData. One run, side by side.
//   node bench/refit-stall.mjs <refit work dir: buffer.ndjson, excluded.json, config.json>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const work = process.argv[2];
if (!work) {
  console.error('usage: node bench/refit-stall.mjs <refit work dir>');
  process.exit(2);
}
const { parseConfig } = await import('../dist/config/load.js');
const { chooseBackend } = await import('../dist/model/backend.js');
const { trainFromData } = await import('../dist/jobs/train-job.js');
const { trainInChild } = await import('../dist/refit/trainer.js');
await chooseBackend('auto', 0);
const cfg = parseConfig(readFileSync(join(work, 'config.json'), 'utf8'), 'config.json');
const readings = readFileSync(join(work, 'buffer.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const excluded = new Map(Object.entries(JSON.parse(readFileSync(join(work, 'excluded.json'), 'utf8'))));
const byEntity = new Map();
for (const r of readings) byEntity.set(r.entity, [...(byEntity.get(r.entity) ?? []), r]);
const measure = async (fn) => {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // A 10 ms tick stands in for the scoring loop: its lateness is what a window waits.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  h.disable();
  return { seconds: Math.round(seconds * 10) / 10, maxDelayMs: Math.round(h.max / 1e5) / 10, p99DelayMs: Math.round(h.percentile(99) / 1e5) / 10, ticksPerSecond: Math.round(ticks / seconds) };
};
const child = await measure(() => trainInChild(cfg, cfg.features, cfg.window.lookback, { readings, excluded, left: 0 }, mkdtempSync(join(tmpdir(), 'seismo-stall-')), 3_600_000));
const inProcess = await measure(() => trainFromData(cfg, { byEntity, features: cfg.features, poison: [] }, undefined, excluded));
console.log(JSON.stringify({ readings: readings.length, child, inProcess }));
