import type { ThresholdConfig } from '../config/schema.js';
import type { ThresholdState } from '../model/artifact.js';
import { potThreshold } from './pot.js';
import { quantileThreshold } from './threshold.js';

/**
 * The threshold of `threshold.method` on errors of held-out normal windows, divided by
 * `threshold.sensitivity` so operators have one knob whatever the method.
 */
export function calibrateThreshold(errors: ArrayLike<number>, cfg: ThresholdConfig): ThresholdState {
  const q = quantileThreshold(errors, cfg.quantile, cfg.multiplier);
  const sensitivity = cfg.sensitivity;
  if (cfg.method === 'pot') {
    const pot = potThreshold(errors, cfg.potInitialQuantile, cfg.potRisk);
    return { ...q, method: 'pot', value: pot.value / sensitivity, sensitivity, pot: { initial: pot.initial, peaks: pot.peaks, xi: pot.xi, sigma: pot.sigma, risk: cfg.potRisk } };
  }
  if (cfg.method === 'stddev') {
    const { mean, std } = meanAndStd(errors);
    return { ...q, method: 'stddev', value: (mean + cfg.sigmas * std) / sensitivity, sensitivity, stddev: { mean, std, sigmas: cfg.sigmas } };
  }
  return { ...q, value: q.value / sensitivity, sensitivity };
}

/** Mean and sample standard deviation (n - 1). */
function meanAndStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += ((values[i] as number) - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(sq / (n - 1)) : 0 };
}
