import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { configSchema, envName, listConfigFields } from '../../src/config/schema.js';
import { SeismoError } from '../../src/errors.js';

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, 'seismo.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(SeismoError);
    expect((err as SeismoError).code).toBe('SEISMO_CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('config loading', () => {
  it('gives every default for an empty file', () => {
    const cfg = parseConfig('', 'empty.yaml');
    expect(cfg.window.lookback).toBe(10);
    expect(cfg.model.encoderUnits).toEqual([128, 64]);
    expect(cfg.scoring.backend).toBe('auto');
  });

  it('reports a wrong type with file:line:column and the field path', () => {
    const msg = problemsOf('window:\n  lookback: ten\n');
    expect(msg).toContain('seismo.yaml:2:13: window.lookback: Expected number, received string');
  });

  it('reports an unknown key at the key itself', () => {
    const msg = problemsOf('model:\n  epochs: 3\n  epoks: 4\n');
    expect(msg).toContain('seismo.yaml:3:3: model.epoks: unknown key "epoks"');
  });

  it('reports every problem at once', () => {
    const msg = problemsOf('window:\n  lookback: 1\nscoring:\n  backend: gpu\nbogus: 1\n');
    expect(msg).toContain('3 problems');
    expect(msg).toMatch(/seismo\.yaml:2:13: window\.lookback/);
    expect(msg).toMatch(/seismo\.yaml:4:12: scoring\.backend/);
    expect(msg).toMatch(/seismo\.yaml:5:1: bogus: unknown key/);
  });

  it('reports a list element by index', () => {
    expect(problemsOf('model:\n  encoderUnits: [64, -2]\n')).toContain('seismo.yaml:2:22: model.encoderUnits[1]');
  });

  it('refuses a document the YAML library will not expand (an alias bomb) instead of running on the defaults', () => {
    const yaml = `window:\n  lookback: 99999\nx: &x 1\ny: [${Array.from({ length: 120 }, () => '*x').join(', ')}]\n`;
    expect(() => parseConfig(yaml, 'bomb.yaml')).toThrow(expect.objectContaining({ code: 'SEISMO_CONFIG_UNREADABLE', message: expect.stringContaining('bomb.yaml:1:1: YAML: the document cannot be read as data') }));
  });

  it('reports YAML syntax errors with a position, as SEISMO_CONFIG_UNREADABLE', () => {
    expect(() => parseConfig('window:\n  lookback: [1, 2\n', 'seismo.yaml')).toThrow(expect.objectContaining({ code: 'SEISMO_CONFIG_UNREADABLE', message: expect.stringMatching(/seismo\.yaml:\d+:\d+: YAML: /) }));
  });

  it('lets SEISMO_* environment variables override the file', () => {
    const cfg = parseConfig('window:\n  lookback: 12\nscoring:\n  backend: cpu\n', 'x.yaml', { SEISMO_WINDOW_LOOKBACK: '20', SEISMO_MODEL_ENCODER_UNITS: '32,16', SEISMO_HTTP_ENABLED: 'false' });
    expect(cfg.window.lookback).toBe(20);
    expect(cfg.model.encoderUnits).toEqual([32, 16]);
    expect(cfg.http.enabled).toBe(false);
    expect(cfg.scoring.backend).toBe('cpu');
  });

  it('names the environment variable when an override is invalid', () => {
    expect(problemsOf('', { SEISMO_WINDOW_LOOKBACK: 'lots' })).toContain('env SEISMO_WINDOW_LOOKBACK: window.lookback: expected a number');
    expect(problemsOf('', { SEISMO_SCORING_BACKEND: 'gpu' })).toContain('env SEISMO_SCORING_BACKEND: scoring.backend');
  });

  it('derives env names from the path', () => {
    expect(envName(['scoring', 'maxDelayMs'])).toBe('SEISMO_SCORING_MAX_DELAY_MS');
  });

  it('fails with a clear error when the file is missing', () => {
    expect(() => loadConfig('/nonexistent/seismo.yaml')).toThrow(/SEISMO_CONFIG_UNREADABLE|cannot read config/);
  });
});

describe('shipped configs', () => {
  it('the example config validates and documents every key of the schema', () => {
    const path = new URL('../../config/seismo.example.yaml', import.meta.url).pathname;
    loadConfig(path, {});
    const text = readFileSync(path, 'utf8');
    const doc = parse(text) as Record<string, unknown>;
    // A key is documented when it is set, or (optional keys without a default) shown commented out.
    const missing = listConfigFields().filter((f) => {
      let node: unknown = doc;
      for (const key of f.path) node = (node as Record<string, unknown> | undefined)?.[key];
      const key = f.path[f.path.length - 1] as string;
      return node === undefined && !(f.defaultValue === undefined && new RegExp(`^\\s*# ${key}: `, 'm').test(text));
    });
    expect(missing.map((f) => f.path.join('.'))).toEqual([]);
  });

  it('the demo config validates', () => {
    loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname, {});
  });

  it('every schema field has a description', () => {
    expect(listConfigFields(configSchema).filter((f) => f.description === '').map((f) => f.path.join('.'))).toEqual([]);
  });

  it('a threshold block naming a method\'s parameters but no method keeps that method; the default is a rate over blocked-CV scores', () => {
    const t = (yaml: string, env: Record<string, string> = {}) => parseConfig(yaml, 'x.yaml', env).threshold;
    expect([t('').method, t('').calibration]).toEqual(['rate', 'blocked-cv']);
    expect(t('threshold:\n  multiplier: 3\n').method).toBe('quantile');
    expect(t('threshold:\n  sigmas: 4\n').method).toBe('stddev');
    expect(t('threshold:\n  potRisk: 0.01\n').method).toBe('pot');
    expect(t('threshold:\n  multiplier: 3\n  falseAlertsPerDay: 2\n')).toMatchObject({ method: 'rate', falseAlertsPerDay: 2 });
    expect(t('threshold:\n  method: rate\n  multiplier: 3\n').method).toBe('rate');
    // An override from the environment counts as written in the file.
    expect(t('', { SEISMO_THRESHOLD_MULTIPLIER: '3' })).toMatchObject({ method: 'quantile', multiplier: 3 });
  });
});

