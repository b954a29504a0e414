import { describe, expect, it } from 'vitest';
import { describeThreshold } from '../../src/detect/calibrate.js';
import type { ThresholdState } from '../../src/model/artifact.js';

const base: ThresholdState = { value: 0.3, method: 'quantile', quantile: 0.99, multiplier: 1.5, base: 0.2, calibrationWindows: 70 };

describe('describeThreshold', () => {
  it('says what the artifact recorded, not what a config would say', () => {
    expect(describeThreshold(base)).toBe('1.5 x q0.99 of 70 held-out windows');
    expect(describeThreshold({ ...base, method: 'stddev', stddev: { mean: 0.1, std: 0.04, sigmas: 5 } })).toBe('mean + 5 std of 70 held-out windows');
    expect(describeThreshold({ ...base, method: 'pot', pot: { initial: 0.2, peaks: 9, xi: 0.1, sigma: 0.05, risk: 0.001 }, sensitivity: 2 })).toBe('tail fit (POT) of 70 held-out windows at risk 0.001, divided by sensitivity 2');
  });

  it('names a false-alert rate and cross-validated windows (a rate threshold is no multiple of a quantile)', () => {
    const rated: ThresholdState = { ...base, outOfSample: { calibration: 'blocked-cv', falseAlertsPerDay: 24 } };
    expect(describeThreshold(rated)).toBe('24 false alerts per entity per day over 70 cross-validated windows');
    expect(describeThreshold({ ...rated, method: 'pot', pot: { initial: 0.2, peaks: 9, xi: 0, sigma: 0.05, risk: 0.001 } })).toBe('24 false alerts per entity per day over 70 cross-validated windows (tail fit)');
  });
});
