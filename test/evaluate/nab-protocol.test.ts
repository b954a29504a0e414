import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { effectiveMaxGapSeconds, evaluateNab, nabFiles, openingRows, type NabRun } from '../../src/evaluate/nab-protocol.js';
import { writeNabReport, writeNabResults } from '../../src/evaluate/nab-report.js';
import { createLogger } from '../../src/observability/logger.js';
import { gaussian, mulberry32 } from '../../src/random.js';

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const T0 = Date.UTC(2024, 0, 1);

/**
 * A tiny NAB-shaped corpus: a daily-ish sine with noise (no anomaly), the same with a large
 * level jump inside a labelled window, and an hourly stream with jittered, irregular spacing
 * and a labelled spike (the default window.maxGapSeconds of 300 s would reset its window at
 * every reading).
 */
function makeCorpus(dir: string): void {
  const rnd = mulberry32(7);
  const windows: Record<string, string[][]> = {};
  const write = (key: string, ts: number[], values: number[], win: Array<[number, number]>) => {
    mkdirSync(join(dir, key.split('/')[0] as string), { recursive: true });
    writeFileSync(join(dir, key), `timestamp,value\n${ts.map((t, i) => `${stamp(t)},${(values[i] as number).toFixed(4)}`).join('\n')}\n`);
    windows[key] = win.map(([a, b]) => [`${stamp(a)}.000000`, `${stamp(b)}.000000`]);
  };
  const n = 1200;
  const five = Array.from({ length: n }, (_, i) => T0 + i * 300_000);
  const base = (i: number) => 10 + 3 * Math.sin((2 * Math.PI * i) / 96) + 0.2 * gaussian(rnd);
  // A constant stream (NAB's art_flatline): nothing to learn; it used to crash the replay (threshold 0).
  write('synthNoAnomaly/flat.csv', five, five.map(() => 5), []);
  write('synthNoAnomaly/quiet.csv', five, Array.from({ length: n }, (_, i) => base(i)), []);
  write('synthWithAnomaly/jump.csv', five, Array.from({ length: n }, (_, i) => base(i) + (i >= 800 && i < 860 ? 25 : 0)), [[five[780] as number, five[830] as number]]);
  let t = T0;
  const hourly = Array.from({ length: 900 }, () => (t += 3_600_000 + Math.round((rnd() - 0.5) * 1_800_000)));
  write('synthWithAnomaly/irregular.csv', hourly, Array.from({ length: 900 }, (_, i) => base(i) + (i >= 600 && i < 630 ? 30 : 0)), [[hourly[590] as number, hourly[640] as number]]);
  writeFileSync(join(dir, 'combined_windows.json'), JSON.stringify(windows));
}

describe('NAB protocol on a tiny synthetic corpus', () => {
  let dir: string;
  let runs: NabRun[];
  const cfg = configSchema.parse({
    window: { lookback: 8 },
    model: { kind: 'conv1d', encoderUnits: [16, 8], epochs: 15, batchSize: 64, learningRate: 0.01 },
    threshold: { calibration: 'blocked-cv', folds: 3, falseAlertsPerDay: 0.1 },
    alerts: { smoothWindows: 4, resolveAfter: 8 },
    log: { level: 'silent' },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seismo-nab-'));
    makeCorpus(dir);
    runs = await evaluateNab(cfg, { data: dir, seeds: [1], log: createLogger('silent', true) });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains on the probationary rows of each file and detects the labelled jumps, raising no alert on the quiet stream', () => {
    expect(runs.map((r) => r.file.key)).toEqual(['synthNoAnomaly/flat.csv', 'synthNoAnomaly/quiet.csv', 'synthWithAnomaly/irregular.csv', 'synthWithAnomaly/jump.csv']);
    expect(runs.map((r) => r.probation)).toEqual([180, 180, 135, 180]);
    const [, quiet, irregular, jump] = runs as [NabRun, NabRun, NabRun, NabRun];
    expect(quiet.openings.filter((i) => i >= quiet.probation)).toEqual([]);
    expect(jump.nab[0]?.detected).toBe(1);
    expect(irregular.nab[0]?.detected).toBe(1);
    // Detections are alert openings: the rows where the alert state switches on.
    expect(jump.openings).toEqual(openingRows(jump.alertOpen));
  });

  it('--jobs 2 (each file on a worker thread) gives the same runs as one thread, in the same order', async () => {
    const parallel = await evaluateNab(cfg, { data: dir, seeds: [1], log: createLogger('silent', true), jobs: 2 });
    expect(parallel.map((r) => r.file.key)).toEqual(runs.map((r) => r.file.key));
    parallel.forEach((p, i) => {
      const r = runs[i] as NabRun;
      expect(p.refused).toBe(r.refused);
      expect(p.threshold).toBe(r.threshold);
      expect(p.openings).toEqual(r.openings);
      expect(Array.from(p.scores)).toEqual(Array.from(r.scores));
      expect(p.nab).toEqual(r.nab);
    });
  }, 120_000);

  it('a constant stream cannot be trained on: it gets no alerts and says why, the corpus run carries on', () => {
    const flat = runs[0] as NabRun;
    expect(flat.refused).toMatch(/threshold 0|constant/);
    expect(flat.openings).toEqual([]);
    expect(flat.nab[0]?.score).toBe(0);
  });

  it('irregular hourly sampling is first class: the gap widens to 12 median intervals and almost every row is scored', () => {
    const irregular = runs[2] as NabRun;
    expect(irregular.maxGapSeconds).toBeGreaterThan(10 * 3600);
    const scored = Array.from(irregular.scores).filter(Number.isFinite).length;
    expect(scored).toBeGreaterThan(900 - 20);
    expect(effectiveMaxGapSeconds([0, 300_000, 600_000], 900)).toBe(3600);
    expect(effectiveMaxGapSeconds([0, 10_000, 20_000], 900)).toBe(900);
  });

  it('writes the official results layout: one CSV per file, alert openings as anomaly_score 1, window rows as label 1', () => {
    const out = join(dir, 'results');
    const written = writeNabResults(out, runs);
    expect(written).toContain(join(out, 'seismo', 'synthWithAnomaly', 'seismo_jump.csv'));
    const lines = readFileSync(join(out, 'seismo', 'synthWithAnomaly', 'seismo_jump.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score,label');
    expect(lines).toHaveLength(1201);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0]?.[0]).toBe(stamp(T0));
    const jump = runs[3] as NabRun;
    expect(rows.flatMap((r, i) => (r[2] === '1' ? [i] : []))).toEqual(jump.openings);
    expect(rows.filter((r) => r[3] === '1')).toHaveLength(51);
  });

  it('writes a report with the per-category table and one plot per file', async () => {
    const report = join(dir, 'report');
    await writeNabReport(report, { cfg, runs, seeds: [1], seconds: 1, backend: 'test', command: 'evaluate --protocol nab' });
    const md = readFileSync(join(report, 'summary.md'), 'utf8');
    expect(md).toMatch(/\| synthWithAnomaly \| 2 \|/);
    expect(md).toMatch(/\*\*all\*\*/);
    for (const r of runs) expect(existsSync(join(report, 'plots', `${r.file.key.replace(/[^A-Za-z0-9]+/g, '_')}.png`))).toBe(true);
  }, 60_000);

  it('names what is wrong with a corpus: unknown category, file without labels', () => {
    expect(() => nabFiles(dir, ['realNope'])).toThrow(/--categories: no folder realNope/);
    const broken = mkdtempSync(join(tmpdir(), 'seismo-nab-bad-'));
    try {
      mkdirSync(join(broken, 'cat'));
      writeFileSync(join(broken, 'cat', 'a.csv'), 'timestamp,value\n');
      writeFileSync(join(broken, 'combined_windows.json'), '{}');
      expect(() => nabFiles(broken)).toThrow(/no windows for cat\/a.csv/);
      // Malformed labels are named bad input (they were a TypeError, exit 70).
      const labels = (json: string) => {
        writeFileSync(join(broken, 'combined_windows.json'), json);
        return () => nabFiles(broken);
      };
      for (const json of ['null', '"x"', '[[1, 2]]']) expect(labels(json), json).toThrow(/expected an object of "category\/file.csv"/);
      expect(labels('{"cat/a.csv": null}')).toThrow(/cat\/a.csv: expected a list of \[start, end\] windows, got null/);
      expect(labels('{"cat/a.csv": {"a": 1}}')).toThrow(/cat\/a.csv: expected a list of \[start, end\] windows/);
      for (const w of ['[[true, false]]', '[[{"a": 1}, "2014-01-01"]]', '["x"]', '[["2014-01-02", "2014-01-01"]]']) expect(labels(`{"cat/a.csv": ${w}}`), w).toThrow(/cat\/a.csv window 0: bad \[start, end\]/);
      expect(labels('{"cat/a.csv": [], "cat/ghost.csv": []}')).toThrow(/windows for 1 file\(s\) not in .*: cat\/ghost.csv/);
      // A label of a category that is not evaluated is not checked (--categories).
      labels('{"cat/a.csv": [], "other/ghost.csv": []}');
      expect(() => nabFiles(broken, ['cat'])).not.toThrow();
      expect(() => nabFiles(broken)).toThrow(/other\/ghost.csv/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
