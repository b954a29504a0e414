import { describe, expect, it } from 'vitest';
import { OnlineThreshold } from '../../src/detect/online-threshold.js';
import { quantile } from '../../src/detect/threshold.js';
import { gaussian, mulberry32 } from '../../src/random.js';

/** Positive scores around `mean` with spread `sd` (smoothed-score-like). */
function scores(n: number, seed: number, mean: (i: number) => number, sd = 0.1): number[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => Math.max(0, mean(i) + sd * gaussian(rnd)));
}

function setup() {
  const cal = scores(2000, 1, () => 1);
  const initial = quantile(cal, 0.999) * 1.05;
  return { cal, initial, make: () => new OnlineThreshold(initial, cal, { risk: 1e-3, levelQuantile: 0.95, maxPeaks: 64, depth: 200, horizon: 2000, maxStep: 1.02, maxDrift: 3 }) };
}

describe('online per-entity threshold (prototype)', () => {
  it('follows a slow upward drift of normal scores that a fixed threshold would alarm on', () => {
    const { initial, make } = setup();
    // Normal scores creep up 40 % over 20 000 windows.
    const drift = scores(20_000, 2, (i) => 1 + (0.4 * i) / 20_000);
    const online = make();
    let onlineAlarms = 0;
    let fixedAlarms = 0;
    for (const s of drift) {
      if (online.observe(s, true)) onlineAlarms++;
      if (s > initial) fixedAlarms++;
    }
    expect(fixedAlarms).toBeGreaterThan(500);
    expect(onlineAlarms).toBeLessThan(fixedAlarms / 5);
    expect(online.threshold).toBeGreaterThan(initial);
  });

  it('does not learn from scores inside an open alert, nor from scores above the threshold', () => {
    const { initial, make } = setup();
    const online = make();
    // A long anomaly at 1.4 x the threshold, reported while the alert is open: nothing moves.
    for (let i = 0; i < 5000; i++) expect(online.observe(initial * 1.4, false)).toBe(true);
    expect(online.threshold).toBe(initial);
    // Scores just under the threshold while an alert is open are not learnt either.
    for (let i = 0; i < 5000; i++) online.observe(initial * 0.99, false);
    expect(online.threshold).toBe(initial);
  });

  it('adapts at a bounded rate and within a bounded band around the calibrated threshold', () => {
    const { initial, make } = setup();
    const online = make();
    let previous = online.threshold;
    // Calm scores hugging the threshold push it up, but never more than 2 % per step nor past 3x.
    for (let i = 0; i < 20_000; i++) {
      online.observe(online.threshold * 0.999, true);
      expect(online.threshold / previous).toBeLessThanOrEqual(1.02 + 1e-12);
      previous = online.threshold;
    }
    expect(online.threshold).toBeLessThanOrEqual(initial * 3 + 1e-9);
    expect(online.threshold).toBeGreaterThan(initial * 2.9);
  });

  it('restart from a snapshot equals an uninterrupted run', () => {
    const { make } = setup();
    const stream = scores(6000, 3, (i) => 1 + (0.2 * i) / 6000);
    const whole = make();
    const first = make();
    const flagsWhole = stream.map((s) => whole.observe(s, true));
    const flagsA = stream.slice(0, 3000).map((s) => first.observe(s, true));
    const resumed = make();
    resumed.restore(JSON.parse(JSON.stringify(first.snapshot())) as number[]);
    const flagsB = stream.slice(3000).map((s) => resumed.observe(s, true));
    expect([...flagsA, ...flagsB]).toEqual(flagsWhole);
    expect(resumed.threshold).toBe(whole.threshold);
    expect(first.snapshot().length).toBeLessThanOrEqual(4 + 200 + 64);
    expect(() => resumed.restore([])).toThrow(/bad snapshot/);
  });
});
