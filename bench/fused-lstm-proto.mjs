#!/usr/bin/env node
// Where does native scoring time go, and a fused-LSTM scorer prototype (bench only, not in src/).
//
//   node bench/fused-lstm-proto.mjs [--backend native] [--budget 3] [--batches 1,64,256,1024] [--models skab,rare-event]
//
// 1. Profile: tf.profile of one Seismo Scorer.scoreRaw at batch 256 (kernels per call, by name,
//    and the tensors uploaded), plus the time of one LSTM layer alone vs the whole model.
// 2. FusedScorer: the same weights run as a hand-written, time-major forward pass:
//    * the input projection of every timestep is ONE matMul ([T*B, in] x [in, 4u]) + bias add;
//      after RepeatVector it is computed once and reused for every step;
//    * gates are reordered to [i, f, o | c] and the i/f/o columns (and bias) are pre-scaled so that
//      hard_sigmoid(z) = clip(0.2 z + 0.5, 0, 1) becomes max/min against two cached scalar tensors
//      (tfjs-layers runs mul+add+min+max and uploads 4 new scalar tensors per gate per step);
//    * step 0 (h = c = 0) skips the recurrent matMul and the forget term;
//    * the whole pass stays time-major, so there is one transpose (the input) and none at the end.
//    Output = the same per-feature errors as Scorer.scoreRaw; checked against it (max |diff|).
import { writeFileSync, mkdirSync } from 'node:fs';
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
    out: { type: 'string' },
  },
});
const { chooseBackend } = await import(join(dist, 'model/backend.js'));
const choice = await chooseBackend(args.backend);
const tf = await import('@tensorflow/tfjs');
const { buildAutoencoder } = await import(join(dist, 'model/build.js'));
const { Scorer } = await import(join(dist, 'score/scorer.js'));
const { mulberry32, gaussian } = await import(join(dist, 'random.js'));

const MODELS = { skab: { lookback: 10, features: 8 }, 'rare-event': { lookback: 5, features: 59 } };
// hardSigmoid: the prototype is about artifacts trained before Seismo switched new models to
// sigmoid gates (those run on the Scorer's block-lstm path, timed by scorer-bench.mjs).
const ARCH = { encoderUnits: [128, 64], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.001, seed: 42, recurrentActivation: 'hardSigmoid' };
const log = (...m) => console.error(`[fused-proto ${choice.active}]`, ...m);

/** One LSTM layer's weights, gate columns reordered i,f,c,o -> i,f,o,c; i/f/o pre-scaled for hard sigmoid. */
function prepareLstm(layer) {
  const cell = layer.cell;
  if (cell.recurrentActivation.getClassName() !== 'hardSigmoid' || cell.activation.getClassName() !== 'tanh') {
    throw new Error(`${layer.name}: prototype handles tanh/hard_sigmoid LSTMs only`);
  }
  const [kernel, recurrent, bias] = layer.getWeights();
  const u = cell.units;
  return tf.tidy(() => {
    const reorder = (w) => {
      const [i, f, c, o] = tf.split(w, 4, -1);
      return { sig: tf.concat([i, f, o], -1), c };
    };
    const k = reorder(kernel);
    const r = reorder(recurrent);
    const b = reorder(bias);
    const keep = (t) => tf.keep(t);
    return {
      units: u,
      returnSequences: layer.returnSequences,
      K: keep(tf.concat([tf.mul(k.sig, 0.2), k.c], -1)),
      U: keep(tf.concat([tf.mul(r.sig, 0.2), r.c], -1)),
      b: keep(tf.concat([tf.add(tf.mul(b.sig, 0.2), 0.5), b.c], -1)),
    };
  });
}

export class FusedScorer {
  constructor(model, lookback, features) {
    this.lookback = lookback;
    this.features = features;
    this.layers = [];
    for (const layer of model.layers) {
      const cls = layer.getClassName();
      if (cls === 'InputLayer') continue;
      if (cls === 'LSTM') this.layers.push({ kind: 'lstm', ...prepareLstm(layer) });
      else if (cls === 'RepeatVector') this.layers.push({ kind: 'repeat' });
      else if (cls === 'TimeDistributed') {
        const [k, b] = layer.getWeights();
        this.layers.push({ kind: 'dense', K: tf.keep(k.clone()), b: tf.keep(b.clone()) });
      } else throw new Error(`unsupported layer ${cls}`);
    }
    this.zero = tf.keep(tf.scalar(0));
    this.one = tf.keep(tf.scalar(1));
  }

  /** x: time-major [T, B, in] (seq) or [B, in] repeated T times (repeat); returns [T, B, u] or [B, u]. */
  lstm(L, x, repeated) {
    const T = this.lookback;
    const u = L.units;
    let proj; // per-step input projections
    if (repeated) {
      const p = tf.add(tf.matMul(x, L.K), L.b); // [B, 4u], the same for every step
      proj = Array(T).fill(p);
    } else {
      const [t, B, inDim] = x.shape;
      const p = tf.add(tf.matMul(tf.reshape(x, [t * B, inDim]), L.K), L.b);
      proj = tf.unstack(tf.reshape(p, [t, B, 4 * u]));
    }
    let h;
    let c;
    const hs = [];
    for (let t = 0; t < T; t++) {
      const z = t === 0 ? proj[0] : tf.add(tf.matMul(h, L.U), proj[t]);
      const [zs, zc] = tf.split(z, [3 * u, u], 1);
      const s = tf.minimum(tf.maximum(zs, this.zero), this.one);
      const g = tf.tanh(zc);
      const [i, f, o] = tf.split(s, 3, 1);
      c = t === 0 ? tf.mul(i, g) : tf.add(tf.mul(f, c), tf.mul(i, g));
      h = tf.mul(o, tf.tanh(c));
      if (L.returnSequences) hs.push(h);
    }
    return L.returnSequences ? tf.stack(hs) : h;
  }

  forward(xTimeMajor) {
    let x = xTimeMajor;
    let repeated = false;
    for (const L of this.layers) {
      if (L.kind === 'lstm') {
        x = this.lstm(L, x, repeated);
        repeated = false;
      } else if (L.kind === 'repeat') repeated = true;
      else {
        const [t, B, inDim] = x.shape;
        x = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [t * B, inDim]), L.K), L.b), [t, B, -1]);
      }
    }
    return x; // [T, B, F]
  }

  /** Same contract as Scorer.scoreRaw: per-feature squared errors [count][features]. */
  scoreRaw(data, count) {
    return tf.tidy(() => {
      const x = tf.tensor3d(data.subarray(0, count * this.lookback * this.features), [count, this.lookback, this.features]);
      const xt = tf.transpose(x, [1, 0, 2]);
      return tf.mean(tf.squaredDifference(this.forward(xt), xt), 0).dataSync();
    });
  }
}

function randomWindows(n, size, seed) {
  const rng = mulberry32(seed);
  const a = new Float32Array(n * size);
  for (let i = 0; i < a.length; i++) a[i] = gaussian(rng);
  return a;
}

function timeCell(fn, budget, minIters = 5) {
  for (let i = 0; i < 3; i++) fn();
  const lat = [];
  const t0 = performance.now();
  while (lat.length < minIters || performance.now() - t0 < budget * 1000) {
    const s = performance.now();
    fn();
    lat.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  lat.sort((a, b) => a - b);
  return { iters: lat.length, meanMs: total / lat.length, p50Ms: lat[Math.floor(lat.length / 2)], p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] };
}

/** Native calls into libtensorflow (binding.executeOp = one TFE_Execute; createTensor = upload). */
function nativeCalls(fn) {
  const backend = tf.backend();
  const binding = backend.binding;
  if (!binding) return undefined;
  let execs = 0;
  let creates = 0;
  let execMs = 0;
  const names = {};
  // The addon object is frozen: shadow it with an object whose prototype is the addon.
  const wrapped = Object.create(binding, {
    executeOp: {
      value: (name, ...rest) => {
        execs++;
        names[name] = (names[name] ?? 0) + 1;
        const s = performance.now();
        try { return binding.executeOp(name, ...rest); } finally { execMs += performance.now() - s; }
      },
    },
    createTensor: { value: (...rest) => { creates++; return binding.createTensor(...rest); } },
  });
  backend.binding = wrapped;
  const s = performance.now();
  try { fn(); } finally { backend.binding = binding; }
  const totalMs = performance.now() - s;
  return { executeOps: execs, tensorUploads: creates, executeOpMs: execMs, totalMs, byOp: Object.fromEntries(Object.entries(names).sort((a, b) => b[1] - a[1])) };
}

async function profileKernels(fn) {
  const p = await tf.profile(fn);
  const byName = {};
  let ms = 0;
  for (const k of p.kernels) {
    byName[k.name] = (byName[k.name] ?? 0) + 1;
    ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  }
  return { kernels: p.kernels.length, newTensors: p.newTensors, kernelMsSum: ms, byName: Object.fromEntries(Object.entries(byName).sort((a, b) => b[1] - a[1])) };
}

const budget = Number(args.budget);
const batches = args.batches.split(',').map(Number);
const result = { backend: choice.active, budgetSeconds: budget, models: {} };

for (const name of args.models.split(',')) {
  const { lookback: T, features: F } = MODELS[name];
  const model = buildAutoencoder(ARCH, T, F);
  const maxB = Math.max(...batches, 256);
  // The tfjs-layers path: the Scorer would otherwise pick its own fused path (src/score/fused-lstm.ts) for this model.
  const scorer = new Scorer(model, T, F, maxB, { path: 'layers' });
  const fused = new FusedScorer(model, T, F);
  const data = randomWindows(maxB, T * F, 1234);
  const r = { cells: {} };
  result.models[name] = r;

  // Correctness: same per-feature errors as the layers model.
  const a = scorer.scoreRaw(data, 256);
  const b = fused.scoreRaw(data, 256);
  let maxDiff = 0;
  let maxRel = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.max(1e-6, Math.abs(a[i])));
  }
  r.maxAbsDiff = maxDiff;
  r.maxRelDiff = maxRel;
  log(`${name}: fused vs layers per-feature errors at B=256: max |diff| ${maxDiff.toExponential(2)}, max rel ${maxRel.toExponential(2)}`);

  // Profile at batch 256.
  r.profileLayers = await profileKernels(() => scorer.scoreRaw(data, 256));
  r.profileFused = await profileKernels(() => fused.scoreRaw(data, 256));
  log(`${name}: kernels per scoreRaw(256): layers ${r.profileLayers.kernels} (+${r.profileLayers.newTensors} new tensors), fused ${r.profileFused.kernels} (+${r.profileFused.newTensors})`);
  log(`${name}: layers kernels by name: ${JSON.stringify(r.profileLayers.byName)}`);
  log(`${name}: fused kernels by name: ${JSON.stringify(r.profileFused.byName)}`);
  for (const B of [1, 256]) {
    const nl = nativeCalls(() => scorer.scoreRaw(data, B));
    const nf = nativeCalls(() => fused.scoreRaw(data, B));
    if (nl) {
      r[`nativeCalls${B}`] = { layers: nl, fused: nf };
      log(`${name} B=${B}: native TFE_Execute calls: layers ${nl.executeOps} ops + ${nl.tensorUploads} uploads, ${nl.executeOpMs.toFixed(1)} of ${nl.totalMs.toFixed(1)} ms inside executeOp; fused ${nf.executeOps} ops + ${nf.tensorUploads} uploads, ${nf.executeOpMs.toFixed(1)} of ${nf.totalMs.toFixed(1)} ms`);
      log(`${name} B=${B}: layers native ops: ${JSON.stringify(nl.byOp)}`);
    }
  }

  for (const B of batches) {
    const L = timeCell(() => scorer.scoreRaw(data, B), budget);
    const Fz = timeCell(() => fused.scoreRaw(data, B), budget);
    // The machine's 1-minute load average beside the cell (a shared machine's noise).
    const cell = { layersWps: (B * 1000) / L.meanMs, fusedWps: (B * 1000) / Fz.meanMs, layersP50Ms: L.p50Ms, fusedP50Ms: Fz.p50Ms, fusedP99Ms: Fz.p99Ms, load: Number(loadavg()[0].toFixed(2)) };
    cell.speedup = cell.fusedWps / cell.layersWps;
    r.cells[B] = cell;
    log(`${name} B=${B}: layers ${cell.layersWps.toFixed(0)} w/s (p50 ${L.p50Ms.toFixed(2)} ms), fused ${cell.fusedWps.toFixed(0)} w/s (p50 ${Fz.p50Ms.toFixed(2)} ms) -> x${cell.speedup.toFixed(2)} (load ${cell.load})`);
  }

  if (name === 'skab') {
    // Where the time goes at B=256: one LSTM layer alone, the raw matMul work, per-op overhead.
    const x256 = tf.tensor3d(data.subarray(0, 256 * T * F), [256, T, F]);
    const one = tf.sequential({ layers: [tf.layers.lstm({ units: 128, returnSequences: true, inputShape: [T, F] })] });
    const oneLayer = timeCell(() => tf.tidy(() => tf.sum(one.predict(x256, { batchSize: 256 })).dataSync()), budget);
    const oneProf = await profileKernels(() => tf.tidy(() => tf.sum(one.predict(x256, { batchSize: 256 })).dataSync()));
    const hB = tf.randomNormal([256, 128]);
    const U = tf.randomNormal([128, 512]);
    const mm = timeCell(() => tf.tidy(() => tf.sum(tf.matMul(hB, U)).dataSync()), 1);
    const s = tf.randomNormal([1, 64]);
    const addCost = timeCell(() => { for (let i = 0; i < 100; i++) tf.add(s, s).dispose(); }, 1);
    const scal = timeCell(() => { for (let i = 0; i < 100; i++) tf.scalar(0.5).dispose(); }, 1);
    const wholeP50 = r.cells[256]?.layersP50Ms;
    r.breakdown256 = {
      wholeModelP50Ms: wholeP50,
      oneLstm128LayerP50Ms: oneLayer.p50Ms,
      oneLstm128LayerKernels: oneProf.kernels,
      matMul256x128x512Ms: mm.p50Ms,
      smallAddUs: addCost.p50Ms * 10,
      scalarUploadUs: scal.p50Ms * 10,
      modelGflopPerBatch: (256 * 2 * T * ((F + 128) * 512 + (128 + 64) * 256 + (64 + 64) * 256 + (64 + 128) * 512 + 128 * F)) / 1e9,
    };
    log(`skab B=256 breakdown: ${JSON.stringify(r.breakdown256)}`);
    tf.dispose([x256, hB, U, s]);
    one.dispose();
  }
  model.dispose();
}

const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });
const out = args.out ?? join(outDir, `fused-${args.backend}.json`);
writeFileSync(out, JSON.stringify(result, null, 1));
log(`wrote ${out}`);
