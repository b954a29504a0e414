import { describe, expect, it } from 'vitest';
import { fitScaler } from '../../src/jobs/data.js';
import type { Reading } from '../../src/domain/types.js';
import { Scaler } from '../../src/window/scaler.js';
import { configSchema } from '../../src/config/schema.js';
import { childConfig } from '../../src/refit/trainer.js';
import { chooseSeasonal, DAY_MS, lagAutocorrelation, SeasonalHistory, seasonalMismatch, type SeasonalSpec } from '../../src/window/seasonal.js';
import { identityScalerState, Windower, type WindowPolicy } from '../../src/window/windower.js';

const HOUR = 3_600_000;
// Hourly readings: a day is 24 readings.
const spec: SeasonalSpec = { periodMs: DAY_MS, toleranceMs: HOUR / 2, of: ['a'], capacity: 40 };
const daily = (i: number) => Math.sin((2 * Math.PI * i) / 24);

describe('SeasonalHistory', () => {
  it('gives the difference to the reading one period earlier, and nothing before a period has passed', () => {
    const h = new SeasonalHistory(spec);
    const out = new Float64Array(1);
    for (let i = 0; i < 24; i++) {
      expect(h.differences(i * HOUR, [i], out)).toBe(false);
      h.push(i * HOUR, [i], i, i);
    }
    expect(h.differences(24 * HOUR, [100], out)).toBe(true);
    expect(out[0]).toBe(100 - 0);
    // Jittered sampling: the nearest reading within the tolerance counts.
    expect(h.differences(25 * HOUR + 10 * 60_000, [7], out)).toBe(true);
    expect(out[0]).toBe(7 - 1);
  });

  it('finds nothing when the stream had a gap one period back', () => {
    const h = new SeasonalHistory(spec);
    const out = new Float64Array(1);
    h.push(0, [1], 0, 0);
    h.push(5 * HOUR, [2], 1, 1);
    expect(h.differences(DAY_MS + 2 * HOUR, [3], out)).toBe(false);
    expect(h.differences(DAY_MS + 5 * HOUR, [3], out)).toBe(true);
  });

  it('names the oldest reading a restart needs: one period before the given time', () => {
    const h = new SeasonalHistory(spec);
    for (let i = 0; i < 30; i++) h.push(i * HOUR, [i], 100 + i, i);
    // A reading at hour 29 looks back to hour 5 (offset 105); the tolerance reaches no further.
    expect(h.oldestNeeded(29 * HOUR)?.seq).toBe(105);
  });
});

describe('chooseSeasonal', () => {
  const ts = Array.from({ length: 24 * 3 }, (_, i) => i * HOUR);
  const rhythm = ts.map((_, i) => daily(i));
  const noise = ts.map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);

  it('picks the features with a daily rhythm when two days of data are there', () => {
    const d = chooseSeasonal('auto', ['rhythm', 'noise'], [ts], [[rhythm], [noise]], 3, 0.3);
    expect(d.spec?.of).toEqual(['rhythm']);
    expect(d.spec?.periodMs).toBe(DAY_MS);
    // Over the lagged pairs, a pure rhythm correlates fully with itself a day earlier even with
    // only three days of data (the textbook estimator would say (n - lag) / n = 2/3).
    expect(lagAutocorrelation([rhythm], 24)).toBeCloseTo(1, 6);
    expect(lagAutocorrelation([noise], 24)).toBeLessThan(0.3);
  });

  it('takes a slow trend for persistence, not a daily rhythm', () => {
    // A rising level correlates with itself a day back, but more so half a day back.
    const trend = ts.map((_, i) => i * 0.1 + (Math.sin(i * 12.9898) * 43758.5453 % 1));
    expect(lagAutocorrelation([trend], 24)).toBeGreaterThan(0.5);
    expect(lagAutocorrelation([trend], 12)).toBeGreaterThan(lagAutocorrelation([trend], 24));
    const d = chooseSeasonal('auto', ['trend', 'rhythm'], [ts], [[trend], [rhythm]], 3, 0.5);
    expect(d.spec?.of).toEqual(['rhythm']);
    expect(chooseSeasonal('auto', ['trend'], [ts], [[trend]], 3, 0.5).reason).toMatch(/no feature has a daily rhythm/);
  });

  it('pools the lagged pairs of every entity', () => {
    // Two entities whose rhythms sit at different levels: the pairs never cross entities.
    const other = rhythm.map((v) => v + 100);
    expect(lagAutocorrelation([rhythm, other], 24)).toBeGreaterThan(0.99);
    expect(lagAutocorrelation([rhythm.slice(0, 10)], 24)).toBe(0);
  });

  it('says why not when the data spans less than two days, or is sampled too fast, or has no rhythm', () => {
    expect(chooseSeasonal('auto', ['rhythm'], [ts.slice(0, 40)], [[rhythm.slice(0, 40)]], 3, 0.3).reason).toMatch(/under two days/);
    const fast = Array.from({ length: 100 }, (_, i) => i * 1000);
    expect(chooseSeasonal('auto', ['x'], [fast], [[fast.map(daily)]], 3, 0.3).reason).toMatch(/more than the 4096/);
    expect(chooseSeasonal('auto', ['noise'], [ts], [[noise]], 3, 0.3).reason).toMatch(/no feature has a daily rhythm/);
    expect(chooseSeasonal('none', ['rhythm'], [ts], [[rhythm]], 3, 0.3).spec).toBeUndefined();
  });
});

describe('a running model\'s seasonal columns, pinned for a refit candidate', () => {
  const ts = Array.from({ length: 24 * 3 }, (_, i) => i * HOUR);
  // The refit buffer may hold a stretch where the rhythm test fails (here: plain noise), or `auto`
  // would choose other columns; the candidate must still carry the running model's exactly.
  const noise = ts.map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const running: SeasonalSpec = { periodMs: DAY_MS, toleranceMs: HOUR / 2, of: ['a'], capacity: 40 };

  it('takes the spec as it is, where auto would have chosen none, so the candidate can be swapped in', () => {
    expect(chooseSeasonal('auto', ['a'], [ts], [[noise]], 3, 0.5).spec).toBeUndefined();
    const pinned = chooseSeasonal(running, ['a'], [ts], [[noise]], 3, 0.5).spec;
    expect(pinned).toEqual(running);
    expect(seasonalMismatch(pinned, running)).toBeUndefined();
    const readings = ts.map((t, i) => ({ entity: 'e', ts: t, values: { a: noise[i] as number } }));
    const scaler = fitScaler({ byEntity: new Map([['e', readings]]), features: ['a'], poison: [] }, { scaler: 'standard', relativeFeatures: 'none', relativeAutocorrelation: 0.5, seasonal: running, seasonalAutocorrelation: 0.5 }, 3);
    expect(seasonalMismatch(scaler.state.seasonal, running)).toBeUndefined();
    expect(scaler.features).toEqual(['a', 'a@1d']);
  });

  it('fails training with the reason when the data cannot fill the columns, or names a feature the data lack', () => {
    expect(() => chooseSeasonal(running, ['a'], [ts.slice(0, 40)], [[noise.slice(0, 40)]], 3, 0.5)).toThrow(/span 40 readings per entity at most, under two periods \(51 readings\)/);
    expect(() => chooseSeasonal(running, ['b'], [ts], [[noise]], 3, 0.5)).toThrow(/"a" is not a feature of the training data \(features: b\)/);
    expect(() => chooseSeasonal({ ...running, capacity: 10 }, ['a'], [ts], [[noise]], 3, 0.5)).toThrow(/capacity 10 cannot hold one period \(24 readings/);
  });

  it('is what the refit child is configured with, and the config it writes is a valid one', () => {
    const base = configSchema.parse({ training: { seasonal: 'auto' } });
    const withRunning = configSchema.parse(childConfig(base, ['a'], 3, running));
    expect(withRunning.training.seasonal).toEqual(running);
    expect(configSchema.parse(childConfig(base, ['a'], 3, undefined)).training.seasonal).toBe('none');
    expect(() => configSchema.parse({ training: { seasonal: { ...running, extra: 1 } } })).toThrow();
  });
});

describe('Windower with a seasonal column', () => {
  const policy: WindowPolicy = { lookback: 3, maxGapSeconds: 3 * 3600, outOfOrder: 'drop', missing: 'forward-fill', unknownFeatures: 'ignore' };
  const scaler = new Scaler(identityScalerState(['a'])).withSeasonal(spec, ['a@1d'], [0], [1]);
  const reading = (i: number, a: number): Reading => ({ entity: 'e', ts: i * HOUR, values: { a } });

  it('builds no window during the first day, then windows whose extra column is today minus yesterday', () => {
    const w = new Windower(policy, scaler);
    const kinds = Array.from({ length: 26 }, (_, i) => w.push(reading(i, daily(i) + (i >= 24 ? 5 : 0))).kind);
    // Hours 0-23 fill the history; hours 24-26 fill the ring; the first window ends at hour 26.
    expect(kinds.slice(0, 26).every((k) => k === 'filling')).toBe(true);
    const res = w.push(reading(26, daily(26) + 5));
    expect(res.kind).toBe('window');
    if (res.kind !== 'window') return;
    const data = Array.from(res.window.data);
    // Rows [a, a@1d]: the level shift of +5 shows in the seasonal column, not only in a.
    for (let t = 0; t < 3; t++) {
      expect(data[t * 2]).toBeCloseTo(daily(24 + t) + 5, 5);
      expect(data[t * 2 + 1]).toBeCloseTo(5, 5);
    }
    expect(w.stats.resetsSeasonal).toBe(0);
  });

  it('restarts the ring when nothing lies one day back (a gap yesterday), and counts it', () => {
    const w = new Windower(policy, scaler);
    for (let i = 0; i < 30; i++) if (i < 10 || i > 12) w.push(reading(i, daily(i)));
    // Hours 34-36 look back to hours 10-12, which never came.
    for (let i = 30; i < 34; i++) w.push(reading(i, daily(i)));
    expect(w.push(reading(34, daily(34))).kind).toBe('filling');
    expect(w.stats.resetsSeasonal).toBe(1);
  });

  it('names, for a restart, the offset a day before the ring so a replay rebuilds the history', () => {
    const w = new Windower(policy, scaler);
    for (let i = 0; i < 30; i++) w.push(reading(i, daily(i)), { source: 'stream', offset: String(1000 + i) });
    // The ring's oldest needed reading is hour 28 (lookback - 1 = 2 readings: 28, 29); its
    // seasonal lookup reaches hour 4: the restart replays from offset 1004.
    expect(w.oldestNeededSeq('e')).toBe(1004);
  });

  it('a replay from that offset rebuilds the same windows', () => {
    const original = new Windower(policy, scaler);
    const all = Array.from({ length: 40 }, (_, i) => reading(i, daily(i) + (i % 7 === 0 ? 1 : 0)));
    all.slice(0, 30).forEach((r, i) => original.push(r, { source: 'stream', offset: String(i) }));
    const from = original.oldestNeededSeq('e') as number;
    const replayed = new Windower(policy, scaler);
    all.slice(from, 30).forEach((r, k) => replayed.push(r, { source: 'stream', offset: String(from + k) }));
    for (let i = 30; i < 40; i++) {
      const a = original.push(all[i] as Reading, { source: 'stream', offset: String(i) });
      const b = replayed.push(all[i] as Reading, { source: 'stream', offset: String(i) });
      expect(b.kind).toBe(a.kind);
      if (a.kind === 'window' && b.kind === 'window') expect(Array.from(b.window.data)).toEqual(Array.from(a.window.data));
    }
  });
});

describe('fitScaler with seasonal: auto', () => {
  it('adds the seasonal column with its own scaling, fitted on the training differences', () => {
    const readings: Reading[] = Array.from({ length: 24 * 4 }, (_, i) => ({ entity: 'e', ts: i * HOUR, values: { a: 10 + 3 * daily(i) + (i % 5) * 0.01 } }));
    const scaler = fitScaler({ byEntity: new Map([['e', readings]]), features: ['a'], poison: [] }, { scaler: 'standard', relativeFeatures: 'none', relativeAutocorrelation: 0.5, seasonal: 'auto', seasonalAutocorrelation: 0.3 }, 3);
    expect(scaler.features).toEqual(['a', 'a@1d']);
    expect(scaler.inputFeatures).toEqual(['a']);
    expect(scaler.state.seasonal?.of).toEqual(['a']);
    // Yesterday predicts today almost exactly: the differences are small next to the level's spread.
    expect(scaler.scale[1]).toBeLessThan((scaler.scale[0] as number) / 10);
  });
});

describe('seasonal memory bound', () => {
  it('refuses a history over 256 KiB per entity, saying how large it would be', () => {
    // One reading a minute, 40 rhythmic features: 1,805 slots x 43 x 8 bytes, about 606 KiB.
    const ts = Array.from({ length: 3 * 1440 }, (_, i) => i * 60_000);
    const col = ts.map((_, i) => Math.sin((2 * Math.PI * i) / 1440));
    const names = Array.from({ length: 40 }, (_, j) => `f${j}`);
    const d = chooseSeasonal('auto', names, [ts], names.map(() => [col]), 3, 0.3);
    expect(d.spec).toBeUndefined();
    expect(d.reason).toMatch(/40 features is \d+ KiB per entity, more than 256 KiB/);
  });
});
