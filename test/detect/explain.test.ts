import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import { explainFlag } from '../../src/detect/explain.js';
import type { Flag, Reading, Window } from '../../src/domain/types.js';
import { trainFromData, type TrainResult } from '../../src/jobs/train-job.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { MicroBatcher } from '../../src/score/batcher.js';
import { Scorer } from '../../src/score/scorer.js';
import type { SourceRecord } from '../../src/source/source.js';
import { Scaler } from '../../src/window/scaler.js';
import { Windower } from '../../src/window/windower.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

// Flags say what was observed and what the model expected, in the sensor's units (issue 14):
// a real model trained on simulated pumps, a spike injected into one pump's flow.

const cfg = smallConfig();
cfg.model.epochs = 5;
cfg.training.relativeFeatures = ['motor_temp'];
cfg.alerts = { ...cfg.alerts, openK: 1, openN: 1, topFeatures: 8 };
const SPIKE_FROM = 150;
const SPIKE_TO = 156;
let trained: TrainResult;

beforeAll(async () => {
  trained = await trainFromData(cfg, simulatedReadings(300, 2, 1));
});

function runPipeline(readings: Reading[], alerts = cfg.alerts): Promise<Flag[]> {
  const { artifact } = trained;
  const F = artifact.scaler.features.length;
  const scorer = new Scorer(artifact.model, cfg.window.lookback, F, 64);
  const flags: Flag[] = [];
  const pipeline = new Pipeline({
    newWindower: (scaler) => new Windower(cfg.window, scaler),
    batcher: new MicroBatcher(scorer, { maxBatch: 64, maxDelayMs: 0 }),
    newAlerts: (threshold, version) => new AlertTracker(alerts, threshold, artifact.scaler.features, version),
    model: { scorer, scaler: new Scaler(artifact.scaler), threshold: artifact.threshold?.value ?? NaN, version: 'v' },
    sink: { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
    deadLetter: { send: async () => {}, close: async () => {} },
    metrics: new Metrics(),
    maxMessageBytes: 100_000,
    maxGapMs: 3_600_000,
  });
  const records: SourceRecord[] = readings.map((r, i) => ({ kind: 'reading', reading: r, position: { source: 't', line: i + 1 } }));
  return pipeline.process(records).then(() => flags);
}

describe('flags carry observed and expected values', () => {
  it('open and update flags: each top feature at its worst reading of the window, and the reconstruction, in sensor units; a relative feature as its difference from the window mean', async () => {
    const { scaler } = trained.artifact;
    const flow = scaler.features.indexOf('flow_rate');
    const sensorSpike = (scaler.offset[flow] as number) + 30 * (scaler.scale[flow] as number);
    const replay = simulatedReadings(220, 1, 7).all;
    replay.forEach((r, i) => {
      if (i >= SPIKE_FROM && i < SPIKE_TO) r.values.flow_rate = sensorSpike;
    });
    const flags = await runPipeline(replay.map((r) => ({ ...r, values: { ...r.values } })));

    const open = flags.find((f) => f.state === 'open' && f.windowEnd === new Date((replay[SPIKE_FROM] as Reading).ts).toISOString());
    expect(open, JSON.stringify(flags.map((f) => [f.state, f.windowEnd]))).toBeDefined();
    const last = replay[SPIKE_FROM] as Reading;
    const window = replay.slice(SPIKE_FROM - cfg.window.lookback + 1, SPIKE_FROM + 1);
    const topFlow = open?.topFeatures.find((c) => c.name === 'flow_rate');
    // The spiked flow carries the error; on-call reads the value that was sent, and a normal one expected.
    expect(open?.topFeatures[0]?.name).toBe('flow_rate');
    expect(topFlow?.observed).toBeCloseTo(sensorSpike, 3);
    expect(topFlow?.readingsBeforeEnd).toBe(0);
    expect(topFlow?.relative).toBeUndefined();
    const normal = scaler.offset[flow] as number;
    expect(Math.abs((topFlow?.expected as number) - normal)).toBeLessThan(Math.abs(sensorSpike - normal) / 3);
    // Every other absolute feature: observed is exactly the reading it names.
    expect(last).toBe(window[window.length - 1]);
    for (const c of open?.topFeatures ?? []) {
      expect(c.observed, c.name).toBeTypeOf('number');
      expect(c.expected, c.name).toBeTypeOf('number');
      const at = window[window.length - 1 - (c.readingsBeforeEnd as number)] as Reading;
      expect(at, c.name).toBeDefined();
      if (c.name === 'motor_temp') {
        const mean = window.reduce((s, r) => s + (r.values.motor_temp as number), 0) / window.length;
        expect(c.relative).toBe(true);
        expect(c.observed).toBeCloseTo((at.values.motor_temp as number) - mean, 3);
      } else if (c.name !== 'flow_rate') {
        expect(c.observed).toBeCloseTo(at.values[c.name] as number, 3);
      }
    }
    // The resolving flag describes calm data: it carries error shares only, as before.
    const resolved = flags.filter((f) => f.state === 'resolved');
    expect(resolved.length).toBeGreaterThan(0);
    for (const f of resolved) for (const c of f.topFeatures) expect(c.observed).toBeUndefined();
    // Kept: the old fields, unchanged in meaning.
    expect(topFlow).toMatchObject({ name: 'flow_rate', error: expect.any(Number), share: expect.any(Number) });
  });

  it('a one-reading spike: the flag, opened readings later (3 of 5 windows), shows the spike where it was, not the normal last reading', async () => {
    const { scaler } = trained.artifact;
    const flow = scaler.features.indexOf('flow_rate');
    const spike = 1e30;
    const replay = simulatedReadings(220, 1, 7).all.map((r) => ({ ...r, values: { ...r.values } }));
    (replay[SPIKE_FROM] as Reading).values.flow_rate = spike;
    const flags = await runPipeline(replay, { ...cfg.alerts, openK: 3, openN: 5 });
    const open = flags.find((f) => f.state === 'open' && Date.parse(f.windowEnd) >= (replay[SPIKE_FROM] as Reading).ts);
    expect(open, JSON.stringify(flags.map((f) => [f.state, f.windowEnd]))).toBeDefined();
    const end = replay.findIndex((r) => new Date(r.ts).toISOString() === open?.windowEnd);
    // The alert opened on the third window holding the spike: the last reading is a normal one.
    expect(end).toBe(SPIKE_FROM + 2);
    const c = open?.topFeatures.find((x) => x.name === 'flow_rate');
    expect(c?.readingsBeforeEnd).toBe(2);
    expect(c?.observed).toBeGreaterThan(1e29);
    expect(Math.abs((c?.expected as number) - (scaler.offset[flow] as number))).toBeLessThan(10 * (scaler.scale[flow] as number));
    expect(JSON.parse(JSON.stringify(open))).toEqual(open);
  });

  it('Scorer.reconstruct is the model output for the whole window, on every scoring path, and leaks no tensors', () => {
    const { model, scaler } = trained.artifact;
    const F = scaler.features.length;
    const T = cfg.window.lookback;
    const windows: Window[] = Array.from({ length: 5 }, (_, i) => ({ entity: 'e', startTs: i, endTs: i + T, data: Float32Array.from({ length: T * F }, (_, k) => Math.sin(i * 7 + k)) }));
    const direct = tf.tidy(() => {
      const x = tf.tensor3d(Float32Array.from(windows.flatMap((w) => Array.from(w.data))), [windows.length, T, F]);
      return Array.from((model.predict(x) as tf.Tensor3D).dataSync());
    });
    for (const path of ['auto', 'layers'] as const) {
      const scorer = new Scorer(model, T, F, 2, { path });
      if (path === 'auto') expect(scorer.path).not.toBe('layers');
      scorer.reconstruct(windows.slice(0, 1));
      const before = tf.memory().numTensors;
      const got = Array.from(scorer.reconstruct(windows));
      expect(tf.memory().numTensors).toBe(before);
      expect(got.map((v) => v.toFixed(5))).toEqual(direct.map((v) => v.toFixed(5)));
      scorer.dispose();
    }
  });

  it('explainFlag unscales with the scaler, leaves unknown names and non-finite values alone', () => {
    const scaler = new Scaler({ kind: 'standard', features: ['flow', 'temp'], offset: [10, 60], scale: [2, 5], relative: ['temp'] });
    const data = Float32Array.from([0, 0, 1.05, -0.2]); // lookback 2: last row flow 1.05, temp -0.2 (centred)
    const flag = { topFeatures: [{ name: 'flow', error: 1, share: 0.6 }, { name: 'temp', error: 0.5, share: 0.3 }, { name: 'gone', error: 0.1, share: 0.1 }] } as Flag;
    const out = explainFlag(flag, { entity: 'e', startTs: 0, endTs: 1, data }, [0, 0, -0.1, 0.1], scaler);
    expect(out.topFeatures).toEqual([
      { name: 'flow', error: 1, share: 0.6, observed: 12.1, expected: 9.8, readingsBeforeEnd: 0 },
      { name: 'temp', error: 0.5, share: 0.3, observed: -1, expected: 0.5, readingsBeforeEnd: 0, relative: true },
      { name: 'gone', error: 0.1, share: 0.1 },
    ]);
    expect(explainFlag(flag, { entity: 'e', startTs: 0, endTs: 1, data }, [NaN, 0, NaN, 0], scaler).topFeatures[0]).toEqual({ name: 'flow', error: 1, share: 0.6 });
    // The worst reading of a feature, not the last: flow's error lies in the first row here.
    const early = explainFlag(flag, { entity: 'e', startTs: 0, endTs: 1, data: Float32Array.from([3, 0, 0, 0]) }, [0, 0, 0, 0], scaler);
    expect(early.topFeatures[0]).toEqual({ name: 'flow', error: 1, share: 0.6, observed: 16, expected: 10, readingsBeforeEnd: 1 });
  });
});
