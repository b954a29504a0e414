import { describe, expect, it } from 'vitest';
import { fitGpd, potThreshold, Spot } from '../../src/detect/pot.js';
import { quantile } from '../../src/detect/threshold.js';
import { mulberry32 } from '../../src/random.js';

const exponential = (n: number, seed: number, rate = 1) => {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => -Math.log(1 - rng()) / rate);
};

describe('peaks over threshold', () => {
  it('recovers the shape and scale of generalized Pareto samples', () => {
    const rng = mulberry32(3);
    const xi = 0.3;
    const sigma = 2;
    // Inverse CDF of GPD(xi, sigma).
    const y = Array.from({ length: 20000 }, () => (sigma / xi) * ((1 - rng()) ** -xi - 1));
    const fit = fitGpd(y);
    expect(fit.xi).toBeGreaterThan(0.25);
    expect(fit.xi).toBeLessThan(0.35);
    expect(fit.sigma).toBeGreaterThan(1.85);
    expect(fit.sigma).toBeLessThan(2.15);
  });

  it('finds a bounded (negative-shape) tail: uniform excesses have xi = -1', () => {
    const rng = mulberry32(5);
    const fit = fitGpd(Array.from({ length: 5000 }, () => rng()));
    expect(fit.xi).toBeLessThan(-0.8);
  });

  it('on exponential data the POT threshold is the analytical quantile, beyond the empirical range', () => {
    // Exp(rate 2): the level exceeded with probability 1e-5 is ln(1e5) / 2 = 5.756.
    const data = exponential(20000, 11, 2);
    const t = potThreshold(data, 0.98, 1e-5);
    expect(t.xi).toBeGreaterThan(-0.1);
    expect(t.xi).toBeLessThan(0.1);
    expect(t.value).toBeGreaterThan(5.756 * 0.9);
    expect(t.value).toBeLessThan(5.756 * 1.1);
    expect(t.peaks).toBe(400);
  });

  it('falls back to the empirical quantile when the risk is not in the fitted tail', () => {
    const data = exponential(1000, 12);
    expect(potThreshold(data, 0.98, 0.1).value).toBeCloseTo(quantile(data, 0.9));
  });
});

describe('SPOT / DSPOT', () => {
  it('raises alarms on a normal stream at about the chosen risk, and always on a gross outlier', () => {
    const data = exponential(40000, 21);
    const spot = new Spot(data.slice(0, 5000), 1e-3);
    const alarms = data.slice(5000).filter((v) => spot.step(v)).length;
    // 35000 values at risk 1e-3: 35 expected.
    expect(alarms).toBeGreaterThan(10);
    expect(alarms).toBeLessThan(90);
    expect(spot.step(100)).toBe(true);
  });

  it('DSPOT follows a drifting level that makes plain SPOT alarm all the time', () => {
    const noise = exponential(5000, 31);
    const drifting = noise.map((v, i) => v + i * 0.005);
    const spot = new Spot(drifting.slice(0, 2000), 1e-3);
    const dspot = new Spot(drifting.slice(0, 2000), 1e-3, 0.98, 50);
    const spotAlarms = drifting.slice(2000).filter((v) => spot.step(v)).length;
    const dspotAlarms = drifting.slice(2000).filter((v) => dspot.step(v)).length;
    expect(spotAlarms).toBeGreaterThan(1000);
    expect(dspotAlarms).toBeLessThan(30);
  });
});
