import { describe, expect, it } from 'vitest';
import { configSchema, type SeismoConfig } from '../../src/config/schema.js';
import { quantileThreshold } from '../../src/detect/threshold.js';
import { fitScaler, windowize } from '../../src/jobs/data.js';
import { calibrateOutOfSample } from '../../src/jobs/oos-calibrate.js';
import { smoothedPerEntity, trainFromData } from '../../src/jobs/train-job.js';
import type { Reading } from '../../src/pipeline/types.js';
import { gaussian, mulberry32 } from '../../src/random.js';
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
    threshold: { method: 'quantile', quantile: 0.95, multiplier: 1, ...threshold },
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
