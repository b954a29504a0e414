import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SeismoError } from '../errors.js';
import { checkManifest, readArtifactJson } from '../model/artifact-check.js';
import type { Reading } from '../domain/types.js';

export interface FeatureChoice {
  features: string[];
  /** Who named them: the config's `features`, the model being retrained, or the data itself. */
  from: 'config' | 'model' | 'data';
  /** Keys in the readings that are not trained on, with how many readings carry each. */
  ignored: Record<string, number>;
  /**
   * Why a key of `ignored` could not be a feature whatever names the features (a blank name);
   * absent when there is none. Other ignored keys are simply not named, or too rare.
   */
  unusable?: Record<string, string>;
  readings: number;
}

const BLANK_NAME = 'blank name (empty or whitespace only): no model input can be called that';

/** "" or "  ": CSV headers skip such columns; an NDJSON `"": 1.5` would otherwise become a feature no model can load. */
const isBlank = (name: string) => name.trim() === '';

/**
 * The features a model is trained on. Named ones win: the config's `features`, else (when
 * retraining) the features of the model in service. Only when nothing names them are they read
 * from the data, and then only keys that at least half of the readings carry: one stray key in
 * one message must not become a model input that is missing (forward-filled, constant)
 * everywhere else. Every key left out is reported with its count; a named feature that no
 * reading carries is refused.
 */
export function chooseTrainingFeatures(byEntity: Map<string, Reading[]>, configured: string[] | undefined, modelFeatures?: string[]): FeatureChoice {
  const counts = new Map<string, number>();
  let readings = 0;
  for (const list of byEntity.values()) {
    for (const r of list) {
      readings++;
      for (const [name, v] of Object.entries(r.values)) if (Number.isFinite(v)) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const named = configured ?? modelFeatures;
  const from: FeatureChoice['from'] = configured ? 'config' : modelFeatures ? 'model' : 'data';
  const blankNamed = (named ?? []).filter(isBlank);
  if (blankNamed.length > 0) {
    // The schema refuses "" but not "  "; a model's manifest cannot hold either once trained here.
    const where = from === 'config' ? 'the config (features)' : 'the model being retrained';
    throw new SeismoError(from === 'config' ? 'SEISMO_CONFIG_INVALID' : 'SEISMO_MODEL_INVALID', `${where} names the feature ${JSON.stringify(blankNamed[0])}, a ${BLANK_NAME}`);
  }
  const features = named ?? [...counts].filter(([name, n]) => !isBlank(name) && n * 2 >= readings).map(([name]) => name);
  const absent = features.filter((f) => (counts.get(f) ?? 0) === 0);
  if (absent.length > 0) {
    const by = from === 'config' ? 'the config (features)' : 'the model being retrained';
    throw new SeismoError('SEISMO_INPUT_INVALID', `feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')} named by ${by} ${absent.length > 1 ? 'are' : 'is'} in none of the ${readings} readings (keys seen: ${[...counts.keys()].join(', ') || 'none'})`);
  }
  const ignored = Object.fromEntries([...counts].filter(([name]) => !features.includes(name)));
  const blank = Object.keys(ignored).filter(isBlank);
  return { features, from, ignored, ...(blank.length > 0 ? { unusable: Object.fromEntries(blank.map((k) => [k, BLANK_NAME])) } : {}), readings };
}

/** The features of the model at `dir` (the one being retrained), or undefined when there is none. */
export function modelFeaturesAt(dir: string): string[] | undefined {
  if (!existsSync(join(dir, 'manifest.json'))) return undefined;
  return checkManifest(dir, readArtifactJson(dir, 'manifest.json')).features;
}
