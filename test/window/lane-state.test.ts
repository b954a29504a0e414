import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import { buildAutoencoder } from '../../src/model/build.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { PoisonRecord } from '../../src/pipeline/types.js';
import { MicroBatcher } from '../../src/score/batcher.js';
import { Scorer } from '../../src/score/scorer.js';
import type { SourceRecord } from '../../src/source/source.js';
import { Scaler } from '../../src/window/scaler.js';
import { identityScalerState, Windower } from '../../src/window/windower.js';
import { smallConfig } from '../helpers.js';

// The windower's own decisions as a running daemon exports and checkpoints them (issue 12).

const features = ['a', 'b'];
const cfg = smallConfig();
const lookback = 3;
const model = buildAutoencoder({ ...cfg.model, encoderUnits: [2] }, lookback, 2);

function pipeline(metrics: Metrics, dead: PoisonRecord[] = [], maxEntities = cfg.window.maxEntities) {
  const scorer = new Scorer(model, lookback, 2, 16);
  return new Pipeline({
    newWindower: (scaler) => new Windower({ ...cfg.window, lookback, maxGapSeconds: 300, maxEntities }, scaler),
    batcher: new MicroBatcher(scorer, { maxBatch: 16, maxDelayMs: 0 }),
    newAlerts: (threshold, version) => new AlertTracker(cfg.alerts, threshold, features, version),
    model: { scorer, scaler: new Scaler(identityScalerState(features)), threshold: 1, version: 'm' },
    sink: { send: async () => {}, flush: async () => {}, close: async () => {} },
    deadLetter: { send: async (p) => void dead.push(...p), close: async () => {} },
    metrics,
    maxMessageBytes: 10_000,
    maxGapMs: 300_000,
  });
}

const T0 = Date.UTC(2026, 10, 1);
let offset = 0;
const raw = (entity: string, minute: number, values: Record<string, number | null>): SourceRecord => ({
  kind: 'raw',
  text: JSON.stringify({ entity, ts: new Date(T0 + minute * 60_000).toISOString(), values }),
  position: { source: 't', partition: 0, offset: String(offset++) },
});

async function value(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return sample?.value ?? NaN;
}

describe('lane state in the pipeline', () => {
  it('exports forward-filled readings and evictions by cause', async () => {
    const metrics = new Metrics();
    expect(await value(metrics, 'seismo_forward_filled_readings_total')).toBe(0);
    expect(await value(metrics, 'seismo_entities_evicted_total', { cause: 'capacity' })).toBe(0);
    const p = pipeline(metrics, [], 2);
    await p.process([raw('x', 1, { a: 1, b: 1 }), raw('x', 2, { a: 2, b: null }), raw('x', 3, { a: null, b: null })], { lane: 'p0' });
    expect(await value(metrics, 'seismo_forward_filled_readings_total')).toBe(2);
    // Two more entities: x (least recently seen) gives way; then 10 minutes on, y and z are idle.
    await p.process([raw('y', 3, { a: 1, b: 1 }), raw('z', 4, { a: 1, b: 1 }), raw('w', 15, { a: 1, b: 1 })], { lane: 'p0' });
    expect(await value(metrics, 'seismo_entities_evicted_total', { cause: 'capacity' })).toBe(1);
    expect(await value(metrics, 'seismo_entities_evicted_total', { cause: 'idle' })).toBe(2);
    expect(await value(metrics, 'seismo_entities')).toBe(1);
  });

  it('counts imputed values per feature (seismo_imputed_values_total), not only readings with one', async () => {
    const metrics = new Metrics();
    metrics.knowFeatures(features);
    expect(await value(metrics, 'seismo_imputed_values_total', { feature: 'a' })).toBe(0);
    const p = pipeline(metrics);
    // Reading 2 fills b; reading 3 fills a and b; reading 4 (a missing, no earlier value for a
    // new entity) is rejected and imputes nothing.
    await p.process([raw('x', 1, { a: 1, b: 1 }), raw('x', 2, { a: 2, b: null }), raw('x', 3, { a: null, b: null }), raw('v', 3, { b: 1 })], { lane: 'p0' });
    expect(await value(metrics, 'seismo_forward_filled_readings_total')).toBe(2);
    expect(await value(metrics, 'seismo_imputed_values_total', { feature: 'a' })).toBe(1);
    expect(await value(metrics, 'seismo_imputed_values_total', { feature: 'b' })).toBe(2);
    // Counted once per chunk's difference: a second chunk adds only its own.
    await p.process([raw('x', 4, { a: 4 })], { lane: 'p0' });
    expect(await value(metrics, 'seismo_imputed_values_total', { feature: 'b' })).toBe(3);
    expect(await value(metrics, 'seismo_imputed_values_total', { feature: 'a' })).toBe(1);
  });

  it('dead-letters a far-future reading without moving the lane: the checkpoint still covers every entity', async () => {
    const metrics = new Metrics();
    const dead: PoisonRecord[] = [];
    const p = pipeline(metrics, dead);
    const records: SourceRecord[] = [];
    for (let m = 1; m <= 4; m++) records.push(raw('x', m, { a: m, b: m }), raw('y', m, { a: m, b: m }));
    records.push({ kind: 'raw', text: JSON.stringify({ entity: 'x', ts: '9999-12-31T00:00:00Z', values: { a: 1, b: 1 } }), position: { source: 't', partition: 0, offset: String(offset++) } });
    records.push({ kind: 'raw', text: JSON.stringify({ entity: 'x', ts: '10000000000000000', values: { a: 1, b: 1 } }), position: { source: 't', partition: 0, offset: String(offset++) } });
    await p.process(records, { lane: 'p0' });
    expect(dead.map((d) => d.reason)).toEqual(['invalid_timestamp', 'invalid_timestamp']);
    const cp = p.checkpoint('p0');
    // Before: the year-9999 reading moved the lane clock, y looked silent and was left out.
    // lookback 3: x and y each need their last 2 readings (x at 3, 4 min first); the clock before x's at 3 min was 2 min.
    expect(cp.replayFrom).toBe(Number(records[4]?.kind === 'raw' ? records[4].position.offset : NaN));
    expect(cp.clock).toBe(T0 + 2 * 60_000);
    await p.process([raw('x', 5, { a: 5, b: 5 })], { lane: 'p0' });
    expect(dead).toHaveLength(2);
    expect(await value(metrics, 'seismo_windows_scored_total')).toBe(5);
  });
});
