import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import type { Flag, Reading, Window } from '../../src/domain/types.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline, type ModelRuntime } from '../../src/pipeline/pipeline.js';
import type { BufferExport } from '../../src/refit/buffer.js';
import { RefitController } from '../../src/refit/controller.js';
import { MicroBatcher } from '../../src/score/batcher.js';
import { ShadowSink } from '../../src/sink/shadow-sink.js';
import type { Sink } from '../../src/sink/sink.js';
import type { SourceRecord } from '../../src/source/source.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower } from '../../src/window/windower.js';
import { smallConfig } from '../helpers.js';

// The refit controller's wiring with stand-in scorers whose score is the window's last value
// times a gain (this tests the policy's steps and routing, not TensorFlow; the process test in
// refit-process.test.ts runs real models): which readings reach training, when it triggers,
// where shadow flags go, and what the promotion rule does with the result.
const features = ['a'];
const MIN = 60_000;

function scorerWithGain(gain: number) {
  return {
    score: (ws: Window[]) =>
      ws.map((w) => {
        const score = (w.data[w.data.length - 1] as number) * gain;
        return { entity: w.entity, startTs: w.startTs, endTs: w.endTs, score, featureErrors: Float32Array.of(score) };
      }),
  };
}

function collecting(): Sink & { flags: Flag[] } {
  const flags: Flag[] = [];
  return { flags, send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} };
}

function setup(candidateGain: number) {
  const base = smallConfig();
  const cfg = { ...base, refit: { ...base.refit, enabled: true, driftWarmupWindows: 10, driftSlack: 0.1, driftLimit: 2, minReadings: 10, shadowWindows: 20, bufferReadings: 100, keepSeverity: 3 } };
  const alerts = { ...cfg.alerts, openK: 1, openN: 1, resolveAfter: 2, cooldownWindows: 0 };
  const metrics = new Metrics();
  const pipelineOf = (model: ModelRuntime, sink: Sink, hooks: Partial<ConstructorParameters<typeof Pipeline>[0]>) =>
    new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback: 3 }, scaler),
      newAlerts: (threshold, version) => new AlertTracker(alerts, threshold, features, version),
      batcher: new MicroBatcher(model.scorer, { maxBatch: 8, maxDelayMs: 0 }),
      model,
      sink,
      deadLetter: { send: async () => {}, close: async () => {} },
      metrics: hooks.metrics ?? new Metrics(),
      maxMessageBytes: 10_000,
      maxGapMs: 10 * MIN,
      ...hooks,
    });
  const liveSink = collecting();
  const shadowInner = collecting();
  const exports: BufferExport[] = [];
  const promoted: string[] = [];
  const refit = new RefitController({
    config: cfg,
    log: { info: () => {}, warn: () => {}, error: () => {} } as never,
    metrics,
    features,
    lookback: 3,
    train: async (data) => {
      exports.push(data);
      return { ok: true, dir: 'candidate-dir', seconds: 0.1, maxEventLoopDelayMs: 1 };
    },
    loadShadow: async (_dir, hooks) => ({
      version: 'candidate',
      pipeline: pipelineOf({ scorer: scorerWithGain(candidateGain), scaler: new Scaler(identityScalerState(features)), threshold: 1, version: 'candidate' }, new ShadowSink(shadowInner), hooks),
      dispose: () => {},
    }),
    promote: async (dir) => {
      promoted.push(dir);
      return { model: 'candidate', previous: 'live' };
    },
  });
  const live = pipelineOf({ scorer: scorerWithGain(1), scaler: new Scaler(identityScalerState(features)), threshold: 1, version: 'live' }, liveSink, { metrics, onReading: refit.onReading, onJudged: refit.onJudged, onFlag: refit.onLiveFlag });
  refit.attach(live);
  let t = 0;
  const feed = async (values: number[]) => {
    for (const a of values) {
      const reading: Reading = { entity: 'e', ts: t++ * MIN, values: { a } };
      const record: SourceRecord = { kind: 'reading', reading, position: { source: 't', line: t } };
      await refit.process([record]);
      // Let a finished (stand-in) training hand its candidate over, as the event loop would.
      await new Promise((r) => setImmediate(r));
    }
  };
  return { refit, metrics, liveSink, shadowInner, exports, promoted, feed };
}

const calm = (n: number, level: number) => Array.from({ length: n }, () => level);

describe('refit controller', () => {
  it('drift on calm scores triggers a refit whose buffer leaves the alert out; the candidate scores in shadow (flags marked, to the shadow sink only) and is promoted', async () => {
    const s = setup(0.3);
    // Calm at 0.2, a fault at 5 (an alert opens and resolves), calm again, then the calm level
    // shifts to 0.6: +0.3 per window over reference + slack, so the test fires after ~7 windows.
    await s.feed([...calm(30, 0.2), 5, 5, 5, ...calm(12, 0.2)]);
    expect(s.liveSink.flags.map((f) => f.state)).toEqual(['open', 'resolved']);
    expect(s.exports).toHaveLength(0);
    await s.feed(calm(10, 0.6));
    expect(s.exports).toHaveLength(1);
    const exported = s.exports[0] as BufferExport;
    // Nothing of the fault, nor of the windows judged while its alert was open, reaches training.
    expect(exported.readings.some((r) => (r.values.a as number) > 1)).toBe(false);
    expect(exported.left).toBeGreaterThanOrEqual(3);
    const [[from, to]] = exported.excluded.get('e') as [number, number][];
    expect(from).toBeLessThanOrEqual(30 * MIN);
    expect(to).toBeGreaterThanOrEqual(32 * MIN);
    expect(s.refit.status).toBe('shadow');
    // In shadow: a second fault both models open on (live severity 5 >= keepSeverity 3).
    await s.feed([...calm(5, 0.6), 5, 5, 5, ...calm(15, 0.6)]);
    expect(s.promoted).toEqual(['candidate-dir']);
    expect(s.shadowInner.flags.length).toBeGreaterThan(0);
    expect(s.shadowInner.flags.every((f) => f.shadow === true && f.model === 'candidate')).toBe(true);
    expect(s.liveSink.flags.every((f) => f.shadow === undefined && f.model === 'live')).toBe(true);
    const text = await s.metrics.registry.metrics();
    expect(text).toContain('seismo_refits_total{stage="started"} 1');
    expect(text).toContain('seismo_refits_total{stage="promoted"} 1');
    expect(text).toContain('seismo_refit_triggers_total{trigger="drift"} 1');
    expect(text).toMatch(/seismo_refit_shadow_alert_openings\{model="candidate"\} 1/);
  });

  it('rejects a candidate that opens more alerts than the live model, with the reason, and keeps the live model', async () => {
    // Gain 2: the candidate's calm 0.6 windows score 1.2, over its threshold.
    const s = setup(2);
    await s.feed([...calm(20, 0.2), ...calm(10, 0.6)]);
    expect(s.refit.status).toBe('shadow');
    await s.feed(calm(25, 0.6));
    expect(s.promoted).toEqual([]);
    expect(s.refit.status).toBe('idle');
    const text = await s.metrics.registry.metrics();
    expect(text).toContain('seismo_refits_total{stage="rejected"} 1');
    expect(text).toContain('seismo_refit_rejections_total{reason="more_alerts"} 1');
    expect(s.liveSink.flags).toEqual([]);
    // The drift test took 0.6 as its new reference: the same level does not trigger again.
    expect(s.exports).toHaveLength(1);
    await s.feed(calm(40, 0.6));
    expect(s.exports).toHaveLength(1);
    expect(s.shadowInner.flags.every((f) => f.shadow === true)).toBe(true);
  });
});
