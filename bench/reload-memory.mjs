#!/usr/bin/env node
// Memory across model hot swaps (issue 12): a daemon on a ~16 MB model ([512, 256] LSTM),
// then N reloads that fail after the network is built (no threshold.json) or N good ones.
// Live tensors must end where they started; RSS should stay near its start.
//   npm run build && node bench/reload-memory.mjs failing 40 && node bench/reload-memory.mjs good 40
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const [mode = 'failing', nText = '40'] = process.argv.slice(2);
const d = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const { parseConfig } = await d('config/load.js');
const { buildModel } = await d('model/variants.js');
const { saveArtifact } = await d('model/artifact.js');
const { Daemon } = await d('daemon.js');
const { createLogger } = await d('observability/logger.js');
const { chooseBackend } = await d('model/backend.js');
const tf = await import('@tensorflow/tfjs');
const cfg = parseConfig('window:\n  lookback: 10\nmodel:\n  encoderUnits: [512, 256]\nhttp:\n  enabled: false\nlog:\n  level: silent\n', 'x.yaml');
await chooseBackend('auto', 0);
const F = 8, T = 10;
const features = Array.from({ length: F }, (_, i) => `f${i}`);
const root = mkdtempSync(join(tmpdir(), 'rss-'));
const model = buildModel(cfg.model, T, F);
const art = { model, scaler: { kind: 'standard', features, offset: Array(F).fill(0), scale: Array(F).fill(1) }, threshold: { value: 1, method: 'quantile', quantile: 0.99, multiplier: 1.5, base: 0.6, calibrationWindows: 10 }, manifest: { formatVersion: 1, version: 'v1', created: new Date().toISOString(), features, lookback: T, configHash: '', dataHash: '', backend: '', training: {}, architecture: {} } };
await saveArtifact(join(root, 'v1'), art);
model.dispose();
cpSync(join(root, 'v1'), join(root, 'bad'), { recursive: true });
rmSync(join(root, 'bad', 'threshold.json'));
let release;
const source = { start: () => new Promise((r) => (release = r)), pause() {}, resume() {}, stop: async () => release?.() };
const sink = { send: async () => {}, flush: async () => {}, close: async () => {} };
const daemon = new Daemon({ config: { ...cfg, artifactDir: join(root, 'v1') }, log: createLogger('silent'), source, sink, deadLetter: { send: async () => {}, close: async () => {} } });
await daemon.start();
const mb = () => Math.round(process.memoryUsage().rss / 1e6);
const t0 = tf.memory().numTensors, r0 = mb();
const n = Number(nText);
for (let i = 0; i < n; i++) {
  await daemon.reloadModel(join(root, mode === 'good' ? 'v1' : 'bad')).catch(() => {});
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ mode, n, rssBeforeMB: r0, rssAfterMB: mb(), tensorsBefore: t0, tensorsAfter: tf.memory().numTensors, weightsMB: Math.round(tf.memory().numBytes / 1e6) }));
await daemon.stop();
process.exit(0);
