import { describe, expect, it } from 'vitest';
import { AlertTracker } from '../../src/detect/alerts.js';
import { buildAutoencoder } from '../../src/model/build.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Flag, PoisonRecord } from '../../src/pipeline/types.js';
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
      windower: new Windower({ ...cfg.window, lookback: 3 }, new Scaler(identityScalerState(features))),
      scorer: new Scorer(model, 3, 2, 8),
      // A threshold of 0 makes every window "above", so flags must appear.
      alerts: new AlertTracker({ ...cfg.alerts, openK: 1, openN: 1 }, 0, features, 'm'),
      threshold: 1,
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
