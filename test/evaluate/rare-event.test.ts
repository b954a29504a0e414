import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { evaluateRareEvent, shiftLabels } from '../../src/evaluate/rare-event.js';
import { createLogger } from '../../src/observability/logger.js';
import { gaussian, mulberry32 } from '../../src/random.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
// Judged by level (relativeFeatures: none): with the default (auto, by shape) a 4-reading window
// minus its mean keeps too little of the precursor; ROC AUC 0.60 instead of above 0.8 (EVALUATION.md).
const CONFIG_YAML = 'input:\n  format: csv\n  timestampColumn: ts\nwindow:\n  lookback: 4\ntraining:\n  relativeFeatures: none\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 8\n  batchSize: 128\n  learningRate: 0.01\n  patience: 8\nhttp:\n  enabled: false\nlog:\n  level: silent\n';
const ROWS = 1500;
const EVENTS = Array.from({ length: 14 }, (_, k) => 150 + 97 * k);

/**
 * Two coupled sensors; 6 rows before each event, sensor b breaks away from a (the precursor).
 * `leak` copies the label and must be dropped, or the task would be trivial.
 */
function seriesFile(): string {
  const rng = mulberry32(4);
  const events = new Set(EVENTS);
  const lines = ['ts,a,b,leak,y'];
  for (let i = 0; i < ROWS; i++) {
    const precursor = EVENTS.some((t) => i >= t - 6 && i < t);
    const a = Math.sin(i / 9) + 0.05 * gaussian(rng);
    const b = (precursor ? -1 : 1) * Math.sin(i / 9) + 0.05 * gaussian(rng);
    const y = events.has(i) ? 1 : 0;
    lines.push(`${Date.UTC(2026, 0, 1) + i * 60_000},${a},${b},${y},${y}`);
  }
  const file = join(mkdtempSync(join(tmpdir(), 'seismo-rare-')), 'series.csv');
  writeFileSync(file, lines.join('\n'));
  return file;
}

describe('rare-event protocol', () => {
  it('shifts labels k rows earlier and leaves the event rows out', () => {
    const { shifted, counted } = shiftLabels([0, 0, 0, 0, 1, 0, 0, 1], 2);
    expect(Array.from(shifted)).toEqual([0, 0, 1, 1, 0, 1, 1, 0]);
    expect(Array.from(counted)).toEqual([1, 1, 1, 1, 0, 1, 1, 0]);
  });

  it('trains on label-0 rows, thresholds on validation, and ranks precursors of events above normal rows', async () => {
    const file = seriesFile();
    const cfg = parseConfig(CONFIG_YAML, 'rare.yaml');
    const r = await evaluateRareEvent(cfg, { file, labelColumn: 'y', shift: 3, drop: ['leak'], trainFraction: 0.5, valFraction: 0.2, seed: 1, log: createLogger('silent') });
    expect(r.rows).toEqual({ train: 750, val: 300, test: 450 });
    // Label-0 rows of the training split only: each of its 7 events removes itself and 3 shifted rows.
    expect(r.trainingRows).toBe(750 - 7 * 4);
    expect(r.thresholdFrom).toBe('f1-on-validation');
    expect(r.positives.test).toBe(12); // events at rows 1120, 1217, 1314, 1411
    expect(r.rocAuc).toBeGreaterThan(0.8);
    expect(r.test.tp + r.test.fn).toBe(12);
    // Every event row is stated as left out (1-based data rows); the training split's precursors too.
    expect(r.leftOut.eventRows).toEqual(EVENTS.map((t) => t + 1));
    expect(r.leftOut.precursorRowsInTraining).toBe(7 * 3);
  });

  it('`seismo evaluate --protocol rare-event --report`: progress on stderr, summary.md with the rows left out', () => {
    const file = seriesFile();
    const dir = mkdtempSync(join(tmpdir(), 'seismo-rare-cli-'));
    const config = join(dir, 'rare.yaml');
    writeFileSync(config, CONFIG_YAML);
    const report = join(dir, 'report');
    const r = spawnSync('node', [CLI, 'evaluate', '-c', config, '--protocol', 'rare-event', '-d', file, '--label-column', 'y', '--shift', '3', '--drop', 'leak', '--split', '0.5,0.2', '--report', report], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    // Progress: what runs, then the training epochs (stderr is not a terminal here: one line each).
    expect(r.stderr).toContain('rare-event seed 1 (1/1): training on 722 label-0 rows of the first 750 (7 event rows and 21 rows before events left out)');
    expect(r.stderr).toMatch(/training epoch 1\/8 loss [\d.]+ val [\d.]+/);
    expect(r.stderr).toContain('rare-event seed 1 (1/1): replaying 1500 rows through the daemon');
    expect(r.stdout).toContain(`report: ${report}/summary.md`);
    expect(existsSync(join(report, 'rare-event.json'))).toBe(true);
    const summary = readFileSync(join(report, 'summary.md'), 'utf8');
    expect(summary).toContain('# Rare-event evaluation');
    expect(summary).toContain(`Left out: 14 event rows (label > 0), from training and every metric (data rows ${EVENTS.map((t) => t + 1).join(', ')}); 21 rows before events (positive after the shift) from training.`);
    expect(summary).toMatch(/\| ROC AUC \| PR AUC \|/);
    expect(summary).toContain('Over seeds 1: ROC AUC');
  });

  it('--jobs 2 runs the seeds side by side on worker threads, with the same results as one thread', () => {
    const file = seriesFile();
    const dir = mkdtempSync(join(tmpdir(), 'seismo-rare-jobs-'));
    const config = join(dir, 'rare.yaml');
    writeFileSync(config, CONFIG_YAML);
    const results = (jobs: string) => {
      const report = join(dir, `report-${jobs}`);
      const r = spawnSync('node', [CLI, 'evaluate', '-c', config, '--protocol', 'rare-event', '-d', file, '--label-column', 'y', '--shift', '3', '--drop', 'leak', '--split', '0.5,0.2', '--seeds', '1,2', '--jobs', jobs, '--report', report], { encoding: 'utf8', timeout: 300_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('## seed 1');
      expect(r.stdout).toContain('## seed 2');
      return (JSON.parse(readFileSync(join(report, 'rare-event.json'), 'utf8')) as { results: unknown[] }).results;
    };
    const parallel = results('2');
    const serial = results('1');
    expect(parallel).toHaveLength(2);
    expect(parallel[0]).not.toEqual(parallel[1]); // two seeds, two models: the order is checked too
    expect(parallel).toEqual(serial);
  });
});
