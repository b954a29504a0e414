#!/usr/bin/env node
// Window state under a flood of distinct entity ids (issue 12): N raw JSON readings, each of a new
// entity, through the daemon's decode + windower path on one lane (default config). Modes:
//   flood            readings 1 ms apart (all within window.maxGapSeconds): window.maxEntities bounds it
//   flood-unbounded  the same with no maxEntities: what each entity costs
//   spread           readings 10 ms apart (1,000 s in all): idle eviction by the lane clock bounds it
// Reports entities kept, evictions, and JS heap / RSS before and after (after a forced GC).
// Run after `npx tsc -p tsconfig.json`:  node bench/entities.mjs [entities=100000] [features=8]
// Each mode runs in a child process of its own, so one mode's garbage cannot blur the other's numbers.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [, , first = '100000', second = '8', mode] = process.argv;
const N = Number(first);
const F = Number(second);

if (mode === undefined) {
  const rows = [];
  for (const m of ['flood', 'flood-unbounded', 'spread']) {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(N), String(F), m], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${m} run failed: ${child.stderr}`);
    rows.push(JSON.parse(child.stdout));
  }
  console.log(`${N} distinct entities, ${F} features, lookback ${rows[0].lookback}, one lane\n`);
  console.log('| mode | maxEntities | entities kept | evicted: capacity / idle | heap MB before -> after | RSS MB before -> after | heap + array bytes per kept entity |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.mode} | ${r.maxEntities} | ${r.kept} | ${r.evicted} / ${r.idle} | ${r.heapBefore} -> ${r.heapAfter} | ${r.rssBefore} -> ${r.rssAfter} | ${r.bytesPerEntity} |`);
  }
  process.exit(0);
}

const { parseConfig } = await import('../dist/config/load.js');
const { recordToReading } = await import('../dist/source/source.js');
const { Scaler } = await import('../dist/window/scaler.js');
const { identityScalerState, Windower } = await import('../dist/window/windower.js');

const cfg = parseConfig('', 'default');
const features = Array.from({ length: F }, (_, j) => `f${j}`);
const policy = { ...cfg.window, maxEntityIdLength: cfg.input.maxEntityIdLength, ...(mode === 'flood-unbounded' ? { maxEntities: Infinity } : {}) };
const spacingMs = mode === 'spread' ? 10 : 1;
// As the daemon builds it: history windows for smoothing + warm-up (defaults).
const windower = new Windower(policy, new Scaler(identityScalerState(features)), cfg.alerts.smoothWindows - 1 + cfg.window.warmupWindows);

const mb = (bytes) => Math.round(bytes / 2 ** 20);
globalThis.gc();
const before = process.memoryUsage();
const t0 = Date.now() - N * spacingMs;
const values = Object.fromEntries(features.map((f, j) => [f, j + 0.5]));
let poison = 0;
for (let i = 0; i < N; i++) {
  // Realistic ids (a site, a line, a serial), one reading each.
  const entity = `site-${i % 97}/line-${i % 13}/sensor-${i.toString(36).padStart(6, '0')}`;
  const text = JSON.stringify({ entity, ts: t0 + i * spacingMs, values });
  const decoded = recordToReading({ kind: 'raw', text, position: { source: 'bench', offset: String(i) } }, cfg.input.maxMessageBytes);
  if (!decoded.ok || windower.push(decoded.reading, { source: 'bench', offset: String(i) }).kind === 'poison') poison++;
}
globalThis.gc();
const after = process.memoryUsage();
if (poison > 0) throw new Error(`${poison} readings were rejected`);
console.log(JSON.stringify({
  mode,
  lookback: policy.lookback,
  maxEntities: String(policy.maxEntities),
  kept: windower.entityCount,
  evicted: windower.stats.evictedCapacity,
  idle: windower.stats.evictedIdle,
  heapBefore: mb(before.heapUsed),
  heapAfter: mb(after.heapUsed),
  rssBefore: mb(before.rss),
  rssAfter: mb(after.rss),
  bytesPerEntity: Math.round((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / windower.entityCount),
}));
