import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMALL_CONFIG_YAML } from './helpers.js';

// Process tests spawn the built CLI (`npm test` builds first).
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'seismo-cli-'));
async function waitFor(cond: () => boolean, describe: () => string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

describe('seismo CLI', () => {
  it('validate-config accepts the shipped configs', () => {
    const shipped = readdirSync(new URL('../config/', import.meta.url).pathname).filter((f) => f.endsWith('.yaml')).map((f) => `config/${f}`);
    expect(shipped.length).toBeGreaterThanOrEqual(8);
    for (const f of shipped) {
      const r = cli(['validate-config', new URL(`../${f}`, import.meta.url).pathname]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('OK');
    }
  });

  it('validate-config exits 2 with every problem at file:line:column', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'window:\n  lookback: 1\nmodel:\n  layers: 3\n');
    const r = cli(['validate-config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('SEISMO_CONFIG_INVALID');
    expect(r.stderr).toContain(`${file}:2:13: window.lookback`);
    expect(r.stderr).toContain(`${file}:4:3: model.layers: unknown key "layers"`);
  });

  it('train, calibrate, score and embed work together on simulator output', { timeout: 600_000 }, () => {
    const config = join(dir, 'small.yaml');
    const data = join(dir, 'normal.ndjson');
    writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'model')}\n`);
    expect(cli(['simulate', '--out', data, '--entities', '2', '--steps', '200', '--events', '0']).status).toBe(0);

    const trained = cli(['train', '-c', config, '-d', data]);
    expect(trained.status, trained.stderr).toBe(0);
    const summary = JSON.parse(trained.stdout) as { threshold: number; lookback: number; features: string[] };
    expect(summary.lookback).toBe(6);
    expect(summary.threshold).toBeGreaterThan(0);
    // The rule the artifact recorded, in words (SMALL_CONFIG: the default quantile rule).
    expect((summary as { thresholdRule?: string }).thresholdRule).toMatch(/^1\.5 x q0\.99 of \d+ held-out windows$/);

    const calibrated = cli(['calibrate', '-c', config, '-d', data], { SEISMO_THRESHOLD_MULTIPLIER: '3' });
    expect(calibrated.status, calibrated.stderr).toBe(0);
    const threshold = JSON.parse(calibrated.stdout) as { value: number; base: number; multiplier: number };
    expect(threshold.multiplier).toBe(3);
    expect(threshold.value).toBeCloseTo(threshold.base * 3);

    const scored = cli(['score', '-c', config, '-d', data]);
    expect(scored.status, scored.stderr).toBe(0);
    const lines = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as { entity: string; score: number; threshold: number; featureErrors: Record<string, number> });
    expect(lines).toHaveLength(2 * (200 - 6 + 1));
    expect(lines[0]?.threshold).toBeCloseTo(threshold.value);
    expect(Object.keys(lines[0]?.featureErrors ?? {})).toEqual(summary.features);

    const embedded = cli(['embed', '-c', config, '-d', data, '--format', 'csv']);
    expect(embedded.status, embedded.stderr).toBe(0);
    const rows = embedded.stdout.trim().split('\n');
    expect(rows[0]).toBe('entity,windowStart,windowEnd,c0,c1,c2,c3');
    expect(rows).toHaveLength(1 + 2 * (200 - 6 + 1));
  });

  it('run and score get past an extreme reading (1e30) in a file replay: exit 0, flagged at the maximum score, no hang (issue 12)', { timeout: 600_000 }, () => {
    const own = mkdtempSync(join(tmpdir(), 'seismo-extreme-'));
    const config = join(own, 'small.yaml');
    const data = join(own, 'normal.ndjson');
    writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(own, 'model')}\n`);
    expect(cli(['simulate', '--out', data, '--entities', '1', '--steps', '150', '--events', '0']).status).toBe(0);
    // --force: a 3-epoch toy model need not beat the quality gate for this test.
    expect(cli(['train', '-c', config, '-d', data, '--force']).status).toBe(0);
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    const middle = JSON.parse(lines[100] as string) as { values: Record<string, number> };
    const name = Object.keys(middle.values)[0] as string;
    middle.values[name] = 1e30;
    lines[100] = JSON.stringify(middle);
    const replay = join(own, 'extreme.ndjson');
    writeFileSync(replay, `${lines.join('\n')}\n`);

    const flagsFile = join(own, 'flags.ndjson');
    const runConfig = join(own, 'run.yaml');
    writeFileSync(runConfig, `${SMALL_CONFIG_YAML}artifactDir: ${join(own, 'model')}\nsource:\n  kind: file\n  path: ${replay}\nsink:\n  kind: file\n  path: ${flagsFile}\n`);
    const run = spawnSync('node', [CLI, 'run', '-c', runConfig], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const flags = readFileSync(flagsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string; score: number });
    expect(Math.max(...flags.map((f) => f.score))).toBe(1e30);

    const scored = spawnSync('node', [CLI, 'score', '-c', config, '-d', replay], { encoding: 'utf8', timeout: 120_000 });
    expect(scored.status, scored.stderr).toBe(0);
    const scores = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as { score: number | null });
    expect(scores.every((x) => typeof x.score === 'number')).toBe(true);
    expect(Math.max(...scores.map((x) => x.score as number))).toBe(1e30);
  });

  it('exits 4 naming the problem when the model is missing', () => {
    const r = cli(['score', '-d', join(dir, 'normal.ndjson')], { SEISMO_ARTIFACT_DIR: join(dir, 'none') });
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('SEISMO_MODEL_MISSING');
  });

  it('run: serves /readyz and /metrics, drains on SIGTERM and exits 0', { timeout: 300_000 }, async () => {
    const config = join(dir, 'run.yaml');
    const data = join(dir, 'replay.ndjson');
    expect(cli(['simulate', '--out', data, '--entities', '2', '--steps', '400', '--events', '1', '--normal', '200']).status).toBe(0);
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('enabled: false', 'enabled: true\n  port: 0')}artifactDir: ${join(dir, 'model')}\nsource:\n  path: ${data}\n  speed: 600\nsink:\n  kind: file\n  path: ${join(dir, 'flags.ndjson')}\n`.replace('level: silent', 'level: info'));
    const child = spawn('node', [CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no http line in: ${log}`)), 60_000);
      const check = setInterval(() => {
        const m = /"url":"(http:\/\/[^"]+)\/metrics"/.exec(log);
        if (m && log.includes('lifecycle ready')) {
          clearInterval(check);
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      }, 50);
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', state: 'ready', backend: expect.any(String) });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of ['seismo_readings_total', 'seismo_windows_scored_total', 'seismo_backend_info{', 'seismo_model_info{', 'seismo_live_tensors', 'seismo_scoring_duration_seconds_bucket', 'seismo_poison_total{reason="invalid_json"}']) expect(metrics).toContain(name);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, log).toBe(0);
    expect(log).toContain('lifecycle draining');
    expect(log).toContain('lifecycle stopped');

  });

});
