import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { evaluateRareEvent, shiftLabels } from '../../src/evaluate/rare-event.js';
import { createLogger } from '../../src/observability/logger.js';
import { gaussian, mulberry32 } from '../../src/random.js';

describe('rare-event protocol', () => {
  it('shifts labels k rows earlier and leaves the event rows out', () => {
    const { shifted, counted } = shiftLabels([0, 0, 0, 0, 1, 0, 0, 1], 2);
    expect(Array.from(shifted)).toEqual([0, 0, 1, 1, 0, 1, 1, 0]);
    expect(Array.from(counted)).toEqual([1, 1, 1, 1, 0, 1, 1, 0]);
  });

  it('trains on label-0 rows, thresholds on validation, and ranks precursors of events above normal rows', async () => {
    // Two coupled sensors; 6 rows before each event, sensor b breaks away from a (the precursor).
    // `leak` copies the label and must be dropped, or the task would be trivial.
    const rng = mulberry32(4);
    const rows = 1500;
    const events = new Set<number>();
    for (let t = 150; t < rows; t += 97) events.add(t);
    const lines = ['ts,a,b,leak,y'];
    for (let i = 0; i < rows; i++) {
      const precursor = [...events].some((t) => i >= t - 6 && i < t);
      const a = Math.sin(i / 9) + 0.05 * gaussian(rng);
      const b = (precursor ? -1 : 1) * Math.sin(i / 9) + 0.05 * gaussian(rng);
      const y = events.has(i) ? 1 : 0;
      lines.push(`${Date.UTC(2026, 0, 1) + i * 60_000},${a},${b},${y},${y}`);
    }
    const file = join(mkdtempSync(join(tmpdir(), 'seismo-rare-')), 'series.csv');
    writeFileSync(file, lines.join('\n'));
    const cfg = parseConfig('input:\n  format: csv\n  timestampColumn: ts\nwindow:\n  lookback: 4\nmodel:\n  encoderUnits: [8, 4]\n  epochs: 8\n  batchSize: 128\n  learningRate: 0.01\n  patience: 8\nhttp:\n  enabled: false\nlog:\n  level: silent\n', 'rare.yaml');
    const r = await evaluateRareEvent(cfg, { file, labelColumn: 'y', shift: 3, drop: ['leak'], trainFraction: 0.5, valFraction: 0.2, seed: 1, log: createLogger('silent') });
    expect(r.rows).toEqual({ train: 750, val: 300, test: 450 });
    // Label-0 rows of the training split only: each of its 7 events removes itself and 3 shifted rows.
    expect(r.trainingRows).toBe(750 - 7 * 4);
    expect(r.thresholdFrom).toBe('f1-on-validation');
    expect(r.positives.test).toBe(12); // events at rows 1120, 1217, 1314, 1411
    expect(r.rocAuc).toBeGreaterThan(0.8);
    expect(r.test.tp + r.test.fn).toBe(12);
  });
});
