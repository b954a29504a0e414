import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import { perFileTable, perSeedTable, summaryTable } from './markdown.js';
import { plotSlugs, renderPlot } from './plot.js';
import type { FileRun } from './skab.js';
import type { MethodSummary } from './summary.js';

export interface ReportInput {
  cfg: SeismoConfig;
  runs: FileRun[];
  summaries: MethodSummary[];
  /** The same, counting the training rows too (SKAB's notebooks); optional. */
  allRows?: MethodSummary[];
  seeds: number[];
  seconds: number;
  backend: string;
  command: string;
}

/** results.json: summaries plus every run's per-row scores, labels and predictions, so other rules can be tried offline. */
export function resultsJson(input: ReportInput): string {
  const runs = input.runs.map((r) => ({
    file: r.file,
    seed: r.seed,
    features: r.features,
    trainRows: r.trainRows,
    thresholds: r.thresholds,
    trainingSeconds: r.trainingSeconds,
    epochs: r.epochs,
    poison: r.poison,
    ts: Array.from(r.ts),
    anomaly: Array.from(r.anomaly),
    changepoint: Array.from(r.changepoint),
    scores: Array.from(r.scores, (s) => (Number.isFinite(s) ? Number(s.toPrecision(6)) : null)),
    featureErrors: r.featureErrors.map((e) => (e ? Array.from(e, (v) => Number(v.toPrecision(4))) : null)),
    predictions: Object.fromEntries(Object.entries(r.predictions).map(([k, v]) => [k, Array.from(v)])),
  }));
  return JSON.stringify({ command: input.command, seeds: input.seeds, seconds: input.seconds, backend: input.backend, config: { window: input.cfg.window, model: input.cfg.model, threshold: input.cfg.threshold, alerts: input.cfg.alerts, training: input.cfg.training }, summaries: input.summaries, runs });
}

/** Sensors with the largest share of the error summed over the rows a method flagged (or, if none, the labelled rows). */
export function topSensors(run: FileRun, rows: ArrayLike<number>, k = 3): Array<{ name: string; share: number }> {
  const sums = new Float64Array(run.features.length);
  const pick = (use: ArrayLike<number>) => {
    let any = false;
    for (let i = run.trainRows; i < run.scores.length; i++) {
      const e = run.featureErrors[i];
      if ((use[i] as number) > 0 && e) {
        any = true;
        e.forEach((v, j) => (sums[j] = (sums[j] as number) + v));
      }
    }
    return any;
  };
  if (!pick(rows)) pick(run.anomaly);
  const total = sums.reduce((a, b) => a + b, 0);
  return run.features
    .map((name, j) => ({ name, share: total > 0 ? (sums[j] as number) / total : 0 }))
    .sort((a, b) => b.share - a.share)
    .slice(0, k);
}

const COLORS: Record<string, string> = { published: '#1f77b4', seismo: '#d62728' };

export async function writeReport(dir: string, input: ReportInput): Promise<void> {
  mkdirSync(join(dir, 'plots'), { recursive: true });
  writeFileSync(join(dir, 'results.json'), resultsJson(input));
  const firstSeed = input.seeds[0];
  const lines: string[] = [];
  const plotted = input.runs.filter((r) => r.seed === firstSeed);
  const slugs = plotSlugs(plotted.map((r) => r.file));
  for (const [i, run] of plotted.entries()) {
    const methods = Object.keys(run.predictions) as Array<keyof typeof run.predictions>;
    const main = run.predictions.seismo ?? run.predictions.published ?? run.anomaly;
    const top = topSensors(run, main);
    const slug = slugs[i] as string;
    const { svg, png } = await renderPlot({
      title: `${run.file} (seed ${run.seed})`,
      topSensors: top,
      ts: run.ts,
      scores: run.scores,
      anomaly: run.anomaly,
      trainRows: run.trainRows,
      thresholds: methods.map((m) => ({ name: `${m} threshold`, value: run.thresholds[m] ?? NaN, color: COLORS[m] ?? '#555' })).filter((t) => Number.isFinite(t.value)),
      predictions: methods.map((m) => ({ name: m, rows: run.predictions[m] ?? new Uint8Array(0), color: COLORS[m] ?? '#555' })),
    });
    writeFileSync(join(dir, 'plots', `${slug}.svg`), svg);
    writeFileSync(join(dir, 'plots', `${slug}.png`), png);
    lines.push(`### ${run.file}\n\nTop sensors: ${top.map((t) => `${t.name} (${(t.share * 100).toFixed(0)}%)`).join(', ')}\n\n![${run.file}](plots/${slug}.png)\n`);
  }
  const md = [
    '# Seismo evaluation: SKAB protocol',
    '',
    `Command: \`seismo ${input.command}\``,
    '',
    `Seeds ${input.seeds.join(', ')}; ${new Set(input.runs.map((r) => r.file)).size} files; ${input.seconds.toFixed(0)} s on ${input.backend}. Points before row ${input.runs[0]?.trainRows ?? 400} of each file trained the model and are not counted. Mean ± sample std over seeds.`,
    '',
    summaryTable(input.summaries),
    '',
    ...(input.allRows ? ['All rows, training rows included (as SKAB\'s reference notebooks count; FAR is lower because each file adds 400 mostly true-negative rows):', '', summaryTable(input.allRows), ''] : []),
    'Published (SKAB leaderboard, F1 / FAR / MAR): Conv-AE 0.78 / 13.55 / 28.02, LSTM-AE 0.74 / 29.96 / 25.92; NAB standard: MSCRED 32.42, LSTM-AE 23.51.',
    '',
    '- `published`: 1.5 x q0.99 of the training windows\' errors; a row is anomalous when the windows ending at it and the 9 rows before all exceed it.',
    '- `seismo`: `threshold.*` calibrated on the held-out tail of the training rows, then the daemon\'s alert state machine (`alerts.*`); a row is anomalous while an alert is open.',
    '- NAB: a window of 60 s to the right of each labelled changepoint; detections are the rows where a method\'s labelling switches on or off.',
    '',
    ...(input.seeds.length > 1 ? ['## Per seed', '', perSeedTable(input.summaries), ''] : []),
    '## Per file',
    '',
    perFileTable(input.summaries),
    '',
    `## Plots (seed ${firstSeed}; vega-lite, PNG and SVG)`,
    '',
    ...lines,
  ];
  writeFileSync(join(dir, 'summary.md'), md.join('\n'));
}
