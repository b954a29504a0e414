import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArtifactTarget } from '../../src/model/artifact.js';
import { SMALL_CONFIG_YAML } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');

// Outputs that would destroy inputs: each used to succeed (or fail only after the damage).
describe('an output path never destroys data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-output-safety-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const csv = join(data, 'pump.csv');
  const rows = ['timestamp,a,b', ...Array.from({ length: 60 }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()},${Math.sin(i / 3)},${Math.cos(i / 5)}`)];
  writeFileSync(csv, `${rows.join('\n')}\n`);
  writeFileSync(join(data, 'notes.txt'), 'keep me\n');
  const config = join(dir, 'c.yaml');
  writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'model')}\n`);
  const cli = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  const intact = () => {
    expect(readFileSync(csv, 'utf8')).toBe(`${rows.join('\n')}\n`);
    expect(readdirSync(data).sort()).toEqual(['notes.txt', 'pump.csv']);
  };

  it('train -o <a data directory> is refused before training, naming the directory; nothing is deleted', () => {
    const r = cli(['train', '-c', config, '-d', data, '-o', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`SEISMO_CONFIG_INVALID: artifact directory ${data}: holds 2 entries (`);
    expect(r.stderr).not.toContain('epoch'); // refused before training
    intact();
    const file = cli(['train', '-c', config, '-d', data, '-o', csv]);
    expect(file.status).toBe(2);
    expect(file.stderr).toContain('a file is there');
    intact();
  });

  it('score, embed and run refuse an output that is their input or inside their input directory', () => {
    for (const args of [
      ['score', '-c', config, '-d', csv, '-o', csv],
      ['score', '-c', config, '-d', data, '-o', join(data, 'scores.ndjson')],
      ['embed', '-c', config, '-d', csv, '-o', csv],
      ['run', '-c', config, '-d', csv, '-o', csv],
    ]) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/SEISMO_CONFIG_INVALID: (--out|sink\.path) .* (is the input|is inside the input directory)/);
      intact();
    }
  });

  it('checkArtifactTarget: a missing or empty directory, an artifact and a symlink may be replaced; the working directory and its parents may not', () => {
    expect(() => checkArtifactTarget(join(dir, 'new'))).not.toThrow();
    mkdirSync(join(dir, 'empty'));
    expect(() => checkArtifactTarget(join(dir, 'empty'))).not.toThrow();
    mkdirSync(join(dir, 'old-model'));
    writeFileSync(join(dir, 'old-model', 'manifest.json'), '{}');
    expect(() => checkArtifactTarget(join(dir, 'old-model'))).not.toThrow();
    expect(() => checkArtifactTarget('.')).toThrow(/working directory or one of its parents/);
    expect(() => checkArtifactTarget('/')).toThrow(/working directory or one of its parents/);
  });
});

// Each of these was an internal error (exit 70) or a raw Node stack trace, some after all the work.
describe('bad flags and output paths are named before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-bad-flags-'));
  const cli = (args: string[]) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x\n');

  it('simulate: non-numbers, fractions, negatives and impossible sizes are refused by flag; an unwritable --out by path', () => {
    for (const [flag, value] of [['--normal', 'abc'], ['--entities', '1.5'], ['--steps', '-1'], ['--events', ''], ['--entities', '1000000000']]) {
      const r = cli(['simulate', '-o', join(dir, 'x.ndjson'), flag as string, value as string]);
      expect(r.status, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toContain(`SEISMO_CONFIG_INVALID: ${flag}: expected a whole number`);
    }
    const late = cli(['simulate', '-o', join(dir, 'x.ndjson'), '--steps', '100', '--normal', '200']);
    expect(late.status).toBe(2);
    expect(late.stderr).toContain('--normal 200: must be less than --steps 100');
    const r = cli(['simulate', '-o', join(dir, 'no-such-dir', 'x.ndjson'), '--steps', '10', '--events', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/SEISMO_CONFIG_INVALID: --out .*no-such-dir\/x.ndjson: cannot write it: ENOENT/);
    expect(r.stderr).not.toContain('Unhandled');
  });

  it('evaluate: a --report or --nab-results path that cannot be a directory fails at once; --shift must be a whole number', () => {
    const report = cli(['evaluate', '-d', dir, '--report', file]);
    expect(report.status).toBe(2);
    expect(report.stderr).toContain(`SEISMO_CONFIG_INVALID: --report ${file}: cannot make it a directory`);
    const nab = cli(['evaluate', '--protocol', 'nab', '-d', dir, '--nab-results', join(file, 'x')]);
    expect(nab.status).toBe(2);
    expect(nab.stderr).toContain('SEISMO_CONFIG_INVALID: --nab-results');
    const shift = cli(['evaluate', '--protocol', 'rare-event', '-d', file, '--shift', 'abc']);
    expect(shift.status).toBe(2);
    expect(shift.stderr).toContain('--shift: expected a whole number from 0');
  });

  it('evaluate: a label that is not 0 or 1 stops the evaluation before training, naming file, column and row (it counted as normal)', () => {
    const skab = readFileSync(join(ROOT, '../shared/data/skab/valve1/0.csv'), 'utf8').split('\n');
    const row = 700; // the 700th data row: its anomaly label becomes "yes"
    const cells = (skab[row] as string).split(';');
    cells[cells.length - 2] = 'yes';
    skab[row] = cells.join(';');
    const file = join(dir, 'labels.csv');
    writeFileSync(file, skab.join('\n'));
    const r = cli(['evaluate', '-c', join(ROOT, 'config/skab.yaml'), '-d', file, '--jobs', '1']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`SEISMO_INPUT_INVALID: ${file}:${row + 1}: label column "anomaly" must hold 0 or 1, found a non-number`);
    const rare = cli(['evaluate', '--protocol', 'rare-event', '-c', join(ROOT, 'config/skab.yaml'), '-d', join(ROOT, '../shared/data/skab/valve1/0.csv'), '--label-column', 'Current']);
    expect(rare.status).toBe(3);
    expect(rare.stderr).toMatch(/0\.csv:2: label column "Current" must hold 0 or 1, found [\d.]+/);
    const split = cli(['evaluate', '--protocol', 'rare-event', '-c', join(ROOT, 'config/skab.yaml'), '-d', join(ROOT, '../shared/data/skab/valve1/0.csv'), '--label-column', 'anomaly', '--split', '0.0001,0.0001']);
    expect(split.status).toBe(3);
    expect(split.stderr).toContain('the training part of --split 0.0001,0.0001 (the first 0 of 1147 rows) holds no stretch of more than 11 label-0 rows');
  });

  it('calibrate refuses fewer held-out windows than training needs and leaves the threshold as it was', () => {
    const config = join(dir, 'cal.yaml');
    writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'cal-model')}\n`);
    const rows = (n: number) => ['datetime,a,b', ...Array.from({ length: n }, (_, i) => `${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()},${Math.sin(i / 3)},${Math.cos(i / 5)}`)].join('\n') + '\n';
    writeFileSync(join(dir, 'train.csv'), rows(300));
    expect(cli(['train', '-c', config, '-d', join(dir, 'train.csv'), '--force']).status).toBe(0);
    const before = readFileSync(join(dir, 'cal-model', 'threshold.json'), 'utf8');
    writeFileSync(join(dir, 'tiny.csv'), rows(9)); // lookback 6: 4 windows, all of them with --all
    const r = cli(['calibrate', '-c', config, '-d', join(dir, 'tiny.csv'), '--all']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${join(dir, 'tiny.csv')}: 4 held-out window(s) to calibrate on, need at least 5`);
    expect(readFileSync(join(dir, 'cal-model', 'threshold.json'), 'utf8')).toBe(before);
    // And `score` reports an overflowing feature's error as the maximum score, not null.
    writeFileSync(join(dir, 'extreme.csv'), rows(20).replace(/\n(2026-01-01T00:10:00.000Z),[^,]+,/, '\n$1,1e30,'));
    const scored = cli(['score', '-c', config, '-d', join(dir, 'extreme.csv')]);
    expect(scored.status, scored.stderr).toBe(0);
    const lines = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as { score: number; featureErrors: Record<string, number | null> });
    const hit = lines.filter((l) => l.score === 1e30);
    expect(hit.length).toBeGreaterThan(0);
    for (const l of hit) expect(l.featureErrors.a).toBe(1e30);
  });

  it('a config with `features: []` is refused with file:line, not accepted and then failed in TensorFlow', () => {
    const config = join(dir, 'empty-features.yaml');
    writeFileSync(config, `${SMALL_CONFIG_YAML}features: []\n`);
    const r = cli(['validate-config', config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${config}:\\d+:\\d+: features: Array must contain at least 1 element`));
  });
});
