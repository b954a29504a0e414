import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import { buildAutoencoder } from '../../src/model/build.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Flag, PoisonRecord, Window } from '../../src/pipeline/types.js';
import { MicroBatcher } from '../../src/score/batcher.js';
import { Scorer } from '../../src/score/scorer.js';
import type { SourceRecord } from '../../src/source/source.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower } from '../../src/window/windower.js';
import { smallConfig } from '../helpers.js';

describe('Pipeline', () => {
  it('scores every good record and routes every bad one to the dead-letter sink, counted by reason', async () => {
    const cfg = smallConfig();
    const features = ['a', 'b'];
    const model = buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, 3, 2);
    const dead: PoisonRecord[] = [];
    const flags: Flag[] = [];
    const metrics = new Metrics();
    const pipeline = new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback: 3 }, scaler),
      batcher: new MicroBatcher(new Scorer(model, 3, 2, 8), { maxBatch: 8, maxDelayMs: 1 }),
      // A tiny threshold makes every window "above", so flags must appear.
      newAlerts: (threshold, version) => new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1 }, threshold, features, version),
      model: { scorer: new Scorer(model, 3, 2, 8), scaler: new Scaler(identityScalerState(features)), threshold: 1e-9, version: 'm' },
      maxGapMs: 300_000,
      sink: { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
      deadLetter: { send: async (p) => void dead.push(...p), close: async () => {} },
      metrics,
      maxMessageBytes: 200,
    });
    const good = (i: number) => JSON.stringify({ entity: 'p1', ts: 1000 * i, values: { a: i, b: -i } });
    const raw = (text: string, line: number): SourceRecord => ({ kind: 'raw', text, position: { source: 't', line } });
    await pipeline.process([
      raw(good(1), 1),
      raw('{"entity":"p1"', 2),
      raw(good(2), 3),
      raw(JSON.stringify({ entity: 'p1', ts: 1500, values: { a: 1, b: 1 } }), 4),
      raw(good(3), 5),
      raw(JSON.stringify({ entity: 'p1', ts: 4000, values: { a: 'x' } }), 6),
      raw(`{"pad":"${'x'.repeat(300)}"}`, 7),
      raw(good(4), 8),
    ]);
    expect(dead.map((d) => [d.reason, d.position.line])).toEqual([
      ['invalid_json', 2],
      ['out_of_order', 4],
      ['invalid_shape', 6],
      ['oversized', 7],
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('seismo_readings_total 4');
    expect(text).toContain('seismo_windows_scored_total 2');
    expect(text).toContain('seismo_poison_total{reason="invalid_json"} 1');
    expect(text).toContain('seismo_poison_total{reason="out_of_order"} 1');
    expect(flags[0]).toMatchObject({ entity: 'p1', state: 'open', windowEnd: new Date(3000).toISOString() });
  });
});

describe('Pipeline model hot swap', () => {
  it('an alert whose scores stay high resolves as stale after alerts.maxOpenSeconds, counted apart, and opens again after the cooldown', async () => {
    const cfg = smallConfig();
    const features = ['a', 'b'];
    const model = buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, 3, 2);
    const flags: Flag[] = [];
    const metrics = new Metrics();
    const pipeline = new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback: 3 }, scaler),
      batcher: new MicroBatcher(new Scorer(model, 3, 2, 8), { maxBatch: 8, maxDelayMs: 1 }),
      // Every window is above the tiny threshold: without maxOpenSeconds the alert would never resolve.
      newAlerts: (threshold, version) => new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1, cooldownWindows: 2, maxOpenSeconds: 5 }, threshold, features, version),
      model: { scorer: new Scorer(model, 3, 2, 8), scaler: new Scaler(identityScalerState(features)), threshold: 1e-9, version: 'm' },
      maxGapMs: 300_000,
      sink: { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
      deadLetter: { send: async () => {}, close: async () => {} },
      metrics,
      maxMessageBytes: 1000,
    });
    const records: SourceRecord[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'raw', text: JSON.stringify({ entity: 'p1', ts: 1000 * (i + 1), values: { a: i, b: -i } }), position: { source: 't', line: i + 1 } }));
    await pipeline.process(records);
    // Windows end at 3 s, 4 s, ...: open at 3 s, stale at 8 s, 2 windows of cooldown, open at 11 s, stale at 16 s.
    expect(flags.filter((f) => f.state !== 'update').map((f) => [f.state, f.windowEnd, f.stale ?? false])).toEqual([
      ['open', new Date(3000).toISOString(), false],
      ['resolved', new Date(8000).toISOString(), true],
      ['open', new Date(11000).toISOString(), false],
      ['resolved', new Date(16000).toISOString(), true],
      ['open', new Date(19000).toISOString(), false],
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('seismo_alerts_stale_resolved_total 2');
    expect(text).toContain('seismo_flags_total{state="resolved"} 2');
  });

  it('switches every lane at its next chunk: built, scored and judged by one model, alert state kept', async () => {
    const cfg = smallConfig();
    const features = ['a'];
    // Two stand-in models that are told apart by their score (this tests routing, not TensorFlow),
    // with different thresholds so the judging model shows in every flag.
    const constant = (score: number) => ({ score: (ws: Window[]) => ws.map((w) => ({ entity: w.entity, startTs: w.startTs, endTs: w.endTs, score, featureErrors: Float32Array.of(score) })) });
    const first = { scorer: constant(5), scaler: new Scaler(identityScalerState(features)), threshold: 1, version: 'v1' };
    const second = { scorer: constant(7), scaler: new Scaler({ kind: 'standard', features, offset: [100], scale: [1] }), threshold: 0.5, version: 'v2' };
    const flags: Flag[] = [];
    const scored: string[] = [];
    const pipeline = new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback: 2 }, scaler),
      newAlerts: (threshold, version) => new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1, updateRatio: 1.01 }, threshold, features, version),
      batcher: new MicroBatcher(first.scorer, { maxBatch: 64, maxDelayMs: 0 }),
      model: first,
      sink: { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
      deadLetter: { send: async () => {}, close: async () => {} },
      metrics: new Metrics(),
      maxMessageBytes: 1000,
      maxGapMs: 300_000,
      onScore: (s) => scored.push(`${s.entity}:${s.score}`),
    });
    const reading = (entity: string, i: number): SourceRecord => ({ kind: 'raw', text: JSON.stringify({ entity, ts: i * 1000, values: { a: i } }), position: { source: 't' } });
    await pipeline.process([reading('e', 1), reading('e', 2), reading('e', 3)], { lane: 'p0' });
    await pipeline.process([reading('f', 1), reading('f', 2)], { lane: 'p1' });
    // A chunk already submitted when the swap happens is still scored by the old model.
    const inFlight = pipeline.process([reading('e', 4)], { lane: 'p0' });
    pipeline.swapModel(second);
    await inFlight;
    await pipeline.process([reading('e', 5), reading('e', 6)], { lane: 'p0' });
    // The other lane switches at its own next chunk.
    await pipeline.process([reading('f', 3)], { lane: 'p1' });
    expect(scored).toEqual(['e:5', 'e:5', 'f:5', 'e:5', 'e:7', 'e:7', 'f:7']);
    expect(flags.map((f) => [f.entity, f.state, f.model, f.threshold, f.severity])).toEqual([
      ['e', 'open', 'v1', 1, 5],
      ['f', 'open', 'v1', 1, 5],
      ['e', 'update', 'v2', 0.5, 14],
      ['f', 'update', 'v2', 0.5, 14],
    ]);
  });
});

describe('Pipeline entity allowlist', () => {
  it('rejects readings of entities outside input.entities as unknown_entity, with the original message', async () => {
    const cfg = smallConfig();
    const dead: PoisonRecord[] = [];
    const pipeline = new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback: 3 }, scaler),
      batcher: new MicroBatcher(new Scorer(buildAutoencoder({ ...cfg.model, encoderUnits: [2] }, 3, 1), 3, 1, 8), { maxBatch: 8, maxDelayMs: 0 }),
      newAlerts: (threshold, version) => new AlertTracker(cfg.alerts, threshold, ['a'], version),
      model: { scorer: new Scorer(buildAutoencoder({ ...cfg.model, encoderUnits: [2] }, 3, 1), 3, 1, 8), scaler: new Scaler(identityScalerState(['a'])), threshold: 1, version: 'm' },
      sink: { send: async () => {}, flush: async () => {}, close: async () => {} },
      deadLetter: { send: async (p) => void dead.push(...p), close: async () => {} },
      metrics: new Metrics(),
      maxMessageBytes: 1000,
      maxGapMs: 300_000,
      knownEntities: new Set(['p1']),
    });
    const original = { key: Buffer.from('p2'), value: Buffer.from('x'), headers: {} };
    await pipeline.process([
      { kind: 'raw', text: JSON.stringify({ entity: 'p1', ts: 1, values: { a: 1 } }), position: { source: 't', offset: '0' } },
      { kind: 'raw', text: JSON.stringify({ entity: 'p2', ts: 1, values: { a: 1 } }), position: { source: 't', offset: '1' }, original },
    ]);
    expect(dead.map((d) => [d.reason, d.position.offset])).toEqual([['unknown_entity', '1']]);
    expect(dead[0]?.original).toBe(original);
  });
});

describe('Pipeline checkpoint and replay (what a Kafka restart relies on)', () => {
  const features = ['a', 'b'];
  const cfg = smallConfig();
  const lookback = 4;
  const model = buildAutoencoder({ ...cfg.model, encoderUnits: [4] }, lookback, 2);
  const scorer = new Scorer(model, lookback, 2, 64);
  const batcher = new MicroBatcher(scorer, { maxBatch: 64, maxDelayMs: 0 });
  // Three entities interleaved like a partition carries them, offsets 0..n-1.
  const records: SourceRecord[] = [];
  for (let i = 0; i < 120; i++) {
    for (const e of ['x', 'y', 'z']) {
      // z falls silent for 8 minutes (> window.maxGapSeconds): its window ring, score history and warm-up start over.
      if (e === 'z' && i >= 40 && i < 48) continue;
      const bump = (e === 'y' && i % 17 < 5) || (e === 'z' && i > 60 && i < 75) ? 6 : 0;
      const text = JSON.stringify({ entity: e, ts: 60_000 * (i + 1), values: { a: Math.sin(i / 5) + bump, b: Math.cos(i / 7) } });
      records.push({ kind: 'raw', text, position: { source: 't', partition: 0, offset: String(records.length) } });
    }
  }

  function pipelineWith(threshold: number, flags: Flag[], scored: string[], onScore: (score: number) => void = () => {}, smoothWindows = 1, warmup = 0, escalateRatio = 0) {
    // As the daemon wires them.
    const historyWindows = smoothWindows - 1 + warmup;
    return new Pipeline({
      newWindower: (scaler) => new Windower({ ...cfg.window, lookback }, scaler, historyWindows),
      historyWindows,
      newAlerts: (t, version) => new AlertTracker({ ...cfg.alerts, openK: 2, openN: 3, resolveAfter: 3, cooldownWindows: 2, smoothWindows, escalateRatio }, t, features, version, warmup),
      batcher,
      model: { scorer, scaler: new Scaler(identityScalerState(features)), threshold, version: 'm' },
      sink: { send: async (f) => void flags.push(...f), flush: async () => {}, close: async () => {} },
      deadLetter: { send: async () => {}, close: async () => {} },
      metrics: new Metrics(),
      maxMessageBytes: 1000,
      maxGapMs: 300_000,
      onScore: (s) => {
        scored.push(`${s.entity}@${s.endTs}`);
        onScore(s.score);
      },
    });
  }

  async function feed(p: Pipeline, recs: SourceRecord[], lane: string, replayBelow?: number) {
    for (let i = 0; i < recs.length; i += 37) await p.process(recs.slice(i, i + 37), { lane, ...(replayBelow !== undefined ? { replayBelow } : {}) });
  }

  it.each([
    [1, 0, 0],
    [4, 0, 0],
    [3, 2, 0],
    [1, 0, 1.5],
  ])('a lane rebuilt from its checkpoint emits exactly the uninterrupted flags, and every window is scored at least once (smoothWindows %i, warmupWindows %i, escalateRatio %d)', async (smoothWindows, warmup, escalateRatio) => {
    // Threshold from the data itself (80th percentile) so alerts open, update and resolve during the run.
    const scores: number[] = [];
    await pipelineWith(1e9, [], [], (s) => scores.push(s)).process(records, { lane: 'm' });
    const threshold = [...scores].sort((a, b) => a - b)[Math.floor(scores.length * (smoothWindows > 1 ? 0.7 : 0.8))] as number;
    const make = (flags: Flag[], scored: string[]) => pipelineWith(threshold, flags, scored, () => {}, smoothWindows, warmup, escalateRatio);

    const expectedFlags: Flag[] = [];
    const expectedScored: string[] = [];
    await feed(make(expectedFlags, expectedScored), records, 'p0');
    expect(new Set(expectedFlags.map((f) => f.state))).toEqual(new Set(['open', 'resolved', 'update']));
    // With escalation on, the run must contain escalations for the restart to be tested on them.
    expect(expectedFlags.some((f) => f.escalatedFrom !== undefined)).toBe(escalateRatio > 0);

    for (const cut of [37 * 2, 37 * 5, 37 * 7]) {
      const flags: Flag[] = [];
      const scored: string[] = [];
      const first = make(flags, scored);
      await feed(first, records.slice(0, cut), 'p0');
      const cp = first.checkpoint('p0');
      const metadata = JSON.parse(JSON.stringify(cp.alerts)) as typeof cp.alerts;
      expect(cp.replayFrom).toBeLessThan(cut);
      // Three interleaved entities: each needs lookback - 1 readings back, plus one per history window.
      const history = smoothWindows - 1 + warmup;
      expect(cut - (cp.replayFrom as number)).toBeLessThanOrEqual(3 * (lookback - 1 + history) + 3);
      expect(cut - (cp.replayFrom as number)).toBeGreaterThanOrEqual(3 * (lookback - 1 + history) - 3);

      // A new process: fresh state, alert state from the metadata, re-read from replayFrom.
      const second = make(flags, scored);
      second.restoreLane('p0', metadata);
      await feed(second, records.slice(cp.replayFrom), 'p0', cut);

      const byId = new Map(flags.map((f) => [f.id, f]));
      // Ids, states and windows exactly; scores to 5 significant digits: native TensorFlow sums in
      // an order that depends on the batch's composition, which a restart changes (~1e-7 relative).
      expect([...byId.values()].map(comparable)).toEqual(expectedFlags.map(comparable));
      expect(new Set(scored)).toEqual(new Set(expectedScored));
    }
  });
});

/** A flag with every number rounded to 5 significant digits. */
function comparable(flag: Flag): unknown {
  return JSON.parse(JSON.stringify(flag), (_key, value: unknown) => (typeof value === 'number' ? Number(value.toPrecision(5)) : value));
}
