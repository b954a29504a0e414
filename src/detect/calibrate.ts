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
  return { ...q, value: q.value / sensitivity, sensitivity };
}
