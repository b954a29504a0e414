#!/usr/bin/env node
// Seismo scorer benchmark: one backend per process (a process picks its backend once).
//
//   node bench/scorer-bench.mjs --backend native|wasm|cpu [--budget 3] [--batches 1,64,256,1024]
//        [--leak 10000] [--leak-batch 1] [--train] [--export] [--out bench/out/seismo-native.json]
//
// Models: "skab" (T=10, F=8) and "rare-event" (T=5, F=59), both encoderUnits [128, 64] with
// RepeatVector bottleneck and sigmoid gates (the default for new models), built with seeded
// weights by Seismo's own buildAutoencoder. On native, every cell is timed twice, side by side:
// the Scorer as the daemon builds it (path block-lstm: one BlockLSTMV2 op per LSTM layer) and the
// same model with `path: 'layers'` (model.predict). On wasm/cpu the Scorer takes the layers path.
// Every cell is measured with a time budget (so the slow cpu backend stays bounded), and records
// the machine's 1-minute load average (os.loadavg()[0]) at its end beside its figures: on a
// shared machine the load says how far a cell can be trusted.
// --export writes the weights (+ a reference batch and Seismo's output on it, + the training
// series) to bench/out/ so bench/keras_bench.py can load identical weights and check outputs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    budget: { type: 'string', default: '3' },
    batches: { type: 'string', default: '1,64,256,1024' },
    models: { type: 'string', default: 'skab,rare-event' },
    leak: { type: 'string', default: '0' },
    'leak-batch': { type: 'string', default: '1' },
    train: { type: 'boolean', default: false },
    // batch[:maxEpochs[:path[:learningRate]]] list; path auto (block-lstm on native) or layers (model.fit).
    // 64:100 = the config defaults (batch 64, lr 0.001) to convergence; 64:5:layers = model.fit for
    // 5 epochs, for the per-epoch ratio; 64:100:auto:0.003 = lr 0.003 to convergence; etc.
    'train-batches': { type: 'string', default: '64:100,64:5:layers,64:100:auto:0.003,256:100:auto:0.01' },
    export: { type: 'boolean', default: false },
    'train-csv': { type: 'string' }, // a SKAB CSV (';', datetime first): its first 400 rows instead of the simulator
    threads: { type: 'string', default: '0' },
    // hardSigmoid = an artifact trained before sigmoid became the default (Scorer path fused on native)
    gates: { type: 'string', default: 'sigmoid' },
    out: { type: 'string' },
  },
});

const { chooseBackend } = await import(join(dist, 'model/backend.js'));
const choice = await chooseBackend(args.backend, Number(args.threads));
const tf = await import('@tensorflow/tfjs');
const { buildAutoencoder } = await import(join(dist, 'model/build.js'));
const { Scorer } = await import(join(dist, 'score/scorer.js'));
const { trainAutoencoder, splitChronological } = await import(join(dist, 'model/train.js'));
const { mulberry32, gaussian } = await import(join(dist, 'random.js'));
const { simulate } = await import(join(dist, 'simulate/simulator.js'));

export const MODELS = {
  skab: { lookback: 10, features: 8 },
  'rare-event': { lookback: 5, features: 59 },
};
export const ARCH = { encoderUnits: [128, 64], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.001, seed: 42, recurrentActivation: args.gates };

const log = (...m) => console.error(`[seismo-bench ${choice.active}]`, ...m);
const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });

function randomWindows(n, size, seed) {
  const rng = mulberry32(seed);
  const a = new Float32Array(n * size);
  for (let i = 0; i < a.length; i++) a[i] = gaussian(rng);
  return a;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Time fn() repeatedly until `budget` seconds or `maxIters`; at least `minIters`. */
function timeCell(fn, { budget, warmup = 2, minIters = 3, maxIters = 1e6 }) {
  for (let i = 0; i < warmup; i++) fn();
  const lat = [];
  const t0 = performance.now();
  while (lat.length < maxIters && (lat.length < minIters || performance.now() - t0 < budget * 1000)) {
    const s = performance.now();
    fn();
    lat.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  const sorted = [...lat].sort((a, b) => a - b);
  return { iters: lat.length, totalMs: total, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), meanMs: total / lat.length, load: load() };
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);
/** The machine's 1-minute load average, recorded beside every cell. */
const load = () => Number(loadavg()[0].toFixed(2));

/** Native calls into libtensorflow during fn (binding.executeOp = one TFE_Execute; createTensor = an upload). */
function nativeCalls(fn) {
  const backend = tf.backend();
  const binding = backend.binding;
  if (!binding) return undefined;
  let executeOps = 0;
  let uploads = 0;
  const byOp = {};
  // The addon object is frozen: shadow it with an object whose prototype is the addon.
  backend.binding = Object.create(binding, {
    executeOp: { value: (name, ...rest) => { executeOps++; byOp[name] = (byOp[name] ?? 0) + 1; return binding.executeOp(name, ...rest); } },
    createTensor: { value: (...rest) => { uploads++; return binding.createTensor(...rest); } },
  });
  try { fn(); } finally { backend.binding = binding; }
  return { executeOps, uploads, byOp };
}

function maxAbsDiff(a, b) {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
const budget = Number(args.budget);
const batchSizes = args.batches.split(',').map(Number);
const result = {
  backend: choice.active,
  gates: args.gates,
  tfjs: tf.version.tfjs,
  node: process.version,
  env: { TF_NUM_INTRAOP_THREADS: process.env.TF_NUM_INTRAOP_THREADS, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS },
  budgetSeconds: budget,
  models: {},
};

for (const name of args.models.split(',')) {
  const { lookback: T, features: F } = MODELS[name];
  const model = buildAutoencoder(ARCH, T, F);
  const maxBatch = Math.max(...batchSizes);
  const scorer = new Scorer(model, T, F, maxBatch);
  scorer.warmUp();
  // The same model on model.predict, timed beside the daemon's path when that is not already it.
  const layers = scorer.path === 'layers' ? undefined : new Scorer(model, T, F, maxBatch, { path: 'layers' });
  layers?.warmUp();
  const data = randomWindows(maxBatch, T * F, 1234);
  const m = { lookback: T, features: F, params: model.countParams(), path: scorer.path, pathReason: scorer.pathReason, cells: {}, layersCells: {} };
  result.models[name] = m;
  log(`${name}: Scorer path ${scorer.path}${scorer.pathReason ? ` (${scorer.pathReason})` : ''}`);
  const B256 = Math.min(256, maxBatch);
  m.nativeCalls256 = { path: nativeCalls(() => scorer.scoreRaw(data, B256)), layers: layers && nativeCalls(() => layers.scoreRaw(data, B256)) };
  if (layers) {
    m.maxAbsDiffPaths = maxAbsDiff(scorer.scoreRaw(data, B256), layers.scoreRaw(data, B256));
    log(`${name}: max |${scorer.path} - layers| of the per-feature errors at B=${B256}: ${m.maxAbsDiffPaths.toExponential(2)}; native ops per call: ${m.nativeCalls256.path?.executeOps} vs ${m.nativeCalls256.layers?.executeOps}`);
  }

  if (args.export) {
    // Weights in layer order (tfjs names, shapes, float32 little-endian, concatenated), the same
    // order Keras' model.get_weights() uses for the identical architecture.
    const specs = [];
    const chunks = [];
    let offset = 0;
    for (const layer of model.layers) {
      for (const w of layer.weights) {
        const v = w.read().dataSync();
        specs.push({ layer: layer.name, name: w.originalName ?? w.name, shape: w.shape, offset, length: v.length });
        chunks.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        offset += v.length;
      }
    }
    writeFileSync(join(outDir, `weights-${name}.bin`), Buffer.concat(chunks));
    const keras = { sigmoid: 'sigmoid', hardSigmoid: 'hard_sigmoid' }[ARCH.recurrentActivation];
    writeFileSync(join(outDir, `weights-${name}.json`), JSON.stringify({ model: name, lookback: T, features: F, arch: ARCH, recurrentActivation: keras, weights: specs }, null, 1));
    // Reference batch + Seismo's reconstruction of it, for the cross-framework check.
    const nRef = 64;
    const x = data.subarray(0, nRef * T * F);
    const y = tf.tidy(() => model.predict(tf.tensor3d(x, [nRef, T, F])).dataSync());
    writeFileSync(join(outDir, `ref-${name}-x.bin`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(join(outDir, `ref-${name}-y.bin`), Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    log(`exported ${specs.length} weight arrays of ${name} to bench/out/`);
  }

  for (const B of batchSizes) {
    // The pure-JS cpu backend takes ~1.5 s per call at B=64 and ~25 s at B=1024: fewer warm-ups
    // and minimum iterations there, and the time budget bounds the rest.
    const slow = choice.active === 'cpu' && B >= 64;
    const huge = choice.active === 'cpu' && B >= 256;
    const cell = timeCell(() => scorer.scoreRaw(data, B), { budget, warmup: huge ? 0 : slow ? 1 : 3, minIters: huge ? 1 : slow ? 2 : 5 });
    cell.windowsPerSec = (B * cell.iters) / (cell.totalMs / 1000);
    cell.rssMb = rssMb();
    m.cells[B] = cell;
    log(`${name} B=${B}: ${scorer.path} ${cell.windowsPerSec.toFixed(0)} windows/s, p50 ${cell.p50Ms.toFixed(2)} ms, p99 ${cell.p99Ms.toFixed(2)} ms, ${cell.iters} iters, rss ${cell.rssMb} MB (load ${cell.load})`);
    if (layers) {
      const lc = timeCell(() => layers.scoreRaw(data, B), { budget });
      lc.windowsPerSec = (B * lc.iters) / (lc.totalMs / 1000);
      m.layersCells[B] = lc;
      log(`${name} B=${B}: layers ${lc.windowsPerSec.toFixed(0)} windows/s, p50 ${lc.p50Ms.toFixed(2)} ms -> ${scorer.path} x${(cell.windowsPerSec / lc.windowsPerSec).toFixed(2)} (load ${lc.load})`);
    }
  }
  scorer.dispose();
  model.dispose();
}

// Tensor-leak check: live tensors before/after N scoreRaw calls on the SKAB model.
const leakN = Number(args.leak);
if (leakN > 0) {
  const { lookback: T, features: F } = MODELS.skab;
  const B = Number(args['leak-batch']);
  const model = buildAutoencoder(ARCH, T, F);
  const scorer = new Scorer(model, T, F, B);
  const data = randomWindows(B, T * F, 99);
  scorer.warmUp();
  scorer.scoreRaw(data, B);
  // tfjs' count, and on native also libtensorflow's own handle count (tensors tfjs cannot see).
  const handles = () => tf.backend().binding?.getNumOfTensors();
  const before = tf.memory().numTensors;
  const handlesBefore = handles();
  const rssBefore = rssMb();
  const t0 = performance.now();
  for (let i = 0; i < leakN; i++) scorer.scoreRaw(data, B);
  const seconds = (performance.now() - t0) / 1000;
  const after = tf.memory().numTensors;
  result.leak = { path: scorer.path, keptTensors: scorer.keptTensors, batches: leakN, batchSize: B, tensorsBefore: before, tensorsAfter: after, growth: after - before, nativeHandlesBefore: handlesBefore, nativeHandlesAfter: handles(), rssBeforeMb: rssBefore, rssAfterMb: rssMb(), seconds, load: load() };
  log(`leak check (${scorer.path}): ${leakN} batches of ${B}: numTensors ${before} -> ${after}, native handles ${handlesBefore} -> ${handles()}, rss ${rssBefore} -> ${rssMb()} MB (${seconds.toFixed(1)} s, load ${result.leak.load})`);
  scorer.dispose();
  model.dispose();
}

// Training: a 400-row, 8-feature series (Seismo's seeded simulator, standardised), T=10 stride-1
// windows, Seismo's trainAutoencoder (patience 5, 20 % val), per run: batch, max epochs, path, learning rate.
if (args.train) {
  let rows;
  if (args['train-csv']) {
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(args['train-csv'], 'utf8').trim().split(/\r?\n/); // SKAB files end lines with CRLF
    const header = lines[0].split(';');
    const cols = header.map((h, j) => j).filter((j) => !['datetime', 'anomaly', 'changepoint'].includes(header[j]));
    rows = lines.slice(1, 401).map((l) => { const v = l.split(';'); return cols.map((j) => Number(v[j])); });
  } else {
    const sim = simulate({ seed: 7, entities: 1, periodSeconds: 1, steps: 400, eventsPerEntity: 0, eventFrom: 400, startTs: 0 });
    rows = sim.readings.map((r) => sim.features.map((f) => r.values[f]));
  }
  const F = rows[0].length;
  const feats = rows[0];
  if (F !== 8) throw new Error(`training series must have 8 features, got ${F}`);
  const T = 10;
  const mean = feats.map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const std = feats.map((_, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / rows.length) || 1);
  const series = new Float32Array(rows.length * F);
  rows.forEach((r, i) => r.forEach((v, j) => (series[i * F + j] = (v - mean[j]) / std[j])));
  const count = rows.length - T + 1;
  const windows = new Float32Array(count * T * F);
  for (let w = 0; w < count; w++) windows.set(series.subarray(w * F, (w + T) * F), w * T * F);
  if (args.export) writeFileSync(join(outDir, 'train-series.bin'), Buffer.from(series.buffer));
  const set = { data: windows, count, lookback: T, features: F };
  const { train, validation } = splitChronological(set, 0.2);
  result.training = { source: args['train-csv'] ?? 'simulator seed 7', rows: rows.length, windows: count, trainWindows: train.count, validationWindows: validation.count, runs: [] };
  for (const spec of args['train-batches'].split(',')) {
    const [bs, epochs, pathArg, lrArg] = spec.split(':');
    const batchSize = Number(bs);
    const maxEpochs = Number(epochs || 50);
    const learningRate = Number(lrArg || ARCH.learningRate);
    const model = buildAutoencoder({ ...ARCH, learningRate }, T, F);
    const epochSeconds = [];
    const metrics = await trainAutoencoder(model, train, validation, { epochs: maxEpochs, batchSize, validationSplit: 0.2, patience: 5, seed: 42 }, (r) => epochSeconds.push(r.seconds), { path: pathArg || 'auto' });
    const sortedEpochs = [...epochSeconds].sort((a, b) => a - b);
    const run = { path: metrics.path, batchSize, learningRate, maxEpochs, converged: metrics.epochsRun < maxEpochs, epochsRun: metrics.epochsRun, bestEpoch: metrics.bestEpoch, valLoss: metrics.valLoss, seconds: metrics.seconds, firstEpochSeconds: epochSeconds[0], medianEpochSeconds: quantile(sortedEpochs, 0.5), load: load() };
    result.training.runs.push(run);
    log(`train ${run.path} batch ${batchSize} lr ${learningRate}: ${run.epochsRun} epochs (best ${run.bestEpoch}, val ${run.valLoss.toFixed(4)}), ${run.seconds.toFixed(1)} s total, ${run.medianEpochSeconds.toFixed(3)} s/epoch median (load ${run.load})`);
    model.dispose();
  }
}

result.rssMb = rssMb();
result.load = load();
const out = args.out ?? join(outDir, `seismo-${args.backend}.json`);
writeFileSync(out, JSON.stringify(result, null, 1));
log(`wrote ${out}`);
