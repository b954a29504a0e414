import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeismoConfig } from '../config/schema.js';
import { fmt } from './markdown.js';
import { meanStd } from './metrics.js';
import { NAB_PROFILES } from './nab-score.js';
import { falseAlertsPerDay, nabScores, type NabRun } from './nab-protocol.js';
import { plotSlugs, renderPlot } from './plot.js';

const seedsOf = (runs: NabRun[]) => [...new Set(runs.map((r) => r.seed))];

/** One table row: normalised scores per profile (mean ± std over seeds), alerts and windows. */
function row(label: string, runs: NabRun[]): string {
  const seeds = seedsOf(runs);
  const perSeed = seeds.map((s) => runs.filter((r) => r.seed === s));
  const cells = NAB_PROFILES.map((p) => fmt(meanStd(perSeed.map((rs) => nabScores(rs)[p.name] ?? NaN)), 1));
  const alerts = meanStd(perSeed.map((rs) => rs.reduce((a, r) => a + r.openings.filter((i) => i >= r.probation).length, 0)));
  const windows = perSeed[0]?.reduce((a, r) => a + r.windows.length, 0) ?? 0;
  const detected = meanStd(perSeed.map((rs) => rs.reduce((a, r) => a + (r.nab[0]?.detected ?? 0), 0)));
  const fa = meanStd(perSeed.map((rs) => falseAlertsPerDay(rs)));
  return `| ${label} | ${perSeed[0]?.length ?? 0} | ${cells.join(' | ')} | ${fmt(alerts, 0)} | ${fmt(detected, 1)} of ${windows} | ${fmt(fa, 2)} |`;
}

const HEAD = ['| files | n | standard | low FP | low FN | alerts | windows detected | false alerts / day at rest |', '|---|---|---|---|---|---|---|---|'];

/** Per-category table plus the corpus line. Scores below 0 mean the alerts cost more than they earn. */
export function nabCategoryTable(runs: NabRun[]): string {
  const categories = [...new Set(runs.map((r) => r.file.category))];
  return [...HEAD, ...categories.map((c) => row(c, runs.filter((r) => r.file.category === c))), row('**all**', runs)].join('\n');
}

/** Per file, first seed: threshold, alerts, detected windows, false positives, standard raw score. */
export function nabFileTable(runs: NabRun[]): string {
  const first = seedsOf(runs)[0];
  const lines = runs
    .filter((r) => r.seed === first)
    .map((r) => `| ${r.file.key} | ${r.ts.length} | ${r.probation} | ${r.maxGapSeconds.toFixed(0)} | ${r.refused !== undefined ? 'refused' : r.threshold.toPrecision(3)} | ${r.openings.filter((i) => i >= r.probation).length} | ${r.nab[0]?.detected ?? 0} of ${r.windows.length} | ${r.nab[0]?.falsePositives ?? 0} | ${(r.nab[0]?.score ?? NaN).toFixed(2)} |`);
  return ['| file | rows | probation | max gap s | threshold | alerts | windows detected | FP | raw standard |', '|---|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

/**
 * The official results layout: <dir>/<detector>/<category>/<detector>_<file>.csv with
 * timestamp,value,anomaly_score,label; anomaly_score is 1 on the rows where an alert opened
 * (Seismo's own decision, so any corpus threshold in (0, 1] reproduces it), label 1 inside a
 * window. Detector `seismo`, or `seismo_s<seed>` per seed when there are several.
 */
export function writeNabResults(dir: string, runs: NabRun[]): string[] {
  const seeds = seedsOf(runs);
  const written: string[] = [];
  for (const r of runs) {
    const detector = seeds.length > 1 ? `seismo_s${r.seed}` : 'seismo';
    const folder = join(dir, detector, r.file.category);
    mkdirSync(folder, { recursive: true });
    const open = new Set(r.openings);
    const lines = ['timestamp,value,anomaly_score,label'];
    for (let i = 0; i < r.ts.length; i++) {
      const stamp = new Date(r.ts[i] as number).toISOString().replace('T', ' ').slice(0, 19);
      const label = r.windows.some((w) => i >= w.from && i <= w.to) ? 1 : 0;
      lines.push(`${stamp},${r.values[i]},${open.has(i) ? 1 : 0},${label}`);
    }
    const path = join(folder, `${detector}_${r.file.name}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    written.push(path);
  }
  return written;
}

export interface NabReportInput {
  cfg: SeismoConfig;
  runs: NabRun[];
  seeds: number[];
  seconds: number;
  backend: string;
  command: string;
}

/** summary.md (tables, one plot per file of the first seed) and results.json (per-file numbers). */
export async function writeNabReport(dir: string, input: NabReportInput): Promise<void> {
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const first = input.seeds[0];
  const plots: string[] = [];
  const plotted = input.runs.filter((x) => x.seed === first);
  const slugs = plotSlugs(plotted.map((r) => r.file.key));
  for (const [i, r] of plotted.entries()) {
    const slug = slugs[i] as string;
    const inWindow = new Uint8Array(r.ts.length);
    for (const w of r.windows) inWindow.fill(1, w.from, w.to + 1);
    const { svg, png } = await renderPlot({
      title: `${r.file.key} (seed ${r.seed}): ${r.openings.filter((i) => i >= r.probation).length} alerts, ${r.nab[0]?.detected ?? 0} of ${r.windows.length} windows`,
      ts: r.ts,
      scores: r.scores,
      anomaly: inWindow,
      trainRows: r.probation,
      thresholds: Number.isFinite(r.threshold) ? [{ name: 'threshold', value: r.threshold, color: '#d62728' }] : [],
      predictions: [{ name: 'alert open', rows: r.alertOpen, color: '#d62728' }],
      topSensors: [{ name: 'value', share: 1 }],
    });
    writeFileSync(join(dir, 'plots', `${slug}.svg`), svg);
    writeFileSync(join(dir, 'plots', `${slug}.png`), png);
    plots.push(`### ${r.file.key}\n\n![${r.file.key}](plots/${slug}.png)\n`);
  }
  const md = [
    '# Seismo evaluation: NAB protocol',
    '',
    `Command: \`seismo ${input.command}\``,
    '',
    `Seeds ${input.seeds.join(', ')}; ${new Set(input.runs.map((r) => r.file.key)).size} files; ${input.seconds.toFixed(0)} s on ${input.backend}. Each file: trained on its probationary rows (min(15 %, 750)), replayed whole; an alert opening is a detection. Normalised NAB scores, mean ± std over seeds (0: no detections; below 0: the alerts cost more than they earn).`,
    '',
    nabCategoryTable(input.runs),
    '',
    'Scoreboard (standard / low FP / low FN): Numenta HTM 70.5 / 62.6 / 75.2, Random Cut Forest 51.7 / 38.4 / 59.7, Windowed Gaussian 39.6 / 20.9 / 47.4, Random 11.0 / 1.2 / 19.5.',
    '',
    `## Per file (seed ${first})`,
    '',
    nabFileTable(input.runs),
    '',
    `## Plots (seed ${first}): score (log), threshold, label windows shaded, probation shaded, alert bands`,
    '',
    ...plots,
  ];
  writeFileSync(join(dir, 'summary.md'), md.join('\n'));
  const json = input.runs.map((r) => ({ file: r.file.key, seed: r.seed, rows: r.ts.length, probation: r.probation, threshold: r.threshold, maxGapSeconds: r.maxGapSeconds, openings: r.openings, windows: r.windows, nab: r.nab, trainingSeconds: r.trainingSeconds, ...(r.refused !== undefined ? { refused: r.refused } : {}) }));
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ command: input.command, seeds: input.seeds, seconds: input.seconds, config: { window: input.cfg.window, model: input.cfg.model, threshold: input.cfg.threshold, alerts: input.cfg.alerts, training: input.cfg.training }, scores: Object.fromEntries(input.seeds.map((s) => [s, nabScores(input.runs.filter((r) => r.seed === s))])), runs: json }, null, 1));
}
