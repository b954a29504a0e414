import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import { calibrateThreshold, requireUsableThreshold } from '../detect/calibrate.js';
import { sha256, type Artifact, type ThresholdState } from '../model/artifact.js';
import { buildModel, scoringModel } from '../model/variants.js';
import { splitChronological, trainAutoencoder, type EpochReport, type WindowSet } from '../model/train.js';
import { Scorer } from '../score/scorer.js';
import { activeBackend } from '../model/backend.js';
import { concatWindowSets, fitScalerExplained, loadReadings, readingsOutside, windowize, windowsOutside, type EntityWindows, type Intervals, type LoadedReadings } from './data.js';
import type * as tf from '@tensorflow/tfjs';
import { calibrateOutOfSample, wantsOutOfSample } from './oos-calibrate.js';
import { constantBaselineLoss, softwareVersions, windowMeanBaselineLoss } from '../model/provenance.js';

/**
 * Below these counts a model or a threshold is noise: training refuses rather than ship it.
 * The threshold is a high quantile of the held-out errors; of fewer than 5 it is just their maximum.
 */
export const MIN_TRAINING_WINDOWS = 10;
export const MIN_CALIBRATION_WINDOWS = 5;
/**
 * The training windows must also grow with the features: the model learns how they move
 * together, and 5 windows per feature is the least that shows it (a 9-feature model from 17
 * windows is what a stray key in one message produced, issue 14). Stride-1 windows share all
 * but one row, so each window brings `features` fresh values.
 */
export const MIN_WINDOWS_PER_FEATURE = 5;
/**
 * And with the model's size: at least one fresh training value per this many parameters. A
 * floor against the absurd (a 4.2 M-parameter stack on a few dozen windows), not a promise of
 * a good fit: the quality gate after training judges that. At 2,000 the largest shipped model
 * (config/skab-widerelu.yaml, 4.2 M parameters, 8 features) needs 260 windows, which the 400
 * training rows of a SKAB file give (313).
 */
export const MAX_PARAMETERS_PER_VALUE = 2000;

/** How many training windows a model of `parameters` on `features` features needs (see the constants above). */
export function requiredTrainingWindows(features: number, parameters: number): number {
  return Math.max(MIN_TRAINING_WINDOWS, MIN_WINDOWS_PER_FEATURE * features, Math.ceil(parameters / (MAX_PARAMETERS_PER_VALUE * features)));
}

/**
 * Why `windows` training and `heldOut` held-out windows are too few for this model, or undefined.
 * The message says what each bound asks for and how to get there.
 */
export function trainingSizeProblem(windows: number, heldOut: number, features: number, parameters: number, lookback: number): string | undefined {
  const need = requiredTrainingWindows(features, parameters);
  if (windows >= need && heldOut >= MIN_CALIBRATION_WINDOWS) return undefined;
  const why = [`at least ${MIN_TRAINING_WINDOWS}`, `${MIN_WINDOWS_PER_FEATURE} per feature (${features} features: ${MIN_WINDOWS_PER_FEATURE * features})`, `one per ${MAX_PARAMETERS_PER_VALUE} model parameters per feature (${parameters} parameters: ${Math.ceil(parameters / (MAX_PARAMETERS_PER_VALUE * features))})`];
  return (
    `too few windows: ${windows} to train on (need ${need}: ${why.join(', ')}) and ${heldOut} held out to calibrate on (need ${MIN_CALIBRATION_WINDOWS}); ` +
    `each entity gives one window per reading after its first ${lookback - 1} (window.lookback ${lookback}), minus warm-up windows and gaps; ` +
    `give more normal data, train on fewer features (\`features\`) or a smaller model (model.encoderUnits)`
  );
}

export interface TrainResult {
  artifact: Artifact;
  /**
   * Features with one value throughout the training windows. They are kept (scaled with
   * scale 1 around that value, so they read 0 in normal operation and any change later shows
   * in the feature's own units); training refuses when every feature is constant.
   */
  constantFeatures: string[];
  /** Features whose scale a few extreme training values set (extremeScaledFeatures): warned about. */
  extremeFeatures: string[];
  /** Held-out normal windows, kept for calibration. */
  validation: WindowSet;
  data: LoadedReadings;
  /** With `training.seasonal: auto` and no seasonal column chosen: why not. */
  seasonalReason?: string;
  /** With exclude intervals: per entity of the data they name, what they left out (see LeftOut). */
  leftOut?: LeftOut;
  /** Entities the exclude intervals name that have no readings in the data (nothing left out for them). */
  excludedNotInData?: string[];
}

/**
 * Per entity, its exclude intervals and how many of its readings (kept out of the scaler) and
 * training windows (stride 1, before the held-out split) they left out. An interval that
 * misses its entity's data leaves out nothing, which only these counts show.
 */
export type LeftOut = Record<string, { intervals: number; readings: number; windows: number }>;

/** Hash of the parts of the config that change what the model learns. */
export function configHash(cfg: SeismoConfig, features: string[]): string {
  // window.stride only thins out scoring (training uses every window): left out, so changing it
  // keeps the model, and hashes stay what they were before the option existed.
  const { stride: _scoringOnly, ...window } = cfg.window;
  return sha256(JSON.stringify({ features, window, model: cfg.model, scaler: cfg.training.scaler, relative: [cfg.training.relativeFeatures, cfg.training.relativeAutocorrelation], ...(cfg.training.seasonal !== 'none' ? { seasonal: [cfg.training.seasonal, cfg.training.seasonalAutocorrelation] } : {}), maxRows: cfg.training.maxRows ?? null })).slice(0, 16);
}

/**
 * Train on normal data: fit the scaler on training rows only, window each entity with the
 * streaming windower, hold out each entity's chronological tail, fit the autoencoder, then
 * calibrate the threshold on the held-out windows.
 */
export async function trainFromData(cfg: SeismoConfig, data: LoadedReadings, onEpoch?: (r: EpochReport) => void, exclude?: Intervals): Promise<TrainResult> {
  // Flagged stretches (e.g. from production flags) are not normal: keep them out of the scaler
  // and drop every window that touches them, so anomalies do not become the new baseline.
  const normal = exclude ? readingsOutside(data, exclude) : data;
  const { scaler, seasonalReason } = fitScalerExplained(normal, cfg.training, cfg.window.lookback);
  const windowed = windowize(data, scaler, cfg);
  const perEntity = windowed.map((e) => (exclude ? windowsOutside(e, exclude) : e));
  const leftOut = exclude ? leftOutCounts(exclude, data, normal, windowed, perEntity) : undefined;
  const excludedNotInData = exclude ? [...exclude.keys()].filter((entity) => !data.byEntity.has(entity)) : [];
  const trains: WindowSet[] = [];
  const vals: WindowSet[] = [];
  for (const e of perEntity) {
    if (e.set.count < 2) continue;
    const { train, validation } = splitChronological(e.set, cfg.model.validationSplit);
    trains.push(train);
    vals.push(validation);
  }
  const validationCounts = vals.map((v) => v.count);
  const T = cfg.window.lookback;
  const F = scaler.features.length;
  const train = concatWindowSets(trains, T, F);
  const validation = concatWindowSets(vals, T, F);
  // Checked before training (building the model costs little next to fitting it).
  const trained = buildModel(cfg.model, T, F);
  const tooFew = trainingSizeProblem(train.count, validation.count, F, trained.countParams(), T);
  if (tooFew !== undefined) {
    trained.dispose();
    throw new SeismoError('SEISMO_TRAINING_FAILED', tooFew);
  }
  const constantFeatures = constantColumns(train, scaler.features);
  const extremeFeatures = extremeScaledFeatures(train, scaler.features);
  if (constantFeatures.length === F) {
    trained.dispose();
    throw new SeismoError('SEISMO_TRAINING_FAILED', `every feature is constant in the training data (${scaler.features.join(', ')}): there is no normal variation to learn or to calibrate a threshold on`);
  }

  const metrics = await trainAutoencoder(trained, train, validation, cfg.model, onEpoch);
  // What is saved and scored (and calibrated on) is the model the daemon will run.
  const model = scoringModel(cfg.model, trained);
  const threshold = requireUsableThreshold(wantsOutOfSample(cfg) ? await calibrateOutOfSample(cfg, model, perEntity, vals) : calibrate(model, validation, cfg, validationCounts), 'the training data');
  const dataHash = sha256(new Uint8Array(train.data.buffer, train.data.byteOffset, train.data.byteLength)).slice(0, 16);
  // Same data and same config (seed included) train the same model, so they share a version;
  // anything else gets a new one.
  const version = `seismo-${new Date().toISOString().slice(0, 10)}-${sha256(`${dataHash}|${configHash(cfg, scaler.features)}`).slice(0, 8)}`;
  return {
    artifact: {
      model,
      scaler: scaler.state,
      threshold,
      manifest: {
        formatVersion: 1,
        version,
        created: new Date().toISOString(),
        // What readings carry; scaler.json adds any seasonal columns after these.
        features: scaler.inputFeatures,
        lookback: T,
        configHash: configHash(cfg, scaler.features),
        dataHash,
        backend: activeBackend()?.active ?? 'unknown',
        // Trivial reconstructions of the held-out windows, for judging what training achieved:
        // every value as the training mean (a model not below this learned nothing; `seismo
        // train` refuses to save it without --force), and each window as its own mean.
        training: { ...metrics, baselines: { constant: constantBaselineLoss(validation), windowMean: windowMeanBaselineLoss(validation) } },
        architecture: architectureOf(cfg.model),
        software: softwareVersions(),
        trainingData: dataRange(data),
      },
    },
    constantFeatures,
    extremeFeatures,
    validation,
    data,
    ...(cfg.training.seasonal !== 'none' && seasonalReason !== undefined ? { seasonalReason } : {}),
    ...(leftOut ? { leftOut } : {}),
    ...(excludedNotInData.length > 0 ? { excludedNotInData } : {}),
  };
}

/** LeftOut for the entities of `exclude` that the data has; `windowed` and `kept` are windowize's entities in the same order. */
function leftOutCounts(exclude: Intervals, data: LoadedReadings, normal: LoadedReadings, windowed: EntityWindows[], kept: EntityWindows[]): LeftOut {
  const out: LeftOut = {};
  for (const [entity, intervals] of exclude) {
    const readings = data.byEntity.get(entity);
    if (readings === undefined) continue;
    const i = windowed.findIndex((e) => e.entity === entity);
    out[entity] = {
      intervals: intervals.length,
      readings: readings.length - (normal.byEntity.get(entity)?.length ?? 0),
      windows: i < 0 ? 0 : (windowed[i] as EntityWindows).set.count - (kept[i] as EntityWindows).set.count,
    };
  }
  return out;
}

/** What the model was trained on: entities, readings and their time range (for `seismo models inspect`). */
function dataRange(data: LoadedReadings): { entities: number; readings: number; from: string; to: string } | undefined {
  let from = Infinity;
  let to = -Infinity;
  let readings = 0;
  for (const list of data.byEntity.values()) {
    for (const r of list) {
      readings++;
      if (r.ts < from) from = r.ts;
      if (r.ts > to) to = r.ts;
    }
  }
  if (readings === 0) return undefined;
  return { entities: data.byEntity.size, readings, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** The architecture fields that apply to the model kind (conv1d has no LSTM activations or bottleneck). */
function architectureOf(m: SeismoConfig['model']): Record<string, unknown> {
  if (m.kind === 'conv1d') return { kind: m.kind, encoderUnits: m.encoderUnits };
  if (m.kind === 'seq2seq') return { kind: m.kind, encoderUnits: m.encoderUnits, activation: m.activation, recurrentActivation: m.recurrentActivation };
  return { kind: m.kind, encoderUnits: m.encoderUnits, bottleneck: m.bottleneck, activation: m.activation, recurrentActivation: m.recurrentActivation };
}

/** Features whose scaled value spans (practically) nothing over every window of `set`. */
/**
 * Features whose training scale is set by a handful of extreme values: leaving out the 0.5 %
 * of values farthest from the median shrinks their spread over 1000-fold. One reading of 1e30
 * (a PLC sentinel) makes the scale so large that the feature's normal variation scales to about
 * nothing, and the model never notices that feature again. Training goes on; the user is told.
 */
export function extremeScaledFeatures(set: WindowSet, features: string[]): string[] {
  const F = set.features;
  const T = set.lookback;
  // Each reading once: the last step of each window (the windows overlap).
  const step = Math.max(1, Math.floor(set.count / 20_000));
  const out: string[] = [];
  for (let j = 0; j < F; j++) {
    const v: number[] = [];
    for (let i = 0; i < set.count; i += step) v.push(set.data[(i * T + T - 1) * F + j] as number);
    const sorted = [...v].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const byDistance = v.sort((a, b) => Math.abs(a - median) - Math.abs(b - median));
    const kept = byDistance.slice(0, byDistance.length - Math.max(1, Math.floor(byDistance.length * 0.005)));
    const spread = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    };
    const all = spread(byDistance);
    const rest = spread(kept);
    // rest 0: in float32 the other values all scaled to one number (their variation is gone).
    if (all > 0 && (rest === 0 || all / rest > 1000)) out.push(features[j] ?? `f${j}`);
  }
  return out;
}

function constantColumns(set: WindowSet, features: string[]): string[] {
  const F = set.features;
  const min = new Float64Array(F).fill(Infinity);
  const max = new Float64Array(F).fill(-Infinity);
  for (let i = 0; i < set.data.length; i++) {
    const j = i % F;
    const v = set.data[i] as number;
    if (v < (min[j] as number)) min[j] = v;
    if (v > (max[j] as number)) max[j] = v;
  }
  // Scaled units: a non-constant feature spans about its standard deviation (1) or its range (1).
  return features.filter((_, j) => (max[j] as number) - (min[j] as number) <= 1e-6);
}

export async function trainFromPath(cfg: SeismoConfig, path: string, onEpoch?: (r: EpochReport) => void): Promise<TrainResult> {
  return trainFromData(cfg, loadReadings(path, cfg, cfg.training.maxRows), onEpoch);
}

/**
 * Threshold from the reconstruction errors of held-out normal windows, by `threshold.method`.
 * `perEntity` gives the held-out windows' count per entity, in order (consecutive windows):
 * with alerts.smoothWindows > 1 the errors are smoothed per entity as the alert tracker does,
 * so the threshold is calibrated on the very statistic it is compared with.
 */
export function calibrate(model: tf.LayersModel, windows: WindowSet, cfg: SeismoConfig, perEntity: number[] = [windows.count]): ThresholdState {
  const scorer = new Scorer(model, windows.lookback, windows.features, cfg.scoring.maxBatch);
  try {
    const errors = scorer.scoreAll(windows.data, windows.count);
    return calibrateThreshold(smoothedPerEntity(errors, perEntity, cfg.alerts.smoothWindows), cfg.threshold);
  } finally {
    scorer.dispose();
  }
}

/**
 * Trailing means over `size` consecutive errors, each entity on its own. The first size - 1
 * means of an entity average fewer errors and are noisier than anything the tracker judges
 * once it has a full history, so they are left out when the entity has size windows or more.
 */
export function smoothedPerEntity(errors: Float32Array, perEntity: number[], size: number): Float32Array {
  if (size <= 1) return errors;
  const out: number[] = [];
  let from = 0;
  for (const count of perEntity) {
    const skip = count >= size ? size - 1 : 0;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      sum += errors[from + i] as number;
      if (i >= size) sum -= errors[from + i - size] as number;
      if (i >= skip) out.push(sum / Math.min(i + 1, size));
    }
    from += count;
  }
  return Float32Array.from(out);
}
