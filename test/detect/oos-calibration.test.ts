import { describe, expect, it } from 'vitest';
import { blockedFolds, rateThreshold, upcrossings, windowsPerDay } from '../../src/detect/oos-calibration.js';
import { mulberry32 } from '../../src/random.js';

/** A smoothed-looking score sequence: AR(1) noise, so exceedances come in runs as they do after smoothing. */
function ar1(n: number, seed: number, phi = 0.8): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n);
  let x = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
    x = phi * x + g;
    out[i] = 1 + 0.1 * x;
  }
  return out;
}

describe('blocked folds', () => {
  it('k chronological blocks cover every window once; training blocks skip a purge around the held-out block', () => {
    const folds = blockedFolds(100, 3, 5);
    expect(folds.map((f) => f.heldOut)).toEqual([{ from: 0, to: 33 }, { from: 33, to: 67 }, { from: 67, to: 100 }]);
    expect(folds[0]?.train).toEqual([{ from: 38, to: 100 }]);
    expect(folds[1]?.train).toEqual([{ from: 0, to: 28 }, { from: 72, to: 100 }]);
    expect(folds[2]?.train).toEqual([{ from: 0, to: 62 }]);
    for (const f of folds) for (const b of f.train) expect(b.to <= f.heldOut.from - 5 || b.from >= f.heldOut.to + 5).toBe(true);
  });

  it('rejects k < 2 and too few windows with a message naming the problem', () => {
    expect(() => blockedFolds(100, 1, 0)).toThrow(/k must be/);
    expect(() => blockedFolds(2, 3, 0)).toThrow(/2 windows cannot make 3 blocks/);
  });
});

describe('rate threshold (false alerts per entity per day)', () => {
  it('reads windows per day off the median spacing, irregular gaps and repeats ignored', () => {
    expect(windowsPerDay([0, 300_000, 600_000, 900_000, 5_000_000, 5_300_000])).toBeCloseTo(288);
    expect(windowsPerDay([0, 0, 60_000, 120_000])).toBeCloseTo(1440);
  });

  it('counts up-crossings per sequence', () => {
    expect(upcrossings([[0, 2, 2, 0, 2], [2, 0]], 1)).toBe(3);
  });

  it('with enough held-out days, the realised crossing count on that data is at most the target', () => {
    const seqs = [ar1(20_000, 1), ar1(20_000, 2)];
    const perDay = 288; // 5-minute sampling: 40 000 windows = 139 days
    for (const rate of [0.1, 0.2, 1]) {
      const r = rateThreshold(seqs, perDay, rate, 0.98);
      expect(r.how).toBe('empirical');
      const days = 40_000 / perDay;
      expect(upcrossings(seqs, r.value)).toBeLessThanOrEqual(rate * days);
      // ...and not needlessly high: a level a little lower crosses more often than allowed.
      expect(upcrossings(seqs, r.value * 0.995)).toBeGreaterThan(rate * days * 0.8);
    }
  });

  it('is monotone: fewer false alerts per day means a higher threshold, also when extrapolated by POT', () => {
    const long = [ar1(20_000, 3)];
    const short = [ar1(600, 4)]; // ~2 days: 0.1 / day cannot be counted, only extrapolated
    for (const seqs of [long, short]) {
      const levels = [2, 0.5, 0.1, 0.02, 0.005].map((rate) => rateThreshold(seqs, 288, rate, 0.9).value);
      for (let i = 1; i < levels.length; i++) expect(levels[i] as number).toBeGreaterThanOrEqual(levels[i - 1] as number);
      expect(levels[levels.length - 1] as number).toBeGreaterThan(levels[0] as number);
    }
    const r = rateThreshold(short, 288, 0.01, 0.9);
    expect(r.how).toBe('pot');
    // A rate well below one alert over the held-out stretch sits above every held-out score.
    expect(r.value).toBeGreaterThan(Math.max(...(short[0] as Float32Array)));
  });

  it('the extrapolated rate matches the realised one on fresh data from the same process', () => {
    // Calibrate on 3 days (too short to count 0.5 / day), check on 300 fresh days, 6 calibration draws.
    const fresh = [ar1(86_400, 99)];
    const realised = [5, 7, 9, 11, 13, 15].map((seed) => {
      const r = rateThreshold([ar1(864, seed)], 288, 0.5, 0.9);
      expect(r.how).toBe('pot');
      return upcrossings(fresh, r.value) / 300;
    });
    const mean = realised.reduce((a, b) => a + b, 0) / realised.length;
    for (const x of realised) expect(x).toBeLessThan(1.5);
    expect(mean).toBeGreaterThan(0.2);
    expect(mean).toBeLessThan(1);
  });

  it('rejects a non-positive rate', () => {
    expect(() => rateThreshold([[1, 2]], 288, 0, 0.9)).toThrow(/alertsPerDay/);
  });
});
