#!/usr/bin/env node
// Continual learning on one NAB stream: refit off vs on, same trained model, same seed.
//   node bench/refit-nab.mjs <nab-dir> <category/file.csv> [config] [seed] [refit overrides: a JSON object, or an array of them for several refit-on runs]
// Trains on the probationary rows (as `seismo evaluate --protocol nab`), then replays the whole
// file through a real Daemon twice, as fast as possible: refit off, and refit on with
// refit.waitForTraining (the stream waits while the `seismo train` child runs: a live stream
// would move on by a few readings). Live alert openings are the detections, scored with the NAB
// profiles; shadow flags are counted apart. Prints one JSON line per run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';

const [dir, key, configPath = 'config/nab.yaml', seedArg = '1', overrides = '{}'] = process.argv.slice(2);
if (!dir || !key) {
  console.error('usage: node bench/refit-nab.mjs <nab-dir> <category/file.csv> [config] [seed] [refit JSON]');
  process.exit(2);
}
const { loadConfig } = await import('../dist/config/load.js');
const { chooseBackend } = await import('../dist/model/backend.js');
const { parseCsv } = await import('../dist/source/csv.js');
const { nabFiles, effectiveMaxGapSeconds } = await import('../dist/evaluate/nab-protocol.js');
const { NAB_PROFILES, normalisedNab, probationRows, rowWindows, scoreNabFile } = await import('../dist/evaluate/nab-score.js');
const { trainFromData } = await import('../dist/jobs/train-job.js');
const { saveArtifact } = await import('../dist/model/artifact.js');
const { Daemon } = await import('../dist/daemon.js');
const { memorySource } = await import('../dist/source/replay.js');
const { Metrics } = await import('../dist/observability/metrics.js');
const { createLogger } = await import('../dist/observability/logger.js');

await chooseBackend('auto', 0);
const seed = Number(seedArg);
const base = loadConfig(configPath);
const file = nabFiles(dir).find((f) => f.key === key);
if (!file) throw new Error(`${key}: not in ${dir}`);
const input = { ...base.input, format: 'csv', delimiter: ',', timestampColumn: 'timestamp', entity: 'default', ignoreColumns: ['label'] };
delete input.entityColumn;
const entity = basename(file.name, '.csv');
const readings = parseCsv(readFileSync(file.path, 'utf8'), file.path, input).readings.map((r) => ({ ...r, entity }));
const probation = probationRows(readings.length);
const ts = Float64Array.from(readings, (r) => r.ts);
const maxGapSeconds = effectiveMaxGapSeconds(ts.subarray(0, probation), base.window.maxGapSeconds);
const cfg = { ...base, input, window: { ...base.window, maxGapSeconds }, model: { ...base.model, seed }, http: { ...base.http, enabled: false } };
const features = Object.keys(readings[0].values);
const work = mkdtempSync(join(tmpdir(), 'seismo-refit-nab-'));
const t0 = performance.now();
const trained = await trainFromData(cfg, { byEntity: new Map([[entity, readings.slice(0, probation)]]), features, poison: [] });
await saveArtifact(join(work, 'model'), trained.artifact);
const trainSeconds = (performance.now() - t0) / 1000;
const windows = rowWindows(ts, file.windows);
const rowOf = new Map(readings.map((r, i) => [r.ts, i]));

async function run(refit) {
  const metrics = new Metrics();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', true);
  const openings = [];
  const models = new Set();
  const shadow = [];
  const config = { ...cfg, artifactDir: join(work, 'model'), refit: { ...cfg.refit, ...refit, dir: join(work, `refit-${Date.now()}`), shadowPath: join(work, `shadow-${Date.now()}.ndjson`) } };
  const daemon = new Daemon({
    config,
    log,
    metrics,
    source: memorySource(readings, 0, cfg.scoring.maxBatch, 'bench'),
    sink: { send: async () => {}, flush: async () => {}, close: async () => {} },
    deadLetter: { send: async () => {}, close: async () => {} },
    shadowSink: { send: async (f) => void shadow.push(...f), flush: async () => {}, close: async () => {} },
    onFlag: (f) => {
      models.add(f.model);
      if (f.state === 'open') openings.push(rowOf.get(Date.parse(f.windowEnd)));
    },
  });
  const started = performance.now();
  await daemon.start();
  await daemon.finished();
  await daemon.stop();
  const count = async (m) => Object.fromEntries((await m.get()).values.map((v) => [Object.values(v.labels)[0] ?? 'all', v.value]));
  const nab = Object.fromEntries(NAB_PROFILES.map((p) => [p.name, Math.round(100 * normalisedNab([scoreNabFile(readings.length, windows, openings, p)], p)) / 100]));
  const s = scoreNabFile(readings.length, windows, openings, NAB_PROFILES[0]);
  return {
    file: key,
    seed,
    refit: refit.enabled ? refit : 'off',
    rows: readings.length,
    windows: windows.length,
    openings: s.detections,
    detected: s.detected,
    falsePositives: s.falsePositives,
    nab,
    modelsFlagging: models.size,
    refits: await count(metrics.refits),
    rejections: await count(metrics.refitRejections),
    shadowOpenings: shadow.filter((f) => f.state === 'open').length,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

console.log(JSON.stringify({ trained: trained.artifact.manifest.version, probation, trainSeconds: Math.round(trainSeconds), threshold: trained.artifact.threshold?.value }));
console.log(JSON.stringify(await run({ enabled: false })));
const variants = [JSON.parse(overrides)].flat();
for (const v of variants) console.log(JSON.stringify(await run({ enabled: true, waitForTraining: true, ...v })));
