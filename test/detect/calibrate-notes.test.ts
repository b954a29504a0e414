import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { calibrateThreshold, MIN_POT_PEAKS } from '../../src/detect/calibrate.js';

// The pooled-errors methods (the default, `rate`, is calibrated from score sequences instead).
const base = { ...parseConfig('', 'x.yaml').threshold, method: 'quantile' as const };
/** Deterministic errors 0.01 .. n/100. */
const errors = (n: number) => Float64Array.from({ length: n }, (_, i) => (i + 1) / 100);

describe('calibration notes', () => {
  it('POT with too few peaks falls back to the quantile method and says so', () => {
    // 200 errors above the 0.98 quantile: 4 peaks.
    const t = calibrateThreshold(errors(200), { ...base, method: 'pot' });
    expect(t.method).toBe('quantile');
    expect(t.pot).toBeUndefined();
    expect(t.value).toBeCloseTo(calibrateThreshold(errors(200), base).value);
    expect(t.notes?.[0]).toMatch(new RegExp(`only 4 of 200 held-out errors lie above the potInitialQuantile 0.98 \\(need ${MIN_POT_PEAKS} to fit a tail\\); the quantile method was used instead`));
  });

  it('POT with enough peaks fits the tail, without notes', () => {
    const t = calibrateThreshold(errors(1000), { ...base, method: 'pot' });
    expect(t.method).toBe('pot');
    expect(t.pot?.peaks).toBeGreaterThanOrEqual(MIN_POT_PEAKS);
    expect(t.notes).toBeUndefined();
  });

  it('a sensitivity that puts the threshold below the mean normal error is called out', () => {
    expect(calibrateThreshold(errors(100), base).notes).toBeUndefined();
    const t = calibrateThreshold(errors(100), { ...base, sensitivity: 4 });
    expect(t.notes?.[0]).toMatch(/threshold 0\.3713 is below the mean held-out normal error 0\.5050 \(threshold.sensitivity 4\): most normal windows will exceed it/);
  });
});

describe('the rate method', () => {
  it('is refused on pooled errors, by name: it needs score sequences and their sampling interval', () => {
    expect(() => calibrateThreshold(errors(100), parseConfig('', 'x.yaml').threshold)).toThrow(/threshold.method rate .* is calibrated out of sample/);
  });
});
