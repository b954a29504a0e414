import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyReplayFlags } from '../../src/config/flags.js';
import { parseConfig } from '../../src/config/load.js';
import { kafkaLineLevel } from '../../src/kafka/log-levels.js';
import { inTimeRange } from '../../src/source/replay.js';
import type { SourceRecord } from '../../src/source/source.js';
import { SMALL_CONFIG_YAML } from '../helpers.js';
import { logLevel } from 'kafkajs';

// The CLI as a new user meets it: the flags README examples use, logs they read, a broker that is not there.
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'seismo-first-hour-'));
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

describe('run/score flags over the config', () => {
  const base = parseConfig('source:\n  kind: kafka\n', 'base.yaml');

  it('--data makes a file source, --speed paces it, --out a file sink, --port the HTTP port', () => {
    const { config } = applyReplayFlags(base, { data: 'x.csv', speed: '60', out: 'f.ndjson', port: '0' });
    expect(config.source).toMatchObject({ kind: 'file', path: 'x.csv', speed: 60 });
    expect(config.sink).toMatchObject({ kind: 'file', path: 'f.ndjson' });
    expect(config.http.port).toBe(0);
    expect(base.source.kind).toBe('kafka'); // the loaded config is not mutated
  });

  it('refuses bad values naming the flag', () => {
    expect(() => applyReplayFlags(base, { data: 'x', speed: '-1' })).toThrow(/--speed: Number must be greater than or equal to 0/);
    expect(() => applyReplayFlags(base, { data: 'x', speed: 'fast' })).toThrow(/--speed: expected a number, got "fast"/);
    expect(() => applyReplayFlags(base, { data: 'x', sink: 'file' })).toThrow(/--sink file: give --out FILE/);
    expect(() => applyReplayFlags(base, { data: 'x', from: 'yesterday' })).toThrow(/--from: cannot parse "yesterday"/);
    expect(() => applyReplayFlags(base, { data: 'x', from: '2020-01-02T00:00:00Z', to: '2020-01-01T00:00:00Z' })).toThrow(/is not before --to/);
    expect(() => applyReplayFlags(base, { from: '2020-01-01T00:00:00Z' })).toThrow(/--from\/--to replay a time range of a file source/);
  });

  it('a time range keeps readings in [from, to) and every record whose time it cannot read', () => {
    const reading = (ts: number): SourceRecord => ({ kind: 'reading', reading: { entity: 'a', ts, values: {} }, position: { source: 'f', line: ts } });
    const raw = (ts: string): SourceRecord => ({ kind: 'raw', text: JSON.stringify({ entity: 'a', ts, values: {} }), position: { source: 'f', line: 0 } });
    const records = [reading(1), reading(2), reading(3), raw('1970-01-01T00:00:00.002Z'), raw('not a time'), { kind: 'raw', text: '{oops', position: { source: 'f', line: 9 } } as SourceRecord];
    const kept = inTimeRange(records, { from: 2, to: 3 });
    expect(kept).toEqual([records[1], records[3], records[4], records[5]]);
    expect(inTimeRange(records, {})).toBe(records);
  });
});

describe('logs', () => {
  it('kafkajs conditions it retries itself are not errors; other errors stay errors', () => {
    expect(kafkaLineLevel(logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)', "The coordinator is loading and hence can't process requests for this group")).toBe('debug');
    expect(kafkaLineLevel(logLevel.ERROR, 'Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition')).toBe('debug');
    expect(kafkaLineLevel(logLevel.ERROR, '[Runner] The group is rebalancing, re-joining', undefined)).toBe('info');
    expect(kafkaLineLevel(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', 'The request included message batch larger than the configured segment size on the server')).toBe('error');
    expect(kafkaLineLevel(logLevel.ERROR, '[Consumer] Crash: KafkaJSNumberOfRetriesExceeded', undefined)).toBe('error');
    expect(kafkaLineLevel(logLevel.INFO, 'Starting', undefined)).toBe('info');
    // Notices about kafkajs' own upgrade path and settings Seismo chose: not an operator's concern.
    expect(kafkaLineLevel(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior', undefined)).toBe('debug');
    expect(kafkaLineLevel(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees', undefined)).toBe('debug');
    expect(kafkaLineLevel(logLevel.WARN, 'Some other warning', undefined)).toBe('warn');
  });

  it('log lines carry level names, not pino numbers', () => {
    const script = `import { createLogger } from ${JSON.stringify(join(ROOT, 'dist/observability/logger.js'))}; createLogger('info').warn('careful');`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ level: 'warn', msg: 'careful' });
  });
});

describe('seismo produce', () => {
  it('gives up on an unreachable broker within --timeout, with a clear error and exit 7', () => {
    const config = join(dir, 'unreachable.yaml');
    writeFileSync(config, 'kafka:\n  brokers: ["127.0.0.1:1"]\nlog:\n  level: silent\n');
    const started = Date.now();
    const r = cli(['produce', '-c', config, '--steps', '5', '--timeout', '2']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.status, r.stderr).toBe(7);
    expect(r.stderr).toContain('SEISMO_SINK_FAILED: connecting to Kafka did not succeed within 2 s (brokers 127.0.0.1:1)');
    // kafkajs alone retries this for about 100 s before failing as an "unexpected error".
    expect(seconds).toBeLessThan(30);
  });

  it('refuses a non-positive --timeout', () => {
    const r = cli(['produce', '--timeout', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--timeout: expected a number > 0, got "0"');
  });
});

describe('run and score with flags, end to end', () => {
  it('score --from/--to scores only that range; run --data --out --port replays a file to a flags file', { timeout: 600_000 }, () => {
    const config = join(dir, 'small.yaml');
    const data = join(dir, 'normal.ndjson');
    writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'model')}\n`);
    expect(cli(['simulate', '--out', data, '--entities', '1', '--steps', '200', '--events', '0']).status).toBe(0);
    // A tiny model on one entity: whether it learned is not the point here.
    const trained = cli(['train', '-c', config, '-d', data, '--force']);
    expect(trained.status, trained.stderr).toBe(0);

    // The simulator starts at 2026-11-01T00:00Z; the range holds some of its readings.
    const from = '2026-11-01T01:00:00Z';
    const to = '2026-11-01T02:00:00Z';
    const inRange = readFileSync(data, 'utf8').trim().split('\n').map((l) => Date.parse((JSON.parse(l) as { ts: string }).ts)).filter((t) => t >= Date.parse(from) && t < Date.parse(to));
    expect(inRange.length).toBeGreaterThan(10);
    const scored = cli(['score', '-c', config, '-d', data, '--from', from, '--to', to]);
    expect(scored.status, scored.stderr).toBe(0);
    const windows = scored.stdout.trim().split('\n').map((l) => JSON.parse(l) as { windowStart: string; windowEnd: string });
    expect(windows).toHaveLength(inRange.length - 6 + 1);
    expect(windows[0]?.windowStart).toBe(new Date(inRange[0] as number).toISOString());
    expect(windows.at(-1)?.windowEnd).toBe(new Date(inRange.at(-1) as number).toISOString());

    const flags = join(dir, 'flags.ndjson');
    const run = cli(['run', '-c', config, '--data', data, '--speed', '0', '--out', flags, '--port', '0', '--from', from], { SEISMO_ALERTS_OPEN_K: '1', SEISMO_ALERTS_OPEN_N: '1', SEISMO_THRESHOLD_SENSITIVITY: '1000000', SEISMO_LOG_LEVEL: 'info' });
    expect(run.status, run.stderr).toBe(0);
    // A threshold a million times too low flags the first judged window: it must lie in the range.
    const first = JSON.parse(readFileSync(flags, 'utf8').split('\n')[0] ?? '{}') as { windowEnd?: string; ts?: string };
    expect(Date.parse(first.windowEnd ?? first.ts ?? '')).toBeGreaterThanOrEqual(Date.parse(from));
  });
});

describe('installing the command', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  // A private npm cache, so npx links this checkout afresh instead of reusing an old link.
  const npm = (args: string[], cwd = ROOT) => spawnSync('npm', [...args, '--offline', '--cache', join(dir, 'npm-cache'), '--ignore-scripts', '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', timeout: 120_000 });

  it('npx seismo runs the checkout\'s own command (the README\'s invocation)', { timeout: 150_000 }, () => {
    const r = npm(['exec', '--', 'seismo', '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('npm install -g . puts seismo on the PATH', { timeout: 150_000 }, () => {
    const prefix = join(dir, 'global');
    const r = npm(['install', '-g', '--prefix', prefix, ROOT]);
    expect(r.status, r.stderr).toBe(0);
    const v = spawnSync(join(prefix, 'bin', 'seismo'), ['--version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
  });

  it('the launcher says how to build when dist/ is missing, instead of "not found"', () => {
    const bare = mkdtempSync(join(tmpdir(), 'seismo-unbuilt-'));
    const launcher = join(bare, 'bin', 'seismo.js');
    spawnSync('mkdir', ['-p', join(bare, 'bin')]);
    // The launcher is bin/ as a whole (seismo.js imports its neighbours, e.g. node-flags.js).
    for (const f of readdirSync(join(ROOT, 'bin'))) writeFileSync(join(bare, 'bin', f), readFileSync(join(ROOT, 'bin', f)));
    const r = spawnSync('node', [launcher, '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(70);
    expect(r.stderr).toContain('the CLI is not built');
    expect(r.stderr).toContain('npm run build');
  });
});
