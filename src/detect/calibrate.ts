import type { ThresholdConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
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

/**
 * Refuses a threshold the daemon could not use: 0 (every held-out window reconstructed exactly,
 * e.g. constant data: any noise at all would then alarm), negative, NaN or infinite (non-finite
 * errors). `what` says where the errors came from, for the message.
 */
export function requireUsableThreshold(threshold: ThresholdState, what: string): ThresholdState {
  const v = threshold.value;
  if (Number.isFinite(v) && v > 0) return threshold;
  throw new SeismoError(
    'SEISMO_TRAINING_FAILED',
    `calibrated threshold is ${v} (method ${threshold.method}, ${threshold.calibrationWindows} held-out window errors of ${what}); a threshold must be finite and > 0: ` +
      (Number.isFinite(v) ? 'the model reconstructs the held-out windows exactly, so the data has no normal variation to calibrate on (constant or near-constant series); train on data with normal variation' : 'the reconstruction errors are not finite; check the data for extreme values'),
  );
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
