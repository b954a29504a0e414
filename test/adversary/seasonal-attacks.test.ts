import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/model/artifact.js';
import { checkScaler } from '../../src/model/artifact-check.js';
import { Scaler } from '../../src/window/scaler.js';
import { DAY_MS, type SeasonalSpec } from '../../src/window/seasonal.js';
import { identityScalerState, Windower, type WindowPolicy } from '../../src/window/windower.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
// Trained on hourly readings: 40 slots cover a day and some slack.
const spec: SeasonalSpec = { periodMs: DAY_MS, toleranceMs: HOUR / 2, of: ['a'], capacity: 40 };
const policy: WindowPolicy = { lookback: 3, maxGapSeconds: 7200, outOfOrder: 'reset', missing: 'reject', unknownFeatures: 'ignore' };

describe('adversary: seasonal history that cannot reach one period back', () => {
  it('a stream sampled faster than the model was trained on is counted, not a silent halt', () => {
    // Every minute instead of every hour: 40 slots hold 40 minutes, never a day, so no reading
    // ever finds one a day earlier and the entity never yields a window. Before the fix nothing
    // counted it (resetsSeasonal only counts restarts of a ring that had readings).
    const w = new Windower(policy, new Scaler({ ...identityScalerState(['a', 'a@1d']), seasonal: spec }));
    let windows = 0;
    const n = 2 * 24 * 60;
    for (let i = 0; i < n; i++) if (w.push({ entity: 'e', ts: i * MINUTE, values: { a: Math.sin(i) } }).kind === 'window') windows++;
    expect(windows).toBe(0);
    // Once the history is full (40 readings), every later reading is one that could not be scored for it.
    expect(w.stats.seasonalHistoryShort).toBe(n - spec.capacity);
  });

  it('a new entity\'s first day is not counted as a short history', () => {
    const w = new Windower(policy, new Scaler({ ...identityScalerState(['a', 'a@1d']), seasonal: spec }));
    let windows = 0;
    for (let i = 0; i < 48; i++) if (w.push({ entity: 'e', ts: i * HOUR, values: { a: i } }).kind === 'window') windows++;
    expect(w.stats.seasonalHistoryShort).toBe(0);
    expect(windows).toBe(24 - 2);
  });
});

describe('adversary: a corrupted scaler.json seasonal block is refused at load, naming file and field', () => {
  const manifest = { features: ['a'], lookback: 3 } as unknown as Manifest;
  const load = (seasonal: unknown) => () => checkScaler('/models/v1', { kind: 'standard', features: ['a', 'a@1d'], offset: [0, 0], scale: [1, 1], seasonal }, manifest);

  it.each([
    ['negative period', { ...spec, periodMs: -1 }, /scaler\.json.*"seasonal\.periodMs"/],
    ['zero tolerance', { ...spec, toleranceMs: 0 }, /scaler\.json.*"seasonal\.toleranceMs"/],
    ['capacity 1e9', { ...spec, capacity: 1e9 }, /scaler\.json.*"seasonal\.capacity"/],
    ['of naming a missing feature', { ...spec, of: ['b'] }, /scaler\.json.*"seasonal\.of" names "b"/],
    // These three were accepted before: each leaves every entity filling forever, or looks "one
    // period back" at the last few minutes.
    ['tolerance wider than half the period', { ...spec, toleranceMs: DAY_MS }, /scaler\.json.*"seasonal\.toleranceMs"/],
    ['period shorter than the tolerance', { ...spec, periodMs: 1 }, /scaler\.json.*"seasonal\.toleranceMs"/],
    ['capacity too small to hold one period', { ...spec, capacity: 1 }, /scaler\.json.*"seasonal\.capacity"/],
  ])('%s', (_, seasonal, message) => {
    expect(load(seasonal)).toThrow(message);
  });

  it('a history over the per-entity byte bound is refused like training refuses it', () => {
    const features = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const m = { features, lookback: 3 } as unknown as Manifest;
    const all = [...features, ...features.map((f) => `${f}@1d`)];
    // 4096 slots of 23 doubles: 754 KiB per entity, over MAX_SEASONAL_BYTES.
    const s = { periodMs: DAY_MS, toleranceMs: 15_000, of: features, capacity: 4096 };
    expect(() => checkScaler('/models/v1', { kind: 'standard', features: all, offset: all.map(() => 0), scale: all.map(() => 1), seasonal: s }, m)).toThrow(/scaler\.json.*"seasonal\.capacity".*KiB/);
  });

  it('the spec training writes is accepted', () => {
    expect(load(spec)).not.toThrow();
  });
});
