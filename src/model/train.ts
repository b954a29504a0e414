import * as tf from '@tensorflow/tfjs';
import { SeismoError } from '../errors.js';
import type { ModelConfig } from '../config/schema.js';
import { mulberry32, shuffleInPlace } from '../random.js';
import { NativeTrainer } from './native-train.js';

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

/** `block-lstm`: native BlockLSTMV2 forward + BlockLSTMGradV2 backward. `layers`: tfjs-layers' model.fit. */
export type TrainingPath = 'block-lstm' | 'layers';

export interface TrainingMetrics {
  path: TrainingPath;
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

export interface TrainOptions {
  /** `auto` (default): native block-lstm training when the backend and model allow it. */
  path?: 'auto' | 'layers';
}

/**
 * Fits the autoencoder to reproduce its input (normal data only). Early stopping on val loss
 * restores the best epoch's weights, which tfjs's own callback does not do. Both paths see the
 * same batches in the same order and use Adam with the configured learning rate; the native one
 * runs each LSTM layer as one TensorFlow op each way, about 20x fewer ops per step.
 */
export async function trainAutoencoder(
  model: tf.LayersModel,
  train: WindowSet,
  validation: WindowSet,
  cfg: TrainingConfig,
  onEpoch: (report: EpochReport) => void = () => {},
  options: TrainOptions = {},
): Promise<TrainingMetrics> {
  const started = performance.now();
  const order = shuffleInPlace(Array.from({ length: train.count }, (_, i) => i), mulberry32(cfg.seed));
  const trainer = options.path === 'layers' ? undefined : NativeTrainer.create(model);
  if (trainer !== undefined && typeof trainer !== 'string') {
    try {
      return { ...(await fitNative(trainer, model, train, validation, order, cfg, onEpoch)), seconds: (performance.now() - started) / 1000 };
    } finally {
      trainer.dispose();
    }
  }
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
    path: 'layers',
    epochsRun: lastEpoch,
    bestEpoch: best.epoch,
    loss: best.loss,
    valLoss: best.valLoss,
    seconds: (performance.now() - started) / 1000,
    trainWindows: train.count,
    validationWindows: validation.count,
  };
}

/**
 * The native training loop: same batches (the seeded order, cut in batchSize slices, last one
 * partial), same per-epoch loss (batch losses weighted by batch size) and val loss as model.fit,
 * same early stopping. The layers model receives the weights whenever val loss improves, so it
 * holds the best epoch's weights at the end without keeping copies.
 */
async function fitNative(
  trainer: NativeTrainer,
  model: tf.LayersModel,
  train: WindowSet,
  validation: WindowSet,
  order: number[],
  cfg: TrainingConfig,
  onEpoch: (report: EpochReport) => void,
): Promise<Omit<TrainingMetrics, 'seconds'>> {
  // Time-major once, so each batch is one slice and BlockLSTM needs no transposes.
  const timeMajor = (set: WindowSet, o?: number[]) => tf.tidy(() => tf.transpose(toTensor(set, o), [1, 0, 2]) as tf.Tensor3D);
  const xv = timeMajor(validation);
  const xs = timeMajor(train, order);
  const batches: tf.Tensor3D[] = [];
  for (let from = 0; from < train.count; from += cfg.batchSize) {
    const size = Math.min(cfg.batchSize, train.count - from);
    batches.push(tf.slice(xs, [0, from, 0], [train.lookback, size, train.features]));
  }
  xs.dispose();
  // A fresh Adam with the compiled optimizer's settings: its moments are keyed by variable
  // position, so it must not be shared with the layers model's own optimizer.
  const adam = (model.optimizer?.getConfig() ?? {}) as { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number };
  const optimizer = tf.train.adam(adam.learningRate ?? 0.001, adam.beta1, adam.beta2, adam.epsilon);
  const variables = trainer.variables;
  let best = { valLoss: Infinity, epoch: -1, loss: NaN };
  let epoch = 0;
  try {
    while (epoch < cfg.epochs) {
      const epochStart = performance.now();
      epoch++;
      const weighted: tf.Tensor[] = [];
      let loss: number;
      try {
        for (const xb of batches) {
          const cost = optimizer.minimize(() => trainer.loss(xb), true, variables) as tf.Scalar;
          weighted.push(tf.mul(cost, xb.shape[1]));
          cost.dispose();
          // Let timers and signal handlers run between batches, as model.fit does.
          await new Promise((resolve) => setImmediate(resolve));
        }
        // One download per epoch: the batch losses stay on the device until here.
        loss = tf.tidy(() => tf.div(tf.addN(weighted), train.count).dataSync()[0] as number);
      } finally {
        tf.dispose(weighted);
      }
      const valLoss = tf.tidy(() => trainer.evaluate(xv).dataSync()[0] as number);
      if (!Number.isFinite(loss)) throw new SeismoError('SEISMO_TRAINING_FAILED', `training loss became ${loss} at epoch ${epoch}`);
      if (valLoss < best.valLoss) {
        best = { valLoss, epoch, loss };
        trainer.writeBack();
      }
      onEpoch({ epoch, epochs: cfg.epochs, loss, valLoss, seconds: (performance.now() - epochStart) / 1000 });
      if (epoch - best.epoch >= cfg.patience) break;
    }
  } finally {
    optimizer.dispose();
    tf.dispose([...batches, xv]);
  }
  return { path: 'block-lstm', epochsRun: epoch, bestEpoch: best.epoch, loss: best.loss, valLoss: best.valLoss, trainWindows: train.count, validationWindows: validation.count };
}
