import { describe, expect, it } from 'vitest';
import { MAX_SCORE } from '../../src/detect/alerts.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { alertRows } from '../../src/evaluate/skab.js';
import { replayScores } from '../../src/evaluate/replay.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

// `seismo evaluate` must judge an extreme reading as `seismo run` does: a window whose error
// overflows is the maximum score (detected), not a row without a window (skipped).
describe('evaluation replay of an extreme reading', () => {
  it('scores the windows holding 1e30 at the maximum score, and the alert rows open on them', async () => {
    const cfg = smallConfig();
    const { artifact } = await trainFromData(cfg, simulatedReadings(200));
    const readings = simulatedReadings(120, 1, 7).all;
    const at = 80;
    const first = Object.keys(readings[at]?.values ?? {})[0] as string;
    readings[at] = { ...(readings[at] as (typeof readings)[number]), values: { ...readings[at]?.values, [first]: 1e30 } };
    const replay = await replayScores(cfg, artifact, readings, createLogger('silent', true), new Metrics());
    // Every window that ends at or after the extreme reading and still holds it.
    const lookback = cfg.window.lookback;
    for (let row = at; row < at + lookback; row++) expect(replay.scores[row], `row ${row}`).toBe(MAX_SCORE);
    expect(Number.isFinite(replay.scores[at - 1] as number)).toBe(true);
    expect(replay.scores[at - 1]).toBeLessThan(MAX_SCORE);
    const threshold = artifact.threshold?.value as number;
    const open = alertRows({ ...cfg, alerts: { ...cfg.alerts, openK: 1, openN: 1 } }, threshold, { ts: Float64Array.from(readings, (r) => r.ts), scores: replay.scores, featureErrors: replay.featureErrors, features: artifact.scaler.features });
    expect(open[at]).toBe(1);
  });
});
