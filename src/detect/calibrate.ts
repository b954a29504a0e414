import type { ThresholdConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import type { ThresholdState } from '../model/artifact.js';
import { potThreshold } from './pot.js';
import { quantileThreshold } from './threshold.js';

/**
 * Fewest excesses over the initial level that a POT tail is fitted on. With 2-5 peaks the
 * maximum-likelihood shape sits at its bound and the threshold is an artefact of the fit.
 */
export const MIN_POT_PEAKS = 10;

/**
 * The threshold of `threshold.method` on errors of held-out normal window errors, divided by
 * `threshold.sensitivity` so operators have one knob whatever the method. What a user should
 * know about it goes in `notes` (logged by train and calibrate): POT with too few peaks falls
 * back to the quantile method; a threshold below the mean normal error (a large sensitivity)
 * is kept but called out, since most normal windows then exceed it.
 */
export function calibrateThreshold(errors: ArrayLike<number>, cfg: ThresholdConfig): ThresholdState {
  const threshold = byMethod(errors, cfg);
  const { mean } = meanAndStd(errors);
  if (threshold.value < mean) {
    const note = `threshold ${threshold.value.toPrecision(4)} is below the mean held-out normal error ${mean.toPrecision(4)} (threshold.sensitivity ${cfg.sensitivity}): most normal windows will exceed it`;
    threshold.notes = [...(threshold.notes ?? []), note];
  }
  return threshold;
}

/**
 * The false alerts per entity per day the threshold is set for, or undefined when another
 * method sets it: `falseAlertsPerDay` when given (it has always overridden `method`), else 1
 * for method `rate`.
 */
export function falseAlertRate(cfg: ThresholdConfig): number | undefined {
  if (cfg.falseAlertsPerDay !== undefined) return cfg.falseAlertsPerDay;
  return cfg.method === 'rate' ? 1 : undefined;
}

function byMethod(errors: ArrayLike<number>, cfg: ThresholdConfig): ThresholdState {
  // A rate needs score sequences and their sampling interval (jobs/oos-calibrate.ts), not a
  // pooled bag of errors: reaching here with it is a wiring mistake, not a user's.
  if (falseAlertRate(cfg) !== undefined) throw new SeismoError('SEISMO_INTERNAL', 'threshold.method rate (falseAlertsPerDay) is calibrated out of sample (calibrateOutOfSample), not from pooled errors');
  const q = quantileThreshold(errors, cfg.quantile, cfg.multiplier);
  const sensitivity = cfg.sensitivity;
  if (cfg.method === 'pot') {
    const pot = potThreshold(errors, cfg.potInitialQuantile, cfg.potRisk);
    if (pot.peaks >= MIN_POT_PEAKS) {
      return { ...q, method: 'pot', value: pot.value / sensitivity, sensitivity, pot: { initial: pot.initial, peaks: pot.peaks, xi: pot.xi, sigma: pot.sigma, risk: cfg.potRisk } };
    }
    const note = `threshold.method pot: only ${pot.peaks} of ${errors.length} held-out errors lie above the potInitialQuantile ${cfg.potInitialQuantile} (need ${MIN_POT_PEAKS} to fit a tail); the quantile method was used instead (more calibration data or a lower potInitialQuantile gives more peaks)`;
    return { ...q, value: q.value / sensitivity, sensitivity, notes: [note] };
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

/** How a calibrated threshold was set, in words, from what the artifact recorded (not the config). */
export function describeThreshold(t: ThresholdState): string {
  const by = t.sensitivity !== undefined && t.sensitivity !== 1 ? `, divided by sensitivity ${t.sensitivity}` : '';
  const oos = t.outOfSample;
  const n = `${t.calibrationWindows} ${oos?.calibration === 'blocked-cv' ? 'cross-validated' : 'held-out'} windows`;
  if (oos?.falseAlertsPerDay !== undefined) return `${oos.falseAlertsPerDay} false alerts per entity per day over ${n}${t.method === 'pot' ? ' (tail fit)' : ''}${by}`;
  if (t.method === 'stddev' && t.stddev) return `mean + ${t.stddev.sigmas} std of ${n}${by}`;
  if (t.method === 'pot' && t.pot) return `tail fit (POT) of ${n} at risk ${t.pot.risk}${by}`;
  return `${t.multiplier} x q${t.quantile} of ${n}${by}`;
}
