#!/usr/bin/env node
// RSS and throughput of the native scorer as the batch size grows (glibc keeps freed TensorFlow
// buffers): B=256 node bench/memory.mjs; try MALLOC_MMAP_THRESHOLD_=262144 MALLOC_ARENA_MAX=2.
const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const steps = [['start', mb()]];
const tf = await import('@tensorflow/tfjs');
steps.push(['tfjs', mb()]);
const { chooseBackend } = await import('../dist/model/backend.js');
await chooseBackend('native');
steps.push(['native backend', mb()]);
const { buildAutoencoder } = await import('../dist/model/build.js');
const { Scorer } = await import('../dist/score/scorer.js');
const m = buildAutoencoder({ encoderUnits: [64, 32], bottleneck: 'repeat-vector', activation: 'tanh', learningRate: 0.003, seed: 1, recurrentActivation: 'sigmoid' }, 10, 8);
const B = Number(process.env.B ?? 1024);
const s = new Scorer(m, 10, 8, B);
s.warmUp();
steps.push(['model+warmup', mb()]);
const data = new Float32Array(1024 * 80).map(() => Math.random());
const t0 = performance.now();
for (let i = 0; i < 50; i++) s.scoreRaw(data, B);
console.log(`windows/s ${Math.round(50 * B / ((performance.now() - t0) / 1000))}`);
steps.push(['50 batches', mb()]);
const kafkajs = await import('kafkajs');
steps.push(['kafkajs', mb()]);
console.log(steps.map(([k, v]) => `${k}: ${v} MB`).join('\n'));
