import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { editDistance, suggestKey } from '../../src/config/suggest.js';
import { SeismoError } from '../../src/errors.js';

function rejection(text: string, env: NodeJS.ProcessEnv = {}): SeismoError {
  try {
    parseConfig(text, 'seismo.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(SeismoError);
    return err as SeismoError;
  }
  throw new Error('expected the config to be rejected');
}

describe('validate-config: every problem, even next to a YAML error', () => {
  it('a YAML syntax error does not hide the schema problems of what could still be read', () => {
    const err = rejection('window:\n  lookback: 1\n bad: x\nmodel:\n  layers: 3\n');
    expect(err.code).toBe('SEISMO_CONFIG_UNREADABLE');
    expect(err.message).toContain('seismo.yaml:3:1: YAML: All mapping items must start at the same column');
    expect(err.message).toContain('seismo.yaml:2:13: window.lookback: Number must be greater than or equal to 2');
    expect(err.message).toContain('seismo.yaml:5:3: model.layers: unknown key "layers"');
  });

  it('refuses a time zone offset no place has and an entity column that is the timestamp column, by line', () => {
    expect(rejection('input:\n  timezone: "+25:00"\n').message).toMatch(/seismo\.yaml:2:\d+: input\.timezone: unknown time zone "\+25:00"/);
    expect(() => parseConfig('input:\n  timezone: "+14:00"\n', 'seismo.yaml')).not.toThrow();
    expect(rejection('input:\n  format: csv\n  timestampColumn: t\n  entityColumn: t\n').message).toMatch(/seismo\.yaml:4:\d+: input\.entityColumn: entityColumn "t" is also the timestampColumn/);
  });

  it('a duplicate key is a YAML error too', () => {
    const err = rejection('window:\n  lookback: 5\n  lookback: 6\n');
    expect(err.code).toBe('SEISMO_CONFIG_UNREADABLE');
    expect(err.message).toMatch(/seismo\.yaml:3:\d+: YAML: Map keys must be unique/);
  });
});

describe('did you mean', () => {
  it('suggests the nearest key at the same level', () => {
    expect(rejection('window:\n  maxGap: 60\n').message).toContain('window.maxGap: unknown key "maxGap" (did you mean maxGapSeconds?)');
    expect(rejection('model:\n  epoks: 4\n').message).toContain('unknown key "epoks" (did you mean epochs?)');
    expect(rejection('alerts:\n  openk: 2\n').message).toContain('(did you mean openK?)');
  });

  it('suggests the section a key belongs in when it sits at the wrong level', () => {
    expect(rejection('maxGapSeconds: 60\n').message).toContain('maxGapSeconds: unknown key "maxGapSeconds" (did you mean window.maxGapSeconds?)');
  });

  it('suggests nothing for a key that resembles none', () => {
    const msg = rejection('model:\n  flux: 1\n').message;
    expect(msg).toContain('model.flux: unknown key "flux"');
    expect(msg).not.toContain('did you mean');
    expect(suggestKey(['model'], 'capacitor')).toBeUndefined();
  });

  it('reports each unknown key of one object at its own line', () => {
    const msg = rejection('model:\n  epoks: 4\n  seeed: 1\n').message;
    expect(msg).toContain('seismo.yaml:2:3: model.epoks');
    expect(msg).toContain('seismo.yaml:3:3: model.seeed: unknown key "seeed" (did you mean seed?)');
  });

  it('edit distance is the Levenshtein distance, ignoring case', () => {
    expect([editDistance('kitten', 'sitting'), editDistance('openK', 'openk'), editDistance('', 'abc')]).toEqual([3, 0, 3]);
  });
});

describe('rules across fields', () => {
  it('openK above openN can never open an alert', () => {
    const err = rejection('alerts:\n  openK: 4\n  openN: 3\n');
    expect(err.code).toBe('SEISMO_CONFIG_INVALID');
    expect(err.message).toContain('seismo.yaml:2:10: alerts.openK: openK 4 > openN 3');
  });

  it('names the environment variable when an override breaks a rule', () => {
    expect(rejection('alerts:\n  openN: 3\n', { SEISMO_ALERTS_OPEN_K: '5' }).message).toContain('env SEISMO_ALERTS_OPEN_K: alerts.openK: openK 5 > openN 3');
  });

  it('a POT risk the tail cannot reach, a file sink without a path, maxRows below the lookback, duplicate and unknown relative features', () => {
    const msg = rejection('threshold:\n  method: pot\n  potInitialQuantile: 0.98\n  potRisk: 0.05\nsink:\n  kind: file\nwindow:\n  lookback: 20\ntraining:\n  maxRows: 10\n  relativeFeatures: [temp, flow]\nfeatures: [temp, pressure, temp]\n').message;
    expect(msg).toContain('threshold.potRisk: potRisk 0.05 is not below 1 - potInitialQuantile (0.02)');
    expect(msg).toContain('sink.kind: sink.kind "file" needs sink.path');
    expect(msg).toContain('training.maxRows: maxRows 10 < window.lookback 20');
    expect(msg).toContain('features[2]: "temp" is listed twice');
    expect(msg).toContain('training.relativeFeatures[1]: "flow" is not one of features');
  });

  it('accepts the same settings when they fit together', () => {
    expect(() => parseConfig('threshold:\n  method: pot\n  potRisk: 0.001\nsink:\n  kind: file\n  path: f.ndjson\nalerts:\n  openK: 3\n  openN: 3\ntraining:\n  maxRows: 400\n  relativeFeatures: [temp]\nfeatures: [temp, pressure]\n', 'ok.yaml')).not.toThrow();
  });
});
