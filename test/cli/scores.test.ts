import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `seismo score` and `seismo calibrate` as README's SKAB example uses them (config/skab.yaml:
// smoothWindows 10, blocked-cv calibration at 24 false alerts a day, training.maxRows 400), on a
// real SKAB file.
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const SKAB_FILE = new URL('../../../shared/data/skab/valve1/0.csv', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'seismo-scores-'));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
const config = join(dir, 'skab.yaml');
writeFileSync(config, `${readFileSync(join(ROOT, 'config/skab.yaml'), 'utf8').replace(/^artifactDir:.*$/m, '')}\nartifactDir: ${join(dir, 'model')}\n`);

interface Line { entity: string; windowEnd: string; score: number; smoothedScore: number | null; threshold: number; above: boolean }

describe('score and calibrate on SKAB', () => {
  it('score reports the window score and the smoothed score run judges; above is what run decides', { timeout: 600_000 }, () => {
    expect(cli(['train', '-c', config, '-d', SKAB_FILE]).status).toBe(0);
    const scored = cli(['score', '-c', config, '-d', SKAB_FILE]);
    expect(scored.status, scored.stderr).toBe(0);
    const lines = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    // smoothedScore = mean of the last 10 window scores (fewer at the start).
    lines.forEach((l, i) => {
      const last = lines.slice(Math.max(0, i - 9), i + 1).map((x) => x.score);
      expect(l.smoothedScore).toBeCloseTo(last.reduce((a, b) => a + b, 0) / last.length, 5);
      expect(l.above).toBe((l.smoothedScore as number) > l.threshold);
    });
    // The two differ somewhere on this file: a window above on its own but not smoothed, or the reverse.
    expect(lines.some((l) => l.score > l.threshold !== l.above)).toBe(true);

    // run with openK = openN = 1 opens on the first window score says is above.
    const flags = join(dir, 'flags.ndjson');
    const run = cli(['run', '-c', config, '--data', SKAB_FILE, '--out', flags], { SEISMO_ALERTS_OPEN_K: '1', SEISMO_ALERTS_OPEN_N: '1', SEISMO_HTTP_ENABLED: 'false' });
    expect(run.status, run.stderr).toBe(0);
    const opened = readFileSync(flags, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; windowEnd: string }).find((f) => f.state === 'open');
    expect(opened?.windowEnd).toBe(lines.find((l) => l.above)?.windowEnd);
  });

  it('score | head ends quietly (README example): no EPIPE stack trace, exit 0', { timeout: 300_000 }, () => {
    const r = spawnSync('bash', ['-c', `node ${CLI} score -c ${config} -d ${SKAB_FILE} | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stdout.trim()).toBe('0');
  });

  it('warm-up windows have no smoothed score and are never above', { timeout: 300_000 }, () => {
    const scored = cli(['score', '-c', config, '-d', SKAB_FILE], { SEISMO_WINDOW_WARMUP_WINDOWS: '3', SEISMO_ALERTS_SMOOTH_WINDOWS: '1' });
    expect(scored.status, scored.stderr).toBe(0);
    const lines = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines.slice(0, 3).map((l) => [l.smoothedScore, l.above])).toEqual([[null, false], [null, false], [null, false]]);
    expect(lines[3]?.smoothedScore).toBeCloseTo(lines[3]?.score as number, 5);
  });

  it('calibrate -d FILE uses the rows training used (training.maxRows) and prints old -> new', { timeout: 300_000 }, () => {
    const trained = JSON.parse(readFileSync(join(dir, 'model', 'threshold.json'), 'utf8')) as { value: number; calibrationWindows: number };
    const same = cli(['calibrate', '-c', config, '-d', SKAB_FILE]);
    expect(same.status, same.stderr).toBe(0);
    const again = JSON.parse(same.stdout) as { value: number; calibrationWindows: number };
    // The same 400 rows, the same folds and seeds as training: the same threshold, by the same
    // out-of-sample rule (not threshold.method on the final model's tail).
    expect(again.calibrationWindows).toBe(trained.calibrationWindows);
    expect(again.value).toBeCloseTo(trained.value, 5);
    expect(same.stderr).toMatch(new RegExp(`threshold ${trained.value.toPrecision(4).replace('.', '\\.')} -> ${again.value.toPrecision(4).replace('.', '\\.')} \\(24 false alerts per entity per day over \\d+ cross-validated windows( \\(tail fit\\))?, first 400 rows of each entity\\)`));
    // --all-rows reads the whole file, anomalies included: more windows, another threshold.
    const all = cli(['calibrate', '-c', config, '-d', SKAB_FILE, '--all-rows']);
    expect(all.status, all.stderr).toBe(0);
    expect((JSON.parse(all.stdout) as { calibrationWindows: number }).calibrationWindows).toBeGreaterThan(trained.calibrationWindows);
  });
});
