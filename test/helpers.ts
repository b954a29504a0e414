import { parseConfig } from '../src/config/load.js';
import type { SeismoConfig } from '../src/config/schema.js';
import type { Reading } from '../src/domain/types.js';
import type { LoadedReadings } from '../src/jobs/data.js';
import { simulate } from '../src/simulate/simulator.js';
import type { RecordProcessor, SourceRecord } from '../src/source/source.js';

// The threshold rule the tests were written against (one training, a quantile of the held-out
// tail); the default (blocked-cv, rate) has tests of its own (test/jobs/oos-calibrate.test.ts).
// Features judged by their level, as when these tests were written: the simulated pumps'
// sensors are slow daily cycles, which the default (relativeFeatures: auto) judges by shape, and
// several tests inject level faults; relative features have tests of their own.
export const SMALL_CONFIG_YAML = `window:\n  lookback: 6\ntraining:\n  relativeFeatures: none\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 3\n  batchSize: 128\n  learningRate: 0.01\nthreshold:\n  calibration: holdout\n  method: quantile\nhttp:\n  enabled: false\nlog:\n  level: silent\n`;

/** A small, fast config: tiny model, few epochs. Real training, just less of it. */
export function smallConfig(): SeismoConfig {
  return parseConfig(SMALL_CONFIG_YAML, 'small.yaml');
}

export function simulatedReadings(steps = 300, entities = 2, seed = 1): LoadedReadings & { all: Reading[] } {
  const sim = simulate({ seed, entities, periodSeconds: 60, steps, eventsPerEntity: 0, eventFrom: steps, startTs: Date.UTC(2026, 0, 1) });
  const byEntity = new Map<string, Reading[]>();
  for (const r of sim.readings) {
    if (!byEntity.has(r.entity)) byEntity.set(r.entity, []);
    byEntity.get(r.entity)?.push(r);
  }
  return { byEntity, features: sim.features, poison: [], all: sim.readings };
}

/** A RecordProcessor around a plain function, for sources under test (lanes unused). */
export function processorOf(fn: (records: SourceRecord[]) => Promise<void>): RecordProcessor {
  return { process: fn, dropLane: () => {}, restoreLane: () => {}, checkpoint: () => ({ replayFrom: undefined, alerts: {} }), queuedWindows: () => 0, drained: async () => {} };
}
