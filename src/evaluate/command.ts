import type { SeismoConfig } from '../config/schema.js';
import { SeismoError } from '../errors.js';
import { chooseBackend } from '../model/backend.js';
import { evaluationProgress } from '../observability/eval-progress.js';
import { trainingProgress } from '../observability/progress.js';
import type { Logger } from '../observability/logger.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fmt, perFileTable, summaryTable } from './markdown.js';
import { meanStd } from './metrics.js';
import { runInWorkers } from './file-pool.js';
import { evaluateNab } from './nab-protocol.js';
import { nabCategoryTable, nabFileTable, writeNabReport, writeNabResults } from './nab-report.js';
import { evaluateRareEvent, rareEventMarkdown, type RareEventResult } from './rare-event.js';
import { writeReport } from './report.js';
import { EVAL_METHODS, evaluateSkab, SKAB_PROTOCOL, type EvalMethod } from './skab.js';
import { summarise } from './summary.js';

export interface EvaluateOptions {
  protocol: 'skab' | 'rare-event' | 'nab';
  data: string;
  method: EvalMethod | 'both';
  seeds: number[];
  report?: string | undefined;
  /** rare-event only. */
  labelColumn?: string;
  shift?: number;
  drop?: string[];
  split?: [number, number];
  /** nab only: the categories (sub-folders) to run, default all. */
  categories?: string[] | undefined;
  /** nab only: write the official NAB results layout here. */
  nabResults?: string | undefined;
  /** skab, nab: files evaluated side by side on worker threads; rare-event: seeds (1: in this thread). */
  jobs?: number;
}

/** Each job holds a model, its training data and a replay: bounded so a many-core host does not fill its memory by default. */
export const MAX_DEFAULT_JOBS = 8;

export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_JOBS));
}

function jobsText(jobs: number | undefined, tasks: number): string {
  const used = Math.min(jobs ?? 1, tasks);
  return used > 1 ? `${used} files at a time` : 'one file at a time';
}

export function parseJobs(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new SeismoError('SEISMO_CONFIG_INVALID', `--jobs: expected an integer from 1 to 256, got "${text}"`);
  return n;
}

export function parseSplit(text: string): [number, number] {
  const parts = text.split(',').map(Number);
  const [train, val] = parts;
  if (parts.length !== 2 || train === undefined || val === undefined || !(train > 0) || !(val > 0) || train + val >= 1) {
    throw new SeismoError('SEISMO_CONFIG_INVALID', `--split: expected "train,validation" fractions summing to less than 1, got "${text}"`);
  }
  return [train, val];
}

async function runRareEvent(cfg: SeismoConfig, opts: EvaluateOptions, log: Logger, out: NodeJS.WritableStream, progressStream: NodeJS.WriteStream): Promise<void> {
  const [trainFraction, valFraction] = opts.split ?? [0.6, 0.2];
  const results: RareEventResult[] = [];
  const sections: string[] = [];
  const started = performance.now();
  const options = (seed: number) => ({ file: opts.data, labelColumn: opts.labelColumn ?? 'label', shift: opts.shift ?? 2, drop: opts.drop ?? [], trainFraction, valFraction, seed });
  const report = (seed: number, r: RareEventResult) => {
    results.push(r);
    const section = `## seed ${seed}\n\n${rareEventMarkdown(r)}\n\n`;
    sections.push(section);
    out.write(section);
  };
  if (Math.min(opts.jobs ?? 1, opts.seeds.length) > 1) {
    // Seeds side by side, each on a worker thread (one seed's training keeps one core busy).
    const progress = evaluationProgress();
    const tasks = opts.seeds.map((seed) => ({ protocol: 'rare-event' as const, options: options(seed) }));
    const byTask = await runInWorkers<RareEventResult>(cfg, tasks, opts.jobs ?? 1, (done) => progress.tick(done, tasks.length, 'rare-event seeds'));
    progress.stop();
    opts.seeds.forEach((seed, i) => report(seed, byTask[i] as RareEventResult));
  } else {
    for (const [i, seed] of opts.seeds.entries()) {
      // Training is most of the time: the `train` command's progress (epoch, loss, ETA) on stderr.
      const training = trainingProgress(progressStream);
      const r = await evaluateRareEvent(cfg, {
        ...options(seed),
        log,
        onEpoch: training.onEpoch,
        onStage: (message) => {
          training.stop();
          progressStream.write(`rare-event seed ${seed} (${i + 1}/${opts.seeds.length}): ${message}\n`);
        },
      });
      training.stop();
      report(seed, r);
    }
  }
  const line = (name: string, pick: (r: RareEventResult) => number) => `${name} ${fmt(meanStd(results.map(pick)), 3)}`;
  const overall = `Over seeds ${opts.seeds.join(',')}: ${[line('ROC AUC', (r) => r.rocAuc), line('PR AUC', (r) => r.prAuc), line('recall at FPR 5%', (r) => r.recallAtFpr5), line('F1', (r) => r.test.f1)].join(', ')}\n`;
  out.write(overall);
  if (opts.report !== undefined) {
    const command = process.argv.slice(2).join(' ');
    mkdirSync(opts.report, { recursive: true });
    writeFileSync(join(opts.report, 'rare-event.json'), JSON.stringify({ command, seeds: opts.seeds, results }, null, 2));
    const seconds = (performance.now() - started) / 1000;
    const head = [
      '# Rare-event evaluation',
      '',
      `\`seismo ${command}\`: ${opts.data}, label column \`${opts.labelColumn ?? 'label'}\`, shift ${opts.shift ?? 2} rows, split ${trainFraction}/${valFraction}/${(1 - trainFraction - valFraction).toFixed(2)} (train/validation/test, chronological), seeds ${opts.seeds.join(',')}, ${seconds.toFixed(0)} s.`,
      '',
      'Per seed: the rows of each split, the rows left out, the threshold and the test metrics. Every row and score: `rare-event.json`.',
      '',
    ].join('\n');
    writeFileSync(join(opts.report, 'summary.md'), `${head}\n${sections.join('')}${overall}`);
    out.write(`\nreport: ${opts.report}/summary.md\n`);
  }
}

async function runNab(cfg: SeismoConfig, opts: EvaluateOptions, log: Logger, out: NodeJS.WritableStream, backend: string): Promise<void> {
  const progress = evaluationProgress();
  const started = performance.now();
  const runs = await evaluateNab(cfg, { data: opts.data, seeds: opts.seeds, categories: opts.categories, log, jobs: opts.jobs ?? 1, onRun: (done, total, run) => progress.tick(done, total, `${run.file.key} seed ${run.seed}`) });
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  out.write(`NAB protocol: ${new Set(runs.map((r) => r.file.key)).size} files, seeds ${opts.seeds.join(',')}, ${seconds.toFixed(0)} s on ${backend}, ${jobsText(opts.jobs, runs.length)}\n\n${nabCategoryTable(runs)}\n\n${nabFileTable(runs)}\n`);
  if (opts.nabResults !== undefined) {
    const written = writeNabResults(opts.nabResults, runs);
    out.write(`\nNAB results: ${written.length} files under ${opts.nabResults}\n`);
  }
  if (opts.report !== undefined) {
    await writeNabReport(opts.report, { cfg, runs, seeds: opts.seeds, seconds, backend, command: process.argv.slice(2).join(' ') });
    out.write(`\nreport: ${opts.report}/summary.md\n`);
  }
}

/** --categories: comma-separated folder names, or undefined for all. */
export function parseCategories(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (list.length === 0) throw new SeismoError('SEISMO_CONFIG_INVALID', `--categories: expected comma-separated folder names, got "${text}"`);
  return list;
}

export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new SeismoError('SEISMO_CONFIG_INVALID', `--seeds: expected comma-separated integers, got "${text}"`);
  return seeds;
}

/** `seismo evaluate`: runs the protocol, prints the Markdown tables, optionally writes the report directory. */
export async function runEvaluate(cfg: SeismoConfig, opts: EvaluateOptions, log: Logger, out: NodeJS.WritableStream, progressStream: NodeJS.WriteStream = process.stderr): Promise<void> {
  // Output directories are made before the evaluation, so a path that cannot be one fails in
  // a second, not after an hour of training.
  for (const [flag, dir] of [['--report', opts.report], ['--nab-results', opts.nabResults]] as const) {
    if (dir === undefined) continue;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new SeismoError('SEISMO_CONFIG_INVALID', `${flag} ${dir}: cannot make it a directory: ${(err as Error).message}`);
    }
  }
  const backend = await chooseBackend(cfg.scoring.backend, cfg.scoring.threads);
  if (backend.fallbackReason) log.warn({ reason: backend.fallbackReason }, `evaluating on the ${backend.active} fallback backend`);
  if (opts.protocol === 'rare-event') return runRareEvent(cfg, opts, log, out, progressStream);
  if (opts.protocol === 'nab') return runNab(cfg, opts, log, out, backend.active);
  const methods: EvalMethod[] = opts.method === 'both' ? [...EVAL_METHODS] : [opts.method];
  const progress = evaluationProgress();
  const started = performance.now();
  const runs = await evaluateSkab(cfg, {
    data: opts.data,
    seeds: opts.seeds,
    methods,
    log,
    jobs: opts.jobs ?? 1,
    onRun: (done, total, run) => progress.tick(done, total, `${run.file} seed ${run.seed}`),
  });
  progress.stop();
  const summaries = methods.map((m) => summarise(runs, m, SKAB_PROTOCOL.nabWindowMs));
  const allRows = methods.map((m) => summarise(runs, m, SKAB_PROTOCOL.nabWindowMs, 'all'));
  const seconds = (performance.now() - started) / 1000;
  const files = new Set(runs.map((r) => r.file)).size;
  out.write(`SKAB protocol: ${files} files, seeds ${opts.seeds.join(',')}, ${seconds.toFixed(0)} s on ${backend.active}, ${jobsText(opts.jobs, runs.length)}\n\nRows after each file's 400 training rows:\n\n${summaryTable(summaries)}\n\nAll rows, training rows included (as SKAB's reference notebooks count):\n\n${summaryTable(allRows)}\n\n${perFileTable(summaries)}\n`);
  if (opts.report !== undefined) {
    await writeReport(opts.report, { cfg, runs, summaries, allRows, seeds: opts.seeds, seconds, backend: backend.active, command: process.argv.slice(2).join(' ') });
    out.write(`\nreport: ${opts.report}/summary.md\n`);
  }
}
