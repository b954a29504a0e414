import type { Reading } from '../../src/domain/types.js';
import { gaussian, mulberry32 } from '../../src/random.js';

/**
 * The refit tests' stream: two periodic features with noise, whose level shifts by 0.8 at
 * SHIFT_AT (normal data the first model never saw: its calm scores rise, still below the
 * threshold), and a clear fault (+8 on `a` for 8 readings) every FAULT_EVERY readings from
 * FAULT_FROM, so every shadow period has an episode both models must open.
 */
export const T0 = Date.UTC(2026, 0, 1);
export const MIN = 60_000;
export const SHIFT_AT = 400;
export const FAULT_EVERY = 150;
export const FAULT_FROM = 600;

export function levelShiftStream(length: number, entity = 'pump', seed = 11): Reading[] {
  const rng = mulberry32(seed);
  return Array.from({ length }, (_, t) => {
    const level = t >= SHIFT_AT ? 0.8 : 0;
    const fault = t >= FAULT_FROM && t % FAULT_EVERY < 8 ? 8 : 0;
    return { entity, ts: T0 + t * MIN, values: { a: Math.sin((2 * Math.PI * t) / 20) + 0.1 * gaussian(rng) + level + fault, b: Math.cos((2 * Math.PI * t) / 20) + 0.1 * gaussian(rng) + level } };
  });
}

/**
 * The model and refit settings both process tests use (a small model; thresholds 3 x the q99).
 * Features judged by their level (`relativeFeatures: none`): the stream's drift is a level
 * shift, which a model judging these slow periodic features by their shape (the default, auto)
 * does not see at all.
 */
export const MODEL_YAML = `window:\n  lookback: 6\ntraining:\n  relativeFeatures: none\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 8\n  batchSize: 64\n  learningRate: 0.01\nthreshold:\n  calibration: holdout\n  multiplier: 3\n`;
export const REFIT_YAML = `refit:\n  enabled: true\n  driftWarmupWindows: 100\n  driftSlack: 0.1\n  driftLimit: 10\n  bufferReadings: 400\n  minReadings: 200\n  shadowWindows: 300\n  waitForTraining: true\n`;
