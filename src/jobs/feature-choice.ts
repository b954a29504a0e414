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
  readings: number;
}

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
  const features = named ?? [...counts].filter(([, n]) => n * 2 >= readings).map(([name]) => name);
  const absent = features.filter((f) => (counts.get(f) ?? 0) === 0);
  if (absent.length > 0) {
    const by = from === 'config' ? 'the config (features)' : 'the model being retrained';
    throw new SeismoError('SEISMO_INPUT_INVALID', `feature${absent.length > 1 ? 's' : ''} ${absent.join(', ')} named by ${by} ${absent.length > 1 ? 'are' : 'is'} in none of the ${readings} readings (keys seen: ${[...counts.keys()].join(', ') || 'none'})`);
  }
  const ignored = Object.fromEntries([...counts].filter(([name]) => !features.includes(name)));
  return { features, from, ignored, readings };
}

/** The features of the model at `dir` (the one being retrained), or undefined when there is none. */
export function modelFeaturesAt(dir: string): string[] | undefined {
  if (!existsSync(join(dir, 'manifest.json'))) return undefined;
  return checkManifest(dir, readArtifactJson(dir, 'manifest.json')).features;
}
