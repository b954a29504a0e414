import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SeismoError } from '../errors.js';
import type { ScalerState } from '../window/scaler.js';
import type { TrainingMetrics } from './train.js';
import type { Software } from './provenance.js';
import { quietOrthogonalInitializerWarning } from './tfjs-warnings.js';
import { checkManifest, checkModelShapes, checkModelJson, checkWeightBytes, checkScaler, checkThreshold, readArtifactJson, type ModelJson } from './artifact-check.js';
// Registers the seq2seq variant's custom layers, so its artifacts load wherever artifacts load.
import './seq2seq.js';

quietOrthogonalInitializerWarning();

export { ARTIFACT_FORMAT_VERSION } from './artifact-check.js';

export interface ThresholdState {
  value: number;
  method: 'quantile' | 'pot' | 'stddev';
  quantile: number;
  multiplier: number;
  /** The quantile of held-out errors before the multiplier. */
  base: number;
  calibrationWindows: number;
  /** `threshold.sensitivity` the value was divided by (absent: 1). */
  sensitivity?: number;
  /** `stddev`: mean and sample standard deviation of the calibration errors, and the multiple of it added. */
  stddev?: { mean: number; std: number; sigmas: number };
  /** `pot`: the fitted tail (initial level, peaks above it, GPD shape and scale, risk). */
  pot?: { initial: number; peaks: number; xi: number; sigma: number; risk: number };
  /** Out-of-sample calibration: which held-out scores, and the false-alert rate asked for if any. */
  outOfSample?: { calibration: 'holdout' | 'blocked-cv'; falseAlertsPerDay?: number };
  /** What calibration wants the user to know (a method fallback, a threshold below the mean normal error). */
  notes?: string[];
}

export interface Manifest {
  formatVersion: number;
  /** Human-readable model version carried on every flag, e.g. seismo-2026-11-23-1a2b3c4d. */
  version: string;
  created: string;
  features: string[];
  lookback: number;
  configHash: string;
  dataHash: string;
  backend: string;
  training: TrainingMetrics & { baselines?: { constant: number; windowMean: number } };
  architecture: unknown;
  /** Versions that made the artifact (absent in artifacts made before they were recorded). */
  software?: Software;
  /** The training readings: entities, count and time range (absent in older artifacts). */
  trainingData?: { entities: number; readings: number; from: string; to: string } | undefined;
  /** SHA-256 of weights.bin, written by saveArtifact (absent in older artifacts). */
  weightsSha256?: string;
}

export interface Artifact {
  model: tf.LayersModel;
  scaler: ScalerState;
  threshold: ThresholdState | undefined;
  manifest: Manifest;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Writes the artifact directory: model.json + weights.bin (tfjs layers format), scaler.json,
 * threshold.json (after calibration) and manifest.json. Written to a temporary sibling and
 * renamed, so a reader never sees half an artifact.
 */
/**
 * Throws unless `dir` may be replaced by a new artifact: missing, an empty directory, a symlink
 * (the versioned layout: only the link is replaced), or an artifact already (manifest.json). A
 * save replaces the directory whole, so `-o` pointed at a data directory, a file or the working
 * directory would delete it: refused before any training starts.
 */
export function checkArtifactTarget(dir: string): void {
  const full = resolve(dir);
  const fromCwd = relative(full, process.cwd());
  if (fromCwd === '' || !fromCwd.startsWith('..')) throw new SeismoError('SEISMO_CONFIG_INVALID', `artifact directory ${dir}: it is the working directory or one of its parents; saving a model replaces the directory whole. Choose a new or empty directory (-o or artifactDir)`);
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return; // missing: created by the save
  }
  if (st.isSymbolicLink()) return;
  if (!st.isDirectory()) throw new SeismoError('SEISMO_CONFIG_INVALID', `artifact directory ${dir}: a file is there; saving a model would replace it. Choose a new or empty directory (-o or artifactDir)`);
  const entries = readdirSync(full);
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `artifact directory ${dir}: holds ${entries.length} entries (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) and no manifest.json, so it is not a Seismo model; saving one replaces the directory whole. Choose a new or empty directory (-o or artifactDir)`);
  }
}

export async function saveArtifact(dir: string, artifact: Artifact): Promise<void> {
  checkArtifactTarget(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let weightsSha256: string | undefined;
  await artifact.model.save(
    tf.io.withSaveHandler(async (art) => {
      const weightData = art.weightData instanceof ArrayBuffer ? art.weightData : tf.io.concatenateArrayBuffers(art.weightData ?? []);
      const bytes = new Uint8Array(weightData);
      writeFileSync(join(tmp, 'weights.bin'), bytes);
      weightsSha256 = sha256(bytes);
      writeFileSync(join(tmp, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  writeFileSync(join(tmp, 'scaler.json'), JSON.stringify(artifact.scaler, null, 2));
  if (artifact.threshold) writeFileSync(join(tmp, 'threshold.json'), JSON.stringify(artifact.threshold, null, 2));
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ ...artifact.manifest, ...(weightsSha256 ? { weightsSha256 } : {}) }, null, 2));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(tmp, dir);
}

/** Updates only the threshold of an existing artifact (calibration). */
export function writeThreshold(dir: string, threshold: ThresholdState): void {
  writeFileSync(join(dir, 'threshold.json'), JSON.stringify(threshold, null, 2));
}

export interface Expectations {
  features?: string[] | undefined;
  lookback?: number;
  /** Columns the data actually has: every model feature must be among them. */
  dataFeatures?: string[];
}

/**
 * Loads and checks an artifact; every incompatibility is named in the error. Every file is read
 * and validated before any tensor exists (so a refused artifact costs no memory), and a model
 * whose shapes do not fit is disposed before the error is thrown: a failed load leaves nothing
 * behind. The model is not compiled: scoring needs no optimizer, and a compiled one would keep
 * the optimizer's tensors alive after model.dispose() (tfjs does not dispose optimizers it was handed).
 */
export async function loadArtifact(dir: string, expect: Expectations = {}): Promise<Artifact> {
  if (!existsSync(join(dir, 'manifest.json'))) throw new SeismoError('SEISMO_MODEL_MISSING', `no model artifact at ${dir} (missing manifest.json); run \`seismo train\` first`);
  const manifest = checkManifest(dir, readArtifactJson(dir, 'manifest.json'));
  const problems: string[] = [];
  if (expect.lookback !== undefined && expect.lookback !== manifest.lookback) problems.push(`lookback: artifact ${manifest.lookback}, config ${expect.lookback}`);
  if (expect.features !== undefined && expect.features.join('\u0000') !== manifest.features.join('\u0000')) {
    problems.push(`features: artifact [${manifest.features.join(', ')}], config [${expect.features.join(', ')}]`);
  }
  if (expect.dataFeatures !== undefined) {
    const missing = manifest.features.filter((f) => !expect.dataFeatures?.includes(f));
    if (missing.length > 0) problems.push(`data lacks feature${missing.length > 1 ? 's' : ''} the model needs: ${missing.join(', ')}`);
  }
  if (problems.length > 0) throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `model artifact ${dir} does not fit: ${problems.join('; ')}`);

  const scaler = checkScaler(dir, readArtifactJson(dir, 'scaler.json'), manifest);
  const threshold = existsSync(join(dir, 'threshold.json')) ? checkThreshold(dir, readArtifactJson(dir, 'threshold.json')) : undefined;
  const modelJson: ModelJson = checkModelJson(dir, readArtifactJson(dir, 'model.json'));
  const weightsPath = join(dir, 'weights.bin');
  if (!existsSync(weightsPath)) throw new SeismoError('SEISMO_MODEL_MISSING', `model artifact ${dir} is incomplete: ${weightsPath} is missing`);
  const weights = readFileSync(weightsPath);
  checkWeightBytes(dir, modelJson, weights.byteLength);
  if (manifest.weightsSha256 !== undefined && sha256(weights) !== manifest.weightsSha256) {
    throw new SeismoError('SEISMO_MODEL_INVALID', `model artifact ${dir}: ${weightsPath} does not match the SHA-256 recorded in manifest.json (weightsSha256): the weights were changed or corrupted after training`);
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest.flatMap((m) => m.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      }),
    );
  } catch (err) {
    throw new SeismoError('SEISMO_MODEL_INVALID', `model artifact ${dir}: ${join(dir, 'model.json')} with ${weightsPath} does not load as a model: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkModelShapes(dir, model, manifest, scaler.features.length);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, scaler, threshold, manifest };
}
