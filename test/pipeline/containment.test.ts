import { describe, expect, it } from 'vitest';
import { AlertTracker, MAX_SCORE } from '../../src/detect/alerts.js';
import { buildAutoencoder } from '../../src/model/build.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline, type ModelRuntime } from '../../src/pipeline/pipeline.js';
import type { Flag, PoisonRecord, Window, WindowScore } from '../../src/pipeline/types.js';
import { MicroBatcher, type BatchScorer } from '../../src/score/batcher.js';
import { Scorer } from '../../src/score/scorer.js';
import { ScoringWorkerLost } from '../../src/score/worker-scorer.js';
import type { DeadLetterSink, Sink } from '../../src/sink/sink.js';
import type { SourceRecord } from '../../src/source/source.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower } from '../../src/window/windower.js';
import { smallConfig } from '../helpers.js';

// Regression tests for issue 12: one record must never halt Seismo. Each case below made
// Pipeline.process throw (a TypeError or RangeError that stopped the Kafka consumer for good).

const features = ['a', 'b'];
const raw = (text: string, line: number): SourceRecord => ({ kind: 'raw', text, position: { source: 't', line, offset: String(line) } });
const reading = (entity: string, i: number, values: Record<string, number> = { a: Math.sin(i / 3), b: Math.cos(i / 5) }, ts = 1_700_000_000_000 + i * 1000) =>
  JSON.stringify({ entity, ts, values });

interface Rig {
  pipeline: Pipeline;
  flags: Flag[];
  dead: PoisonRecord[];
  metrics: Metrics;
}

function rig(opts: { scorer?: BatchScorer; windower?: (w: Windower) => Windower; sink?: Sink; deadLetter?: DeadLetterSink; threshold?: number; missing?: 'reject' | 'forward-fill' } = {}): Rig {
  const cfg = smallConfig();
  const model = buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, 3, 2);
  const scorer = opts.scorer ?? new Scorer(model, 3, 2, 8);
  const runtime: ModelRuntime = { scorer, scaler: new Scaler(identityScalerState(features)), threshold: opts.threshold ?? 1, version: 'm' };
  const flags: Flag[] = [];
  const dead: PoisonRecord[] = [];
  const metrics = new Metrics();
  const pipeline = new Pipeline({
    newWindower: (scaler) => {
      const w = new Windower({ ...cfg.window, lookback: 3, ...(opts.missing ? { missing: opts.missing } : {}) }, scaler);
      return opts.windower ? opts.windower(w) : w;
    },
    batcher: new MicroBatcher(scorer, { maxBatch: 8, maxDelayMs: 1 }),
    newAlerts: (threshold, version) => new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1, resolveAfter: 2, cooldownWindows: 0, minOpenSeconds: 0 }, threshold, features, version),
    model: runtime,
    maxGapMs: 300_000,
    sink: opts.sink ?? { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
    deadLetter: opts.deadLetter ?? { send: async (p) => void dead.push(...p), close: async () => {} },
    metrics,
    maxMessageBytes: 10_000,
  });
  return { pipeline, flags, dead, metrics };
}

async function metric(metrics: Metrics, line: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? NaN : Number(found.slice(line.length + 1));
}

describe('Pipeline containment', () => {
  it('an extreme value (1e30, a PLC sentinel) makes a non-finite score: flagged at the maximum score, counted, and the stream goes on', async () => {
    const { pipeline, flags, dead, metrics } = rig({ threshold: 1e6 });
    const records = [1, 2, 3, 4].map((i) => raw(reading('p', i), i));
    records.push(raw(reading('p', 5, { a: 1e30, b: 0 }), 5));
    records.push(...[6, 7, 8, 9].map((i) => raw(reading('p', i), i)));
    await pipeline.process(records);
    expect(dead).toEqual([]);
    const open = flags.find((f) => f.state === 'open');
    expect(open, 'the window with 1e30 opens an alert').toBeDefined();
    expect(open?.score).toBe(MAX_SCORE);
    expect(Number.isFinite(open?.severity)).toBe(true);
    // Flags must stay valid JSON with numbers, never null from NaN/Infinity.
    expect(JSON.parse(JSON.stringify(open)).score).toBe(MAX_SCORE);
    expect(await metric(metrics, 'seismo_nonfinite_scores_total')).toBeGreaterThan(0);
    expect(await metric(metrics, 'seismo_windows_scored_total')).toBe(7);
    // Once the extreme reading leaves the window, the alert resolves again.
    expect(flags.at(-1)?.state).toBe('resolved');
  });

  it('a timestamp beyond the Date range never throws: the record is dead-lettered and later records are processed', async () => {
    const { pipeline, dead, metrics } = rig({ missing: 'reject' });
    await pipeline.process([
      raw(reading('p', 1), 1),
      raw(reading('p', 2), 2),
      // A missing feature on a reading dated 1e17 ms: the rejection message used to print it with toISOString (RangeError).
      raw(JSON.stringify({ entity: 'p', ts: '10000000000000000', values: { a: 1 } }), 3),
      raw(reading('p', 3), 4),
      raw(reading('p', 4), 5),
    ]);
    expect(dead.map((d) => d.position.line)).toEqual([3]);
    expect(await metric(metrics, 'seismo_readings_total')).toBe(4);
    expect(await metric(metrics, 'seismo_windows_scored_total')).toBe(2);
  });

  it('an exception inside the windower dead-letters that record as processing_error, with the error, and the chunk goes on', async () => {
    // A windower that breaks on one entity stands in for any bug in a stage (declared fake; the rest is real).
    const { pipeline, dead, metrics } = rig({
      windower: (w) => {
        const push = w.push.bind(w);
        w.push = (r, pos) => {
          if (r.entity === 'boom') throw new TypeError('Cannot read properties of undefined');
          return push(r, pos);
        };
        return w;
      },
    });
    await pipeline.process([raw(reading('p', 1), 1), raw(reading('boom', 1), 2), raw(reading('p', 2), 3), raw(reading('p', 3), 4)]);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'processing_error', position: { line: 2 } });
    expect(dead[0]?.detail).toContain('TypeError: Cannot read properties of undefined');
    expect(dead[0]?.raw).toBe(reading('boom', 1));
    expect(await metric(metrics, 'seismo_processing_errors_total{stage="reading"}')).toBe(1);
    expect(await metric(metrics, 'seismo_poison_total{reason="processing_error"}')).toBe(1);
    expect(await metric(metrics, 'seismo_windows_scored_total')).toBe(1);
  });

  it('a model call that throws on one window loses only that window: the others are scored one by one', async () => {
    const cfg = smallConfig();
    const real = new Scorer(buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, 3, 2), 3, 2, 8);
    // Throws whenever a window of entity "bad" is in the call, as a native kernel error would.
    const scorer: BatchScorer = {
      score(ws: Window[]): WindowScore[] {
        if (ws.some((w) => w.entity === 'bad')) throw new Error('kernel failed');
        return real.score(ws);
      },
    };
    const { pipeline, dead, metrics } = rig({ scorer });
    const records: SourceRecord[] = [];
    let line = 0;
    for (let i = 1; i <= 4; i++) for (const e of ['good', 'bad']) records.push(raw(reading(e, i), ++line));
    await pipeline.process(records);
    expect(dead.map((d) => [d.reason, JSON.parse(d.raw).entity])).toEqual([
      ['processing_error', 'bad'],
      ['processing_error', 'bad'],
    ]);
    expect(dead[0]?.detail).toContain('scoring failed: Error: kernel failed');
    expect(await metric(metrics, 'seismo_windows_scored_total')).toBe(2);
    expect(await metric(metrics, 'seismo_processing_errors_total{stage="scoring"}')).toBe(2);
  });

  it('rejects when the sink rejects, and counts nothing of that chunk; the retry is counted once', async () => {
    let failing = true;
    const sent: Flag[] = [];
    const sink: Sink = { send: async (f) => (failing ? Promise.reject(new Error('broker gone')) : void sent.push(...f)), flush: async () => {}, close: async () => {} };
    const { pipeline, metrics } = rig({ sink, threshold: 1e-9 });
    const chunk = [1, 2, 3, 4].map((i) => raw(reading('p', i), i));
    await expect(pipeline.process(chunk)).rejects.toThrow('broker gone');
    expect(await metric(metrics, 'seismo_readings_total')).toBe(0);
    expect(await metric(metrics, 'seismo_flags_total{state="open"}')).toBe(0);
    // The source rebuilds the lane and processes the chunk again.
    pipeline.dropLane('default');
    failing = false;
    await pipeline.process(chunk);
    expect(await metric(metrics, 'seismo_readings_total')).toBe(4);
    expect(await metric(metrics, 'seismo_flags_total{state="open"}')).toBe(1);
    expect(sent.filter((f) => f.state === 'open')).toHaveLength(1);
  });

  it('rejects when the dead-letter sink rejects (nothing may be committed)', async () => {
    const { pipeline } = rig({ deadLetter: { send: async (p) => (p.length > 0 ? Promise.reject(new Error('dlq down')) : undefined), close: async () => {} } });
    await expect(pipeline.process([raw('{not json', 1)])).rejects.toThrow('dlq down');
  });

  it('a lost scoring worker fails the chunk (nothing dead-lettered, nothing counted, so nothing is committed); the retry scores it', async () => {
    const cfg = smallConfig();
    const real = new Scorer(buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, 3, 2), 3, 2, 8);
    let lost = true;
    // What WorkerScorer does when its worker died twice under a batch, or cannot be restarted.
    const scorer: BatchScorer = { score: async (ws: Window[]) => (lost ? Promise.reject(new ScoringWorkerLost('the scoring worker died: exited with code 1')) : real.score(ws)) };
    const { pipeline, dead, metrics } = rig({ scorer });
    const chunk = [1, 2, 3, 4].map((i) => raw(reading('p', i), i));
    await expect(pipeline.process(chunk)).rejects.toBeInstanceOf(ScoringWorkerLost);
    expect(dead).toEqual([]);
    expect(await metric(metrics, 'seismo_readings_total')).toBe(0);
    pipeline.dropLane('default');
    lost = false;
    await pipeline.process(chunk);
    expect(await metric(metrics, 'seismo_windows_scored_total')).toBe(2);
    expect(dead).toEqual([]);
  });
});

describe('AlertTracker with non-finite scores', () => {
  const score = (i: number, s: number): WindowScore => ({ entity: 'p', startTs: i, endTs: i * 1000, score: s, featureErrors: Float32Array.of(s, 0) });

  it('NaN opens an alert at the maximum score and the alert still resolves once scores are normal (smoothed)', () => {
    const cfg = smallConfig();
    const tracker = new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1, smoothWindows: 3, resolveAfter: 2, cooldownWindows: 0, minOpenSeconds: 0 }, 1, features, 'm');
    const flags: Flag[] = [];
    const push = (i: number, s: number) => {
      const f = tracker.observe(score(i, s));
      if (f) flags.push(f);
    };
    push(1, 0.1);
    push(2, NaN);
    for (let i = 3; i <= 10; i++) push(i, 0.1);
    expect(flags.map((f) => f.state)).toEqual(['open', 'resolved']);
    expect(flags[0]?.score).toBeCloseTo(MAX_SCORE / 2, -20);
    expect(flags[0]?.topFeatures[0]).toMatchObject({ name: 'a' });
    expect(Number.isFinite(flags[0]?.topFeatures[0]?.error)).toBe(true);
    expect(tracker.openCount()).toBe(0);
  });
});
