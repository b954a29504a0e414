import * as tf from '@tensorflow/tfjs';
import { SEISMO_VERSION } from '../version.js';
import type { WindowSet } from './train.js';

/** What made an artifact: enough to tell two artifacts' toolchains apart when their scores differ. */
export interface Software {
  seismo: string;
  tfjs: string;
  /** libtensorflow's version on the native backend; absent on wasm/cpu. */
  tensorflow?: string;
  node: string;
}

export function softwareVersions(): Software {
  return { seismo: SEISMO_VERSION, tfjs: tf.version_core, ...(nativeTensorflowVersion() ? { tensorflow: nativeTensorflowVersion() as string } : {}), node: process.versions.node };
}

/** libtensorflow's version (the addon's TF_Version) when tfjs-node is the active backend. */
function nativeTensorflowVersion(): string | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }).binding;
  return typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
}

/**
 * The loss of a model that did not learn anything useful: each window reconstructed as its
 * per-feature mean over the window's timesteps (a flat line at the right level). A trained
 * autoencoder that does no better than this has learned nothing about the windows' shape.
 */
export function windowMeanBaselineLoss(set: WindowSet): number {
  const { lookback: T, features: F } = set;
  let total = 0;
  const mean = new Float64Array(F);
  for (let w = 0; w < set.count; w++) {
    const base = w * T * F;
    mean.fill(0);
    for (let t = 0; t < T; t++) for (let j = 0; j < F; j++) mean[j] = (mean[j] as number) + (set.data[base + t * F + j] as number) / T;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < F; j++) {
        const d = (set.data[base + t * F + j] as number) - (mean[j] as number);
        total += d * d;
      }
    }
  }
  return set.count === 0 ? NaN : total / (set.count * T * F);
}

/**
 * The loss of a model that learned nothing at all: every value reconstructed as the training
 * mean (0 after scaling). A model whose validation loss is not below this did not learn.
 */
export function constantBaselineLoss(set: WindowSet): number {
  let total = 0;
  const n = set.count * set.lookback * set.features;
  for (let i = 0; i < n; i++) total += (set.data[i] as number) ** 2;
  return n === 0 ? NaN : total / n;
}

/** Validation loss must be at least this much below the constant baseline for a model to count as trained. */
export const MIN_IMPROVEMENT = 0.02;

/**
 * Why a trained model must not be saved (its validation loss is not clearly below that of
 * reconstructing every value as the training mean: it learned nothing), or undefined.
 * Measured: the SKAB LSTM configs reach 0.80-0.84 of that baseline; the wide relu stack that
 * stopped at its first epoch 1.00.
 */
export function trainingQualityProblem(training: { valLoss: number; bestEpoch: number; epochsRun: number; baselines?: { constant: number } }): string | undefined {
  const constant = training.baselines?.constant;
  if (constant === undefined || !(constant > 0)) return undefined;
  const ratio = training.valLoss / constant;
  if (ratio < 1 - MIN_IMPROVEMENT) return undefined;
  return `the model did not learn: its validation loss ${training.valLoss.toPrecision(4)} is ${ratio.toFixed(3)} x that of reconstructing every value as the training mean (${constant.toPrecision(4)}; it must be below ${1 - MIN_IMPROVEMENT} x), best epoch ${training.bestEpoch} of ${training.epochsRun}. Try a smaller learning rate, tanh activations or another model.kind; --force saves it anyway`;
}
