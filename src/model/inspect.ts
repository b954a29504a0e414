import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SeismoError } from '../errors.js';
import { checkManifest, checkThreshold, readArtifactJson } from './artifact-check.js';

/** What an operator asks of an artifact, read from its JSON files only (no model is loaded). */
export interface ArtifactSummary {
  dir: string;
  version: string;
  created: string;
  seismo: string | undefined;
  software: Record<string, string> | undefined;
  features: string[];
  lookback: number;
  architecture: unknown;
  threshold: { value: number; method: string; calibrationWindows: number } | undefined;
  configHash: string;
  dataHash: string;
  trainingData: unknown;
  training: Record<string, unknown>;
  weightsSha256: string | undefined;
}

export function inspectArtifact(dir: string): ArtifactSummary {
  if (!existsSync(join(dir, 'manifest.json'))) throw new SeismoError('SEISMO_MODEL_MISSING', `no model artifact at ${dir} (missing manifest.json)`);
  const m = checkManifest(dir, readArtifactJson(dir, 'manifest.json'));
  const t = existsSync(join(dir, 'threshold.json')) ? checkThreshold(dir, readArtifactJson(dir, 'threshold.json')) : undefined;
  return {
    dir,
    version: m.version,
    created: m.created,
    seismo: m.software?.seismo,
    software: m.software as Record<string, string> | undefined,
    features: m.features,
    lookback: m.lookback,
    architecture: m.architecture,
    threshold: t ? { value: t.value, method: t.method, calibrationWindows: t.calibrationWindows } : undefined,
    configHash: m.configHash,
    dataHash: m.dataHash,
    trainingData: m.trainingData,
    training: m.training as unknown as Record<string, unknown>,
    weightsSha256: m.weightsSha256,
  };
}

/** The artifacts in `root`: root itself if it is one, and its direct subdirectories that are; newest first. */
export function listArtifacts(root: string): ArtifactSummary[] {
  if (!existsSync(root)) throw new SeismoError('SEISMO_MODEL_MISSING', `${root} does not exist`);
  const dirs = existsSync(join(root, 'manifest.json')) ? [root] : [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (statSync(dir).isDirectory() && existsSync(join(dir, 'manifest.json'))) dirs.push(dir);
  }
  return dirs.map(inspectArtifact).sort((a, b) => b.created.localeCompare(a.created));
}

/** One line per artifact: directory, version, created, features, lookback, threshold and method. */
export function formatList(list: ArtifactSummary[]): string {
  const rows = [['dir', 'version', 'created', 'features', 'lookback', 'threshold', 'seismo'], ...list.map((a) => [a.dir, a.version, a.created, String(a.features.length), String(a.lookback), a.threshold ? `${a.threshold.value.toPrecision(4)} (${a.threshold.method})` : 'none', a.seismo ?? '?'])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/** Flattens nested objects to dotted keys, so two summaries compare field by field. */
function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out.set(prefix, JSON.stringify(value));
}

/**
 * What differs between two artifacts, one line per field (`field: a -> b`), features as added
 * and removed names. Fields that always differ (dir, created) are left out; empty when the two
 * are the same model.
 */
export function diffArtifacts(a: ArtifactSummary, b: ArtifactSummary): string[] {
  const lines: string[] = [];
  const removed = a.features.filter((f) => !b.features.includes(f));
  const added = b.features.filter((f) => !a.features.includes(f));
  if (removed.length > 0 || added.length > 0) lines.push(`features: ${[...removed.map((f) => `-${f}`), ...added.map((f) => `+${f}`)].join(' ')}`);
  else if (a.features.join('\u0000') !== b.features.join('\u0000')) lines.push(`features: same names, another order: [${a.features.join(', ')}] -> [${b.features.join(', ')}]`);
  const fa = new Map<string, string>();
  const fb = new Map<string, string>();
  const { dir: _da, created: _ca, features: _fa, ...restA } = a;
  const { dir: _db, created: _cb, features: _fb, ...restB } = b;
  flatten(restA, '', fa);
  flatten(restB, '', fb);
  // Timing varies between identical runs: not a difference in the model.
  const noise = new Set(['training.seconds']);
  for (const key of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    if (noise.has(key)) continue;
    const va = fa.get(key) ?? '(none)';
    const vb = fb.get(key) ?? '(none)';
    if (va !== vb) lines.push(`${key}: ${va} -> ${vb}`);
  }
  return lines;
}
