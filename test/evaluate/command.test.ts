import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { parseJobs, parseSeeds, parseSplit } from '../../src/evaluate/command.js';
import { evaluateSkab } from '../../src/evaluate/skab.js';
import { createLogger } from '../../src/observability/logger.js';

describe('evaluate options', () => {
  it('parses seeds and splits, and rejects nonsense with a config error', () => {
    expect(parseSeeds('1, 2,3')).toEqual([1, 2, 3]);
    expect(() => parseSeeds('1,x')).toThrow(/--seeds/);
    expect(parseSplit('0.6,0.2')).toEqual([0.6, 0.2]);
    expect(() => parseSplit('0.8,0.3')).toThrow(/--split/);
    expect(() => parseSplit('0.8')).toThrow(/--split/);
  });

  it('--jobs takes a plain whole number from 1 to 256, nothing else', () => {
    expect(parseJobs('2')).toBe(2);
    for (const bad of ['0', '-1', '1.5', 'abc', '', '257', '0x2', '1e1', ' 2', 'Infinity']) expect(() => parseJobs(bad), bad).toThrow(/--jobs/);
  });

  it('a data file that cannot be read (a directory named x.csv) is bad input, named, not an internal error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-eval-'));
    mkdirSync(join(dir, 'x.csv'));
    const cfg = configSchema.parse({ log: { level: 'silent' } });
    await expect(evaluateSkab(cfg, { data: dir, seeds: [1], methods: ['seismo'], log: createLogger('silent'), jobs: 2 })).rejects.toMatchObject({ code: 'SEISMO_INPUT_INVALID', message: expect.stringMatching(/x\.csv: cannot read it: EISDIR/) });
  });
});
