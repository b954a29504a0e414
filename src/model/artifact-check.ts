import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { SeismoError } from '../errors.js';
import type { ScalerState } from '../window/scaler.js';
import type { Manifest, ThresholdState } from './artifact.js';
import { MAX_SEASONAL_BYTES, MAX_SEASONAL_CAPACITY, readingsPerPeriod, seasonalBytes, seasonalName } from '../window/seasonal.js';

/**
 * Validation of an artifact's files, field by field. An artifact is data from disk (possibly
 * hand-edited, half-copied or from another version): anything the daemon relies on later is
 * checked here, so a bad artifact is refused at load, naming the file and the field, instead of
 * scoring garbage (a reordered scaler) or throwing at the first window (threshold 0, scale 0).
 */

export const ARTIFACT_FORMAT_VERSION = 1;

/** The parts of model.json that loading reads. */
export interface ModelJson {
  modelTopology: object;
  weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
}

function invalid(dir: string, file: string, problem: string): SeismoError {
  return new SeismoError('SEISMO_MODEL_INVALID', `model artifact ${dir}: ${join(dir, file)}: ${problem}`);
}

/** Reads one JSON file of the artifact: a missing file is SEISMO_MODEL_MISSING, a corrupt one SEISMO_MODEL_INVALID, both naming it. */
export function readArtifactJson(dir: string, file: string): unknown {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SeismoError('SEISMO_MODEL_MISSING', `model artifact ${dir} is incomplete: ${path} is missing`, { cause: err });
    throw new SeismoError('SEISMO_MODEL_INVALID', `model artifact ${dir}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SeismoError('SEISMO_MODEL_INVALID', `model artifact ${dir}: ${path} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function record(dir: string, file: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(dir, file, `expected a JSON object, got ${describe(value)}`);
  return value;
}

function nameList(dir: string, file: string, field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw invalid(dir, file, `"${field}" must be a non-empty list of feature names, got ${describe(value)}`);
  }
  const names = value as string[];
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw invalid(dir, file, `"${field}" lists "${duplicate}" twice`);
  return names;
}

export function checkManifest(dir: string, value: unknown): Manifest {
  const file = 'manifest.json';
  const m = record(dir, file, value);
  if (m.formatVersion !== ARTIFACT_FORMAT_VERSION) {
    throw new SeismoError('SEISMO_MODEL_INCOMPATIBLE', `model artifact ${dir} does not fit: ${join(dir, file)}: format version ${describe(m.formatVersion)}, this Seismo reads ${ARTIFACT_FORMAT_VERSION}`);
  }
  if (typeof m.version !== 'string' || m.version.length === 0) throw invalid(dir, file, `"version" must be a non-empty string, got ${describe(m.version)}`);
  if (typeof m.created !== 'string' || !Number.isFinite(Date.parse(m.created))) throw invalid(dir, file, `"created" must be an ISO 8601 time, got ${describe(m.created)}`);
  nameList(dir, file, 'features', m.features);
  if (typeof m.lookback !== 'number' || !Number.isInteger(m.lookback) || m.lookback < 1) throw invalid(dir, file, `"lookback" must be a positive integer, got ${describe(m.lookback)}`);
  return m as unknown as Manifest;
}

/** The scaler must scale exactly the manifest's features, in its order, with usable numbers. */
export function checkScaler(dir: string, value: unknown, manifest: Manifest): ScalerState {
  const file = 'scaler.json';
  const s = record(dir, file, value);
  if (s.kind !== 'standard' && s.kind !== 'minmax') throw invalid(dir, file, `"kind" must be "standard" or "minmax", got ${describe(s.kind)}`);
  const features = nameList(dir, file, 'features', s.features);
  const derived = checkSeasonal(dir, file, s.seasonal, manifest);
  const expected = [...manifest.features, ...derived];
  if (features.join('\u0000') !== expected.join('\u0000')) {
    throw invalid(dir, file, `"features" [${features.join(', ')}] must equal manifest.json's features${derived.length > 0 ? ' then the seasonal columns' : ''} [${expected.join(', ')}] in the same order (the scaler's columns are fed to the model by position)`);
  }
  for (const field of ['offset', 'scale'] as const) {
    const list = s[field];
    if (!Array.isArray(list) || list.length !== features.length) throw invalid(dir, file, `"${field}" must list ${features.length} numbers (one per feature), got ${describe(list)}`);
    list.forEach((v: unknown, j) => {
      const name = features[j] as string;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(dir, file, `"${field}" of feature "${name}" (index ${j}) must be a finite number, got ${describe(v)}`);
      if (field === 'scale' && v <= 0) throw invalid(dir, file, `"scale" of feature "${name}" (index ${j}) must be > 0 (values are divided by it), got ${v}`);
    });
  }
  if (s.relative !== undefined) {
    if (!Array.isArray(s.relative) || !s.relative.every((r) => typeof r === 'string')) throw invalid(dir, file, `"relative" must be a list of feature names, got ${describe(s.relative)}`);
    const unknown = (s.relative as string[]).find((r) => !features.includes(r));
    if (unknown !== undefined) throw invalid(dir, file, `"relative" names "${unknown}", which is not one of its features`);
  }
  return s as unknown as ScalerState;
}

/** The derived seasonal column names a scaler.json's `seasonal` implies (none when absent), after checking it. */
function checkSeasonal(dir: string, file: string, value: unknown, manifest: Manifest): string[] {
  if (value === undefined) return [];
  const s = record(dir, file, value);
  for (const field of ['periodMs', 'toleranceMs', 'capacity'] as const) {
    const v = s[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(dir, file, `"seasonal.${field}" must be a positive number, got ${describe(v)}`);
  }
  if ((s.capacity as number) > MAX_SEASONAL_CAPACITY || !Number.isInteger(s.capacity)) throw invalid(dir, file, `"seasonal.capacity" must be an integer up to ${MAX_SEASONAL_CAPACITY}, got ${describe(s.capacity)}`);
  const of = nameList(dir, file, 'seasonal.of', s.of);
  const unknown = of.find((f) => !manifest.features.includes(f));
  if (unknown !== undefined) throw invalid(dir, file, `"seasonal.of" names "${unknown}", which is not one of manifest.json's features`);
  // What training guarantees (chooseSeasonal), checked again: a wider tolerance makes "one period
  // back" reach the last few readings, a smaller history never reaches one period back (every
  // entity would fill forever), and a larger one breaks the per-entity memory bound.
  const periodMs = s.periodMs as number;
  const toleranceMs = s.toleranceMs as number;
  const capacity = s.capacity as number;
  const perPeriod = readingsPerPeriod({ periodMs, toleranceMs });
  if (perPeriod < 2) throw invalid(dir, file, `"seasonal.toleranceMs" ${toleranceMs} is too wide for "seasonal.periodMs" ${periodMs}: it is half the sampling interval, and a period must span two readings or more`);
  if (capacity <= perPeriod) throw invalid(dir, file, `"seasonal.capacity" ${capacity} cannot hold one period: ${perPeriod} readings at the sampling interval "seasonal.toleranceMs" implies (${2 * toleranceMs} ms)`);
  if (seasonalBytes(capacity, of.length) > MAX_SEASONAL_BYTES) throw invalid(dir, file, `"seasonal.capacity" ${capacity} for ${of.length} features is ${Math.round(seasonalBytes(capacity, of.length) / 1024)} KiB of history per entity, more than ${MAX_SEASONAL_BYTES / 1024} KiB`);
  return of.map(seasonalName);
}

/** Only `value` decides anything at run time; it must be a usable threshold. */
export function checkThreshold(dir: string, value: unknown): ThresholdState {
  const file = 'threshold.json';
  const t = record(dir, file, value);
  if (typeof t.value !== 'number' || !Number.isFinite(t.value) || t.value <= 0) {
    throw invalid(dir, file, `"value" must be a finite number > 0, got ${describe(t.value)}; run \`seismo calibrate\``);
  }
  return t as unknown as ThresholdState;
}

export function checkModelJson(dir: string, value: unknown): ModelJson {
  const file = 'model.json';
  const m = record(dir, file, value);
  if (!isRecord(m.modelTopology)) throw invalid(dir, file, `"modelTopology" must be an object, got ${describe(m.modelTopology)}`);
  const manifest = m.weightsManifest;
  if (!Array.isArray(manifest) || !manifest.every((g) => isRecord(g) && Array.isArray(g.weights))) {
    throw invalid(dir, file, `"weightsManifest" must be a list of {weights: [...]} groups, got ${describe(manifest)}`);
  }
  return m as unknown as ModelJson;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * weights.bin must hold exactly the bytes model.json's weight specs describe. Checked before
 * loading: tfjs builds (and initialises) every layer before it reads the weights, and those
 * tensors would be left behind by a load that then fails on short data.
 */
export function checkWeightBytes(dir: string, modelJson: ModelJson, byteLength: number): void {
  let expected = 0;
  for (const spec of modelJson.weightsManifest.flatMap((m) => m.weights)) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const bytes = BYTES[dtype];
    if (bytes === undefined || !Array.isArray(spec.shape)) throw invalid(dir, 'model.json', `weight "${spec.name}" has an unknown dtype ${describe(dtype)} or no shape`);
    expected += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  if (expected !== byteLength) throw invalid(dir, 'weights.bin', `holds ${byteLength} bytes, model.json's weights need ${expected} (truncated or from another model)`);
}

/** The network must map one [lookback, features] window to one of the same shape. */
export function checkModelShapes(dir: string, model: tf.LayersModel, manifest: Manifest, columns = manifest.features.length): void {
  const want = [manifest.lookback, columns];
  const shapeOf = (t: tf.SymbolicTensor[]) => (t.length === 1 ? (t[0]?.shape ?? []).slice(1) : undefined);
  const input = shapeOf(model.inputs);
  const output = shapeOf(model.outputs);
  const fits = (s: (number | null)[] | undefined) => s !== undefined && s.length === 2 && s[0] === want[0] && s[1] === want[1];
  if (!fits(input) || !fits(output)) {
    const show = (s: (number | null)[] | undefined, n: number) => (s === undefined ? `${n} tensors` : `[${s.join(', ')}]`);
    throw invalid(dir, 'model.json', `the network maps ${show(input, model.inputs.length)} to ${show(output, model.outputs.length)}; manifest.json needs [lookback, features] = [${want.join(', ')}] for both`);
  }
}
