import { describe, expect, it } from 'vitest';
import { configSchema, type SeismoConfig } from '../../src/config/schema.js';
import { quantileThreshold } from '../../src/detect/threshold.js';
import { fitScaler, windowize } from '../../src/jobs/data.js';
import { calibrateOutOfSample } from '../../src/jobs/oos-calibrate.js';
import { smoothedPerEntity, trainFromData } from '../../src/jobs/train-job.js';
import type { Reading } from '../../src/pipeline/types.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { AlertTracker } from '../../src/detect/alerts.js';
import { simulate } from '../../src/simulate/simulator.js';
import { Scaler } from '../../src/window/scaler.js';
import { Scorer } from '../../src/score/scorer.js';

/**
 * White noise in 4 channels: nothing to learn, so whatever a roomy autoencoder trained for many
 * epochs reproduces well is memorised. Its errors on its own training windows are then lower
 * than on windows it never saw, and a threshold set on them is too low.
 */
function noise(rows: number, seed: number): Reading[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: rows }, (_, i) => ({ entity: 'e', ts: i * 60_000, values: { a: gaussian(rnd), b: gaussian(rnd), c: gaussian(rnd), d: gaussian(rnd) } }));
}

function config(threshold: Record<string, unknown>): SeismoConfig {
  return configSchema.parse({
    window: { lookback: 6 },
    model: { kind: 'conv1d', encoderUnits: [64, 32], epochs: 50, patience: 50, learningRate: 0.01, batchSize: 32, seed: 3 },
    threshold: { calibration: 'holdout', method: 'quantile', quantile: 0.95, multiplier: 1, ...threshold },
    alerts: { smoothWindows: 1 },
  });
}

describe('out-of-sample calibration (blocked CV) on a model that overfits', () => {
  it('sets the threshold above the one from the model\'s own training windows; expected-alert rate moves it monotonically', async () => {
    const readings = noise(300, 1);
    const data = { byEntity: new Map([['e', readings]]), features: ['a', 'b', 'c', 'd'], poison: [] };
    const cv = await trainFromData(config({ calibration: 'blocked-cv', folds: 3 }), data);
    // In-sample: the final model's 0.95 quantile of errors on every window it trained on.
    const cfgIn = config({});
    const scaler = fitScaler(data, cfgIn.training);
    const [windows] = windowize(data, scaler, cfgIn);
    const scorer = new Scorer(cv.artifact.model, 6, 4, 256);
    const inSampleErrors = scorer.scoreAll(windows!.set.data, windows!.set.count);
    scorer.dispose();
    const inSample = quantileThreshold(smoothedPerEntity(inSampleErrors, [windows!.set.count], 1), 0.95, 1).value;
    const oos = cv.artifact.threshold!.value;
    expect(oos).toBeGreaterThan(inSample * 1.1);

    // Fewer expected false alerts per day: a higher threshold; sensitivity divides it. (Held-out
    // tail of the same model, so no more training.)
    const tail = { ...windows!.set, data: windows!.set.data.subarray(200 * 6 * 4), count: windows!.set.count - 200 };
    const rated = (perDay: number, sensitivity = 1) => calibrateOutOfSample(config({ falseAlertsPerDay: perDay, sensitivity }), cv.artifact.model, [windows!], [tail]);
    const levels = await Promise.all([5, 1, 0.2, 0.05].map((r) => rated(r)));
    for (let i = 1; i < levels.length; i++) expect(levels[i]!.value).toBeGreaterThanOrEqual(levels[i - 1]!.value);
    expect(levels[3]!.value).toBeGreaterThan(levels[0]!.value);
    expect((await rated(0.2, 2)).value).toBeCloseTo(levels[2]!.value / 2, 6);
  }, 120_000);
});

describe('the default threshold', () => {
  /** Simulated pumps (8 sensors, a daily cycle), one reading a minute, no events. */
  function fleet(seed: number, days: number) {
    const sim = simulate({ seed, entities: 2, periodSeconds: 60, steps: days * 1440, eventsPerEntity: 0, eventFrom: days * 1440, startTs: Date.UTC(2026, 0, 1) });
    const byEntity = new Map<string, Reading[]>();
    for (const r of sim.readings) byEntity.set(r.entity, [...(byEntity.get(r.entity) ?? []), r]);
    return { byEntity, features: sim.features, poison: [] };
  }

  it('is a rate of 1 false alert per entity per day over blocked-CV scores, and realises about that on fresh normal data when training spans several days', async () => {
    // Everything but the model at its default: the threshold and alert rules a user gets.
    const cfg = configSchema.parse({ model: { encoderUnits: [16, 8], epochs: 8, batchSize: 128, learningRate: 0.01, seed: 5 } });
    expect([cfg.threshold.method, cfg.threshold.calibration, cfg.threshold.falseAlertsPerDay]).toEqual(['rate', 'blocked-cv', undefined]);
    const trained = await trainFromData(cfg, fleet(1, 3));
    const t = trained.artifact.threshold!;
    expect(t.outOfSample).toEqual({ calibration: 'blocked-cv', falseAlertsPerDay: 1 });

    // Two fresh days of normal running: count alert openings per entity per day.
    const fresh = fleet(2, 2);
    const scaler = new Scaler(trained.artifact.scaler);
    const scorer = new Scorer(trained.artifact.model, cfg.window.lookback, scaler.features.length, 512);
    const tracker = new AlertTracker(cfg.alerts, t.value, scaler.features, 'test', 0);
    let openings = 0;
    let highest = 0;
    for (const e of windowize(fresh, scaler, cfg)) {
      const scores = scorer.scoreAll(e.set.data, e.set.count);
      highest = Math.max(highest, ...scores);
      scores.forEach((score, i) => {
        const flag = tracker.observe({ entity: e.entity, startTs: e.startTs[i]!, endTs: e.endTs[i]!, score, run: i + 1, featureErrors: new Float32Array(scaler.features.length) });
        if (flag?.state === 'open') openings++;
      });
    }
    scorer.dispose();
    // 2 entities x 2 days at 1 a day asked: 4 expected; a rate rule off by an order of
    // magnitude (a threshold from in-sample errors, a wrong windows-per-day) opens dozens. And
    // the threshold sits at the edge of normal, not far above it (which would open none).
    expect(openings).toBeLessThanOrEqual(12);
    expect(highest).toBeGreaterThan(0.5 * t.value);

    // Its known weakness, with features judged by their level: with one day of a daily rhythm
    // each fold's model never saw the hours it scores, so the held-out scores, and the
    // threshold, come out high (fewer alerts, later). The default judges these slow features by
    // their shape within each window (training.relativeFeatures: auto), where the hour of day
    // does not show: one day of training then gives about the threshold of three.
    const absolute = { ...cfg, training: { ...cfg.training, relativeFeatures: 'none' as const } };
    const oneDayAbsolute = await trainFromData(absolute, fleet(1, 1));
    const threeDaysAbsolute = await trainFromData(absolute, fleet(1, 3));
    expect(oneDayAbsolute.artifact.threshold!.value).toBeGreaterThan(2 * threeDaysAbsolute.artifact.threshold!.value);
    const oneDay = await trainFromData(cfg, fleet(1, 1));
    expect(oneDay.artifact.threshold!.value).toBeLessThan(2 * t.value);
  }, 300_000);
});
