#!/usr/bin/env node
// Reads bench/out/*.json (written by scorer-bench.mjs, keras_bench.py, fused-lstm-proto.mjs) and
// prints the side-by-side markdown tables; also writes them to bench/out/report.md. Every
// measured figure carries the machine's 1-minute load average at the end of its cell, in
// parentheses or in a load column (the benches record it; older JSON without it shows "–").
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), 'out');
const load = (f) => (existsSync(join(out, f)) ? JSON.parse(readFileSync(join(out, f), 'utf8')) : undefined);
const native = load('seismo-native.json');
const wasm = load('seismo-wasm.json');
const cpu = load('seismo-cpu.json');
const keras = load('keras.json');
const fused = load('fused-native.json');
const old = load('seismo-native-hardsigmoid.json');

const n0 = (v) => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const x2 = (a, b) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}x`);
const ms = (v) => (v === undefined ? '–' : v.toFixed(v < 10 ? 2 : 1));
/** A cell's figure with its load beside it: "4,322 (2.1)". */
const ld = (l) => (typeof l === 'number' ? l.toFixed(1) : '–');
const wl = (cell, key = 'windowsPerSec') => (cell?.[key] === undefined ? '–' : `${n0(cell[key])} (${ld(cell.load)})`);
const lines = [];
const p = (s = '') => lines.push(s);

const nativePath = Object.values(native?.models ?? {})[0]?.path ?? 'native';
p(`### Scoring throughput (windows/s; Seismo = Scorer.scoreRaw incl. upload, per-feature MSE, download; native path = ${nativePath}, native layers = the same model on model.predict; in parentheses the machine's 1-minute load average at the end of each cell)`);
p();
p('| model | batch | Seismo native | Seismo native layers | Seismo wasm | Seismo cpu | Keras predict | Keras tf.function | native / native layers | native / Keras predict | native / Keras tf.function | native / wasm | native p50 / p99 ms |');
p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const model of ['skab', 'rare-event']) {
  const batches = Object.keys(native?.models?.[model]?.cells ?? keras?.models?.[model]?.predict ?? {});
  for (const B of batches) {
    const nc = native?.models?.[model]?.cells?.[B];
    const nlc = native?.models?.[model]?.layersCells?.[B];
    const wc = wasm?.models?.[model]?.cells?.[B];
    const cc = cpu?.models?.[model]?.cells?.[B];
    const kpc = keras?.models?.[model]?.predict?.[B];
    const kcc = keras?.models?.[model]?.compiled?.[B];
    const nw = nc?.windowsPerSec;
    p(`| ${model} | ${B} | ${wl(nc)} | ${wl(nlc)} | ${wl(wc)} | ${wl(cc)} | ${wl(kpc)} | ${wl(kcc)} | ${x2(nw, nlc?.windowsPerSec)} | ${x2(nw, kpc?.windowsPerSec)} | ${x2(nw, kcc?.windowsPerSec)} | ${x2(nw, wc?.windowsPerSec)} | ${ms(nc?.p50Ms)} / ${ms(nc?.p99Ms)} |`);
  }
}
p();
if (native) {
  p('Native ops per scoreRaw at B=256 (TFE_Execute calls + tensor uploads): ' +
    Object.entries(native.models).map(([m, r]) => `${m} ${r.path} ${r.nativeCalls256?.path?.executeOps}+${r.nativeCalls256?.path?.uploads}` + (r.nativeCalls256?.layers ? `, layers ${r.nativeCalls256.layers.executeOps}+${r.nativeCalls256.layers.uploads}` : '')).join('; ') +
    '. Max |block-lstm − layers| of the per-feature errors: ' + Object.entries(native.models).map(([m, r]) => `${m} ${r.maxAbsDiffPaths?.toExponential(1) ?? '–'}`).join(', ') + '.');
  p();
}
if (keras) {
  p(`Keras ${keras.tensorflow} (Python ${keras.python}). Output check, same weights, 64 random windows: ` +
    Object.entries(keras.models).map(([m, r]) => `${m} max |Keras - Seismo| = ${r.maxAbsDiffVsSeismo.toExponential(1)} (${r.recurrentActivation ?? 'hard_sigmoid'} gates, ${r.match ? 'match' : 'MISMATCH'})`).join(', ') + '.');
  p();
}

if (old) {
  p(`### Old artifacts (hardSigmoid gates), native: the Scorer's ${Object.values(old.models)[0]?.path} path vs model.predict on the same model`);
  p();
  p('| model | batch | path w/s (load) | layers w/s (load) | path / layers | path p50 ms | layers p50 ms |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [model, r] of Object.entries(old.models)) {
    for (const [B, c] of Object.entries(r.cells)) {
      const l = r.layersCells?.[B];
      p(`| ${model} | ${B} | ${wl(c)} | ${wl(l)} | ${x2(c.windowsPerSec, l?.windowsPerSec)} | ${ms(c.p50Ms)} | ${ms(l?.p50Ms)} |`);
    }
  }
  p();
  p('Native ops per scoreRaw at B=256: ' + Object.entries(old.models).map(([m, r]) => `${m} ${r.path} ${r.nativeCalls256?.path?.executeOps}+${r.nativeCalls256?.path?.uploads}, layers ${r.nativeCalls256?.layers?.executeOps}+${r.nativeCalls256?.layers?.uploads}`).join('; ') +
    '. Max |fused − layers|: ' + Object.entries(old.models).map(([m, r]) => `${m} ${r.maxAbsDiffPaths?.toExponential(1)}`).join(', ') + '.');
  p();
}

const rss = [native, wasm, cpu].filter(Boolean).map((r) => `${r.backend} ${r.rssMb} MB (load ${ld(r.load)})`);
if (rss.length) p(`Peak-ish RSS at the end of each Seismo run: ${rss.join(', ')}.`), p();

if (native?.leak || wasm?.leak) {
  p('### Tensor leak check (Seismo Scorer, SKAB model)');
  p();
  p('| backend | path | batches | batch size | numTensors before | after | growth | native handles before → after | RSS MB before → after | seconds | load |');
  p('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |');
  const extra = load('leak-native-10000.json');
  for (const r of [native, wasm, cpu, extra].filter((r) => r?.leak)) {
    const l = r.leak;
    p(`| ${r.backend} | ${l.path ?? 'layers'} | ${n0(l.batches)} | ${l.batchSize} | ${l.tensorsBefore} | ${l.tensorsAfter} | ${l.growth} | ${l.nativeHandlesBefore ?? '–'} → ${l.nativeHandlesAfter ?? '–'} | ${l.rssBeforeMb} → ${l.rssAfterMb} | ${l.seconds.toFixed(1)} | ${ld(l.load)} |`);
  }
  p();
}

if (native?.training || keras?.training) {
  p(`### Training (${native?.training?.source ?? ''}: 400 rows x 8 features, T=10 windows, 80/20 chronological split, early stop patience 5, same initial weights)`);
  p();
  p('| framework | path | batch | learning rate | max epochs | epochs run (best) | early-stopped | total s | s / epoch (median) | first epoch s | best val loss | load |');
  p('| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, r] of [[`Seismo ${native?.backend}`, native], ['Keras', keras], [`Seismo ${wasm?.backend}`, wasm]]) {
    for (const run of r?.training?.runs ?? []) {
      p(`| ${label} | ${run.path ?? 'model.fit'} | ${run.batchSize} | ${run.learningRate ?? 0.001} | ${run.maxEpochs ?? 50} | ${run.epochsRun} (${run.bestEpoch}) | ${run.converged ? 'yes' : 'no'} | ${run.seconds.toFixed(1)} | ${run.medianEpochSeconds.toFixed(3)} | ${run.firstEpochSeconds.toFixed(2)} | ${run.valLoss.toFixed(4)} | ${ld(run.load)} |`);
    }
  }
  p();
}

if (fused) {
  p('### Old hardSigmoid artifacts: fused-LSTM prototype (bench/fused-lstm-proto.mjs) vs the Scorer\'s layers path, native backend');
  p();
  p('| model | batch | layers model w/s | fused w/s | speed-up | fused p50 ms | fused / Keras tf.function | load |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [model, r] of Object.entries(fused.models)) {
    for (const [B, c] of Object.entries(r.cells)) {
      p(`| ${model} | ${B} | ${n0(c.layersWps)} | ${n0(c.fusedWps)} | ${c.speedup.toFixed(2)}x | ${ms(c.fusedP50Ms)} | ${x2(c.fusedWps, keras?.models?.[model]?.compiled?.[B]?.windowsPerSec)} | ${ld(c.load)} |`);
    }
  }
  p();
  p('Native calls per scoreRaw (TFE_Execute ops + tensor uploads): ' +
    Object.entries(fused.models).map(([m, r]) => (r.nativeCalls256 ? `${m} B=256 layers ${r.nativeCalls256.layers.executeOps}+${r.nativeCalls256.layers.tensorUploads}, fused ${r.nativeCalls256.fused.executeOps}+${r.nativeCalls256.fused.tensorUploads}` : '')).join('; ') +
    '. Max |fused − layers| of the per-feature errors: ' + Object.entries(fused.models).map(([m, r]) => `${m} ${r.maxAbsDiff.toExponential(1)}`).join(', ') + '.');
  p();
  const bd = fused.models.skab?.breakdown256;
  if (bd) {
    p(`SKAB B=256 breakdown (native): whole scoreRaw p50 ${ms(bd.wholeModelP50Ms)} ms; one LSTM(128) layer alone ${ms(bd.oneLstm128LayerP50Ms)} ms (${bd.oneLstm128LayerKernels} kernels); ` +
      `one 256x128 · 128x512 matMul ${ms(bd.matMul256x128x512Ms)} ms; a small add ${bd.smallAddUs.toFixed(0)} µs; model work ${bd.modelGflopPerBatch.toFixed(2)} GFLOP per batch.`);
    p();
  }
}

const text = lines.join('\n');
writeFileSync(join(out, 'report.md'), text + '\n');
console.log(text);
