import * as tf from '@tensorflow/tfjs';
import { SeismoError } from '../errors.js';
import type { ModelConfig } from '../config/schema.js';
import { mulberry32, shuffleInPlace } from '../random.js';

export interface WindowSet {
  /** Row-major [count][lookback][features]. */
  data: Float32Array;
  count: number;
  lookback: number;
  features: number;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number;
  seconds: number;
}

export interface TrainingMetrics {
  epochsRun: number;
  bestEpoch: number;
  loss: number;
  valLoss: number;
  seconds: number;
  trainWindows: number;
  validationWindows: number;
}

export type TrainingConfig = Pick<ModelConfig, 'epochs' | 'batchSize' | 'validationSplit' | 'patience' | 'seed'>;

export function sliceWindows(set: WindowSet, from: number, to: number): WindowSet {
  const size = set.lookback * set.features;
  return { ...set, data: set.data.subarray(from * size, to * size), count: to - from };
}

/** Splits chronologically: the tail is held out, as it would be "the future" for the model. */
export function splitChronological(set: WindowSet, validationSplit: number): { train: WindowSet; validation: WindowSet } {
  const nVal = Math.max(1, Math.round(set.count * validationSplit));
  if (set.count - nVal < 1) throw new SeismoError('SEISMO_TRAINING_FAILED', `too few windows to train: ${set.count} (need at least 2)`);
  return { train: sliceWindows(set, 0, set.count - nVal), validation: sliceWindows(set, set.count - nVal, set.count) };
}

function toTensor(set: WindowSet, order?: number[]): tf.Tensor3D {
  if (order === undefined) return tf.tensor3d(set.data, [set.count, set.lookback, set.features]);
  const size = set.lookback * set.features;
  const out = new Float32Array(set.count * size);
  order.forEach((src, dst) => out.set(set.data.subarray(src * size, (src + 1) * size), dst * size));
  return tf.tensor3d(out, [set.count, set.lookback, set.features]);
}

/**
 * Fits the autoencoder to reproduce its input (normal data only). Early stopping on val loss
 * restores the best epoch's weights, which tfjs's own callback does not do.
 */
export async function trainAutoencoder(
  model: tf.LayersModel,
  train: WindowSet,
  validation: WindowSet,
  cfg: TrainingConfig,
  onEpoch: (report: EpochReport) => void = () => {},
): Promise<TrainingMetrics> {
  const started = performance.now();
  const order = shuffleInPlace(Array.from({ length: train.count }, (_, i) => i), mulberry32(cfg.seed));
  const xs = toTensor(train, order);
  const xv = toTensor(validation);
  let best = { valLoss: Infinity, epoch: -1, loss: NaN, weights: [] as tf.Tensor[] };
  let lastEpoch = 0;
  let epochStart = performance.now();
  try {
    await model.fit(xs, xs, {
      epochs: cfg.epochs,
      batchSize: cfg.batchSize,
      validationData: [xv, xv],
      shuffle: false,
      verbose: 0,
      callbacks: {
        onEpochBegin: async () => {
          epochStart = performance.now();
        },
        onEpochEnd: async (epoch, logs) => {
          const loss = Number(logs?.loss);
          const valLoss = Number(logs?.val_loss);
          lastEpoch = epoch + 1;
          if (!Number.isFinite(loss)) throw new SeismoError('SEISMO_TRAINING_FAILED', `training loss became ${loss} at epoch ${epoch + 1}`);
          onEpoch({ epoch: epoch + 1, epochs: cfg.epochs, loss, valLoss, seconds: (performance.now() - epochStart) / 1000 });
          if (valLoss < best.valLoss) {
            best.weights.forEach((w) => w.dispose());
            best = { valLoss, epoch: epoch + 1, loss, weights: model.getWeights().map((w) => w.clone()) };
          } else if (epoch + 1 - best.epoch >= cfg.patience) {
            model.stopTraining = true;
          }
        },
      },
    });
    if (best.weights.length > 0) model.setWeights(best.weights);
  } finally {
    best.weights.forEach((w) => w.dispose());
    xs.dispose();
    xv.dispose();
  }
  return {
    epochsRun: lastEpoch,
    bestEpoch: best.epoch,
    loss: best.loss,
    valLoss: best.valLoss,
    seconds: (performance.now() - started) / 1000,
    trainWindows: train.count,
    validationWindows: validation.count,
  };
}
