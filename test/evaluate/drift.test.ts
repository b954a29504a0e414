import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { evaluateSkab } from '../../src/evaluate/skab.js';
import { summarise } from '../../src/evaluate/summary.js';
import { createLogger } from '../../src/observability/logger.js';
import { gaussian, mulberry32 } from '../../src/random.js';

/**
 * The SKAB failure mode in miniature: a slow temperature keeps drifting after the 400 training
 * rows (5 training std by the end of the file, as SKAB's temperatures do), while the real fault
 * is a sustained drop of a noisy flow in rows 500-600.
 */
function driftingFile(path: string, seed: number): void {
  const rng = mulberry32(seed);
  const lines = ['datetime;temp;flow;current;anomaly;changepoint'];
  const t0 = Date.UTC(2020, 2, 9, 10, 0, 0);
  for (let i = 0; i < 800; i++) {
    const fault = i >= 500 && i <= 600;
    const temp = 70 + 0.002 * i + 0.005 * gaussian(rng);
    const flow = 30 + 0.5 * gaussian(rng) - (fault ? 1.5 : 0);
    const current = 1 + 0.3 * gaussian(rng);
    const ts = new Date(t0 + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${ts};${temp};${flow};${current};${fault ? 1 : 0};${i === 500 || i === 600 ? 1 : 0}`);
  }
  writeFileSync(path, lines.join('\n'));
}

const yaml = (relative: string) =>
  `window:\n  lookback: 10\ntraining:\n  relativeFeatures: ${relative}\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 15\n  batchSize: 64\n  learningRate: 0.01\n  patience: 15\nthreshold:\n  method: stddev\n  sigmas: 5\nalerts:\n  smoothWindows: 10\n  resolveAfter: 3\n  resolveRatio: 1\nhttp:\n  enabled: false\nlog:\n  level: silent\n`;

describe('relative slow features (training.relativeFeatures) on a drifting operating point', () => {
  it('a level model flags the drifted normal rows; with `auto` they pass and the flow fault is still found', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-drift-'));
    driftingFile(join(dir, '0.csv'), 3);
    const run = async (relative: string) => {
      const runs = await evaluateSkab(parseConfig(yaml(relative), 'drift.yaml'), { data: dir, seeds: [1], methods: ['seismo'], log: createLogger('silent') });
      return summarise(runs, 'seismo', 60_000).perSeed[0]!;
    };
    const level = await run('none');
    const shape = await run('auto');
    // 300 normal rows after training; at the end temp is ~5 training std away.
    expect(level.points.far).toBeGreaterThan(0.3);
    // What remains is mostly the alert's tail after the fault ends (the 10-window mean has to
    // fall below the threshold, then stay there for 3 windows): ~15 of the 300 normal rows.
    expect(shape.points.far).toBeLessThan(0.1);
    expect(shape.detectedEpisodes).toBe(1);
    expect(shape.points.mar).toBeLessThan(0.3);
  });
});
