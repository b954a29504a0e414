import { describe, expect, it } from 'vitest';
import { calibrateThreshold } from '../../src/detect/calibrate.js';
import type { ThresholdConfig } from '../../src/config/schema.js';
import { mulberry32 } from '../../src/random.js';

const base: ThresholdConfig = { quantile: 0.99, multiplier: 1.5, method: 'quantile', sigmas: 5, potInitialQuantile: 0.98, potRisk: 0.001, sensitivity: 1 };
const errors = Array.from({ length: 101 }, (_, i) => i / 100);

describe('threshold calibration', () => {
  it('quantile: multiplier x quantile, divided by the sensitivity', () => {
    expect(calibrateThreshold(errors, base).value).toBeCloseTo(1.485);
    expect(calibrateThreshold(errors, { ...base, sensitivity: 2 }).value).toBeCloseTo(0.7425);
  });

  it('pot: the fitted tail quantile, recorded in the state', () => {
    const rng = mulberry32(9);
    const exp = Array.from({ length: 20000 }, () => -Math.log(1 - rng()));
    const t = calibrateThreshold(exp, { ...base, method: 'pot', potRisk: 1e-4 });
    expect(t.method).toBe('pot');
    // Exp(1): ln(1e4) = 9.21
    expect(t.value).toBeGreaterThan(8.3);
    expect(t.value).toBeLessThan(10.2);
    expect(t.pot?.peaks).toBe(400);
    expect(calibrateThreshold(exp, { ...base, method: 'pot', potRisk: 1e-4, sensitivity: 2 }).value).toBeCloseTo(t.value / 2);
  });

  it('stddev: mean + sigmas x sample standard deviation, divided by the sensitivity', () => {
    // 0..1 in steps of 0.01: mean 0.5, sample std sqrt(sum((i/100 - 0.5)^2) / 100) = 0.293002 (population std would be 0.291548).
    const t = calibrateThreshold(errors, { ...base, method: 'stddev', sigmas: 3 });
    expect(t.method).toBe('stddev');
    expect(t.stddev?.std).toBeCloseTo(0.293002, 5);
    expect(t.value).toBeCloseTo(0.5 + 3 * 0.293002, 5);
    expect(calibrateThreshold(errors, { ...base, method: 'stddev', sigmas: 3, sensitivity: 2 }).value).toBeCloseTo(t.value / 2, 10);
  });
});
