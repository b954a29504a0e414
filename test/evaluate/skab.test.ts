import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { evaluateSkab } from '../../src/evaluate/skab.js';
import { summarise } from '../../src/evaluate/summary.js';
import { perSeedTable } from '../../src/evaluate/markdown.js';
import { writeReport } from '../../src/evaluate/report.js';
import { createLogger } from '../../src/observability/logger.js';
import { SeismoError } from '../../src/errors.js';
import { gaussian, mulberry32 } from '../../src/random.js';

/** A SKAB-shaped file: 3 coupled sensors, a level shift on one of them in rows [from, to]. */
function skabFile(path: string, rows: number, from: number, to: number, seed: number): void {
  const rng = mulberry32(seed);
  const lines = ['datetime;a;b;c;anomaly;changepoint'];
  const t0 = Date.UTC(2020, 2, 9, 10, 0, 0);
  for (let i = 0; i < rows; i++) {
    const load = Math.sin(i / 15);
    const shift = i >= from && i <= to ? 6 : 0;
    const a = load + 0.1 * gaussian(rng);
    const b = 2 * load + 0.1 * gaussian(rng) + shift;
    const c = -load + 0.1 * gaussian(rng);
    const ts = new Date(t0 + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${ts};${a};${b};${c};${shift ? 1 : 0};${i === from || i === to ? 1 : 0}`);
  }
  writeFileSync(path, lines.join('\n'));
}

// Judged by level (relativeFeatures: none): the injected fault is a level shift of a slow signal,
// which the default (auto, by shape) does not see once it lasts longer than a window.
const cfg = parseConfig('window:\n  lookback: 10\ntraining:\n  relativeFeatures: none\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 10\n  batchSize: 128\n  learningRate: 0.01\n  patience: 10\nhttp:\n  enabled: false\nlog:\n  level: silent\n', 'eval.yaml');

describe('SKAB protocol evaluation', () => {
  it('trains per file on the first 400 rows, replays through the daemon and finds an injected shift', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-eval-'));
    mkdirSync(join(dir, 'valve'));
    skabFile(join(dir, 'valve', '0.csv'), 700, 520, 620, 1);
    // A file without labels is not part of the protocol (SKAB's anomaly-free.csv).
    writeFileSync(join(dir, 'free.csv'), 'datetime;a;b;c\n2020-03-09 10:00:00;1;2;3\n');
    const runs = await evaluateSkab(cfg, { data: dir, seeds: [1], methods: ['published', 'seismo'], log: createLogger('silent') });
    expect(runs.map((r) => r.file)).toEqual(['valve/0.csv']);
    const run = runs[0]!;
    // Every row from the 10th on ends a window; the first 9 cannot.
    expect(Number.isNaN(run.scores[8]!)).toBe(true);
    expect(Array.from(run.scores.subarray(9)).every(Number.isFinite)).toBe(true);

    for (const method of ['published', 'seismo'] as const) {
      const s = summarise(runs, method, 60_000);
      expect(s.f1.mean, method).toBeGreaterThan(0.7);
      expect(s.far.mean, method).toBeLessThan(0.1);
      expect(s.perSeed[0]!.detectedEpisodes).toBe(1);
      // The only rows counted are after the 400 training rows: 300 of them, 101 anomalous.
      const p = s.perSeed[0]!.points;
      expect(p.tp + p.fp + p.fn + p.tn).toBe(300);
      expect(p.tp + p.fn).toBe(101);
    }

    const report = join(dir, 'report');
    await writeReport(report, { cfg, runs, summaries: [summarise(runs, 'published', 60_000), summarise(runs, 'seismo', 60_000)], seeds: [1], seconds: 1, backend: 'test', command: 'evaluate' });
    const md = readFileSync(join(report, 'summary.md'), 'utf8');
    expect(md).toMatch(/\| published \| \d\.\d{3} \|/);
    expect(md).toContain('valve/0.csv');
    // One seed: no per-seed section; the table itself lists each seed's own metrics.
    expect(md).not.toContain('## Per seed');
    const seismo = summarise(runs, 'seismo', 60_000);
    expect(perSeedTable([seismo])).toContain(`| seismo | 1 | ${seismo.perSeed[0]!.points.f1.toFixed(3)} |`);
    // The plot: vega-lite rendered by vega (SVG) and resvg (PNG), with the score line, both thresholds and the sensors.
    const svg = readFileSync(join(report, 'plots', 'valve_0_csv.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    for (const text of ['valve/0.csv (seed 1)', 'published threshold', 'seismo threshold', 'labelled anomaly', 'share of reconstruction error']) expect(svg).toContain(text);
    const png = readFileSync(join(report, 'plots', 'valve_0_csv.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBeGreaterThan(800); // width from the IHDR chunk
    expect(md).toContain('](plots/valve_0_csv.png)');
    const results = JSON.parse(readFileSync(join(report, 'results.json'), 'utf8')) as { runs: Array<{ scores: Array<number | null> }> };
    expect(results.runs[0]!.scores).toHaveLength(700);
  });

  it('with --jobs 2 a file that cannot be evaluated fails the run with its own error code and file name, as in one thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-eval-'));
    skabFile(join(dir, '0.csv'), 700, 520, 620, 1);
    skabFile(join(dir, '1.csv'), 300, 250, 260, 2);
    const opts = { data: dir, seeds: [1], methods: ['seismo' as const], log: createLogger('silent') };
    const inThread = await evaluateSkab(cfg, opts).then(() => undefined, (err: unknown) => err);
    const inWorkers = await evaluateSkab(cfg, { ...opts, jobs: 2 }).then(() => undefined, (err: unknown) => err);
    expect(inThread).toMatchObject({ code: 'SEISMO_INPUT_INVALID', message: expect.stringMatching(/1\.csv: 300 rows, need more than/) });
    expect(inWorkers).toBeInstanceOf(SeismoError);
    expect(inWorkers).toMatchObject({ code: 'SEISMO_INPUT_INVALID', message: (inThread as Error).message });
  }, 120_000);
});
