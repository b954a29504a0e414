import { addConfusion, confusion, meanStd, pointMetrics, type Confusion, type MeanStd, type PointMetrics } from './metrics.js';
import { NAB_PROFILES, nabNormalised, nabRaw, rightWindows, type NabRaw } from './nab.js';
import { detectionDelays, edges } from './rules.js';
import type { EvalMethod, FileRun } from './skab.js';

/**
 * Which rows the metrics count: `test` only those after the training rows (the model has seen
 * the others), `all` every row, as SKAB's reference notebooks do (their FAR denominators include
 * the 400 normal training rows of each file, which lowers FAR).
 */
export type RowScope = 'test' | 'all';

function evaluated<T extends Uint8Array | Float64Array>(run: FileRun, values: T, scope: RowScope): T {
  return (scope === 'all' ? values : values.subarray(run.trainRows)) as T;
}

export interface RunScores {
  confusion: Confusion;
  nab: NabRaw[];
  delaysMs: number[];
  episodes: number;
  detected: number;
}

/** One file x seed x method: confusion over evaluated rows, NAB raw score per profile, detection delays. */
export function scoreRun(run: FileRun, method: EvalMethod, nabWindowMs: number, scope: RowScope = 'test'): RunScores {
  const pred = run.predictions[method];
  if (pred === undefined) throw new Error(`no ${method} predictions for ${run.file}`);
  const p = evaluated(run, pred, scope);
  const a = evaluated(run, run.anomaly, scope);
  const ts = evaluated(run, run.ts, scope);
  const cps: number[] = [];
  const cpRows = evaluated(run, run.changepoint, scope);
  for (let i = 0; i < cpRows.length; i++) if ((cpRows[i] as number) > 0) cps.push(ts[i] as number);
  const windows = rightWindows(cps, nabWindowMs);
  // A changepoint detector's claims are where its labelling switches, on and off.
  const detections = edges(p, ts);
  const delays = detectionDelays(p, a, ts);
  return {
    confusion: confusion(p, a),
    nab: NAB_PROFILES.map((profile) => nabRaw(windows, detections, profile)),
    delaysMs: delays.delaysMs,
    episodes: delays.episodes,
    detected: delays.detected,
  };
}

export interface SeedSummary {
  seed: number;
  points: PointMetrics;
  /** Normalised NAB score per profile name. */
  nab: Record<string, number>;
  meanDelaySeconds: number;
  episodes: number;
  detectedEpisodes: number;
}

export interface MethodSummary {
  method: EvalMethod;
  perSeed: SeedSummary[];
  f1: MeanStd;
  far: MeanStd;
  mar: MeanStd;
  nab: Record<string, MeanStd>;
  meanDelaySeconds: MeanStd;
  perFile: FileSummary[];
}

export interface FileSummary {
  file: string;
  f1: MeanStd;
  far: MeanStd;
  mar: MeanStd;
  nabStandard: MeanStd;
  threshold: MeanStd;
}

export function summarise(runs: FileRun[], method: EvalMethod, nabWindowMs: number, scope: RowScope = 'test'): MethodSummary {
  const seeds = [...new Set(runs.map((r) => r.seed))];
  const scored = runs.map((run) => ({ run, s: scoreRun(run, method, nabWindowMs, scope) }));
  const perSeed: SeedSummary[] = seeds.map((seed) => {
    const mine = scored.filter((x) => x.run.seed === seed);
    const total = mine.reduce((c, x) => addConfusion(c, x.s.confusion), { tp: 0, fp: 0, fn: 0, tn: 0 });
    const delays = mine.flatMap((x) => x.s.delaysMs);
    return {
      seed,
      points: pointMetrics(total),
      nab: Object.fromEntries(NAB_PROFILES.map((p, k) => [p.name, nabNormalised(mine.map((x) => x.s.nab[k] as NabRaw), p)])),
      meanDelaySeconds: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length / 1000 : NaN,
      episodes: mine.reduce((n, x) => n + x.s.episodes, 0),
      detectedEpisodes: mine.reduce((n, x) => n + x.s.detected, 0),
    };
  });
  const files = [...new Set(runs.map((r) => r.file))];
  const standard = NAB_PROFILES[0];
  const perFile: FileSummary[] = files.map((file) => {
    const mine = scored.filter((x) => x.run.file === file);
    const m = mine.map((x) => pointMetrics(x.s.confusion));
    return {
      file,
      f1: meanStd(m.map((x) => x.f1)),
      far: meanStd(m.map((x) => x.far)),
      mar: meanStd(m.map((x) => x.mar)),
      nabStandard: meanStd(mine.map((x) => (standard ? nabNormalised([x.s.nab[0] as NabRaw], standard) : NaN))),
      threshold: meanStd(mine.map((x) => x.run.thresholds[method] ?? NaN)),
    };
  });
  return {
    method,
    perSeed,
    f1: meanStd(perSeed.map((s) => s.points.f1)),
    far: meanStd(perSeed.map((s) => s.points.far)),
    mar: meanStd(perSeed.map((s) => s.points.mar)),
    nab: Object.fromEntries(NAB_PROFILES.map((p) => [p.name, meanStd(perSeed.map((s) => s.nab[p.name] ?? NaN))])),
    meanDelaySeconds: meanStd(perSeed.map((s) => s.meanDelaySeconds)),
    perFile,
  };
}
