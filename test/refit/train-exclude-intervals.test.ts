import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMALL_CONFIG_YAML } from '../helpers.js';

// `seismo train --exclude FILE`: an interval that cannot leave anything out must not pass
// silently (the anomaly it was meant to hide would be learned as normal), and what was left
// out is reported per entity.
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

describe('seismo train --exclude: intervals checked, what they left out reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seismo-exclude-intervals-'));
  const data = join(dir, 'data.ndjson');
  const config = join(dir, 'c.yaml');
  const exclude = join(dir, 'excluded.json');
  const train = (intervals: string | undefined) => {
    if (intervals !== undefined) writeFileSync(exclude, intervals);
    return spawnSync('node', [CLI, 'train', '-c', config, '-d', data, ...(intervals !== undefined ? ['--exclude', exclude] : []), '--force', '-o', join(dir, 'model')], { encoding: 'utf8', timeout: 120_000 });
  };
  const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() as string) as { training: { trainWindows: number; validationWindows: number }; leftOut?: Record<string, { intervals: number; readings: number; windows: number }>; excludedNotInData?: string[] };

  beforeAll(() => {
    // One entity, one reading a minute for 300 minutes.
    writeFileSync(data, Array.from({ length: 300 }, (_, i) => JSON.stringify({ entity: 'pump-1', ts: T0 + i * MIN, values: { a: Math.sin(i / 5) + 0.01 * (i % 7), b: Math.cos(i / 9) } })).join('\n') + '\n');
    writeFileSync(config, SMALL_CONFIG_YAML.replace('epochs: 3', 'epochs: 2').replace('level: silent', 'level: info'));
  });

  it('a reversed interval is refused (exit 3) naming the file, the entity and the interval index', () => {
    const r = train(JSON.stringify({ 'pump-1': [[T0, T0 + 10 * MIN], [T0 + 150 * MIN, T0 + 100 * MIN]] }));
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain(`SEISMO_INPUT_INVALID: --exclude ${exclude}: entity "pump-1", interval 1 [${T0 + 150 * MIN}, ${T0 + 100 * MIN}] ends before it starts`);
  });

  it('a non-finite interval end (1e999 parses to Infinity) is refused the same way', () => {
    const r = train(`{"pump-1": [[${T0}, 1e999]]}`);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toContain(`SEISMO_INPUT_INVALID: --exclude ${exclude}: entity "pump-1", interval 0 [${T0}, Infinity] is not a pair of finite epoch milliseconds`);
  });

  it('an entity not in the data is a warning naming it; the readings and windows left out per entity are reported', { timeout: 300_000 }, () => {
    const all = train(undefined);
    expect(all.status, all.stderr).toBe(0);
    expect(summary(all.stdout).leftOut).toBeUndefined();

    const r = train(JSON.stringify({ 'pump-1': [[T0 + 100 * MIN, T0 + 150 * MIN]], 'pump-9': [[T0, T0 + 300 * MIN]] }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/"level":"warn".*--exclude .*excluded\.json: entity \\"pump-9\\" not in the training data/);
    const s = summary(r.stdout);
    expect(s.excludedNotInData).toEqual(['pump-9']);
    // Readings at 100..150 minutes inclusive; every window touching them.
    expect(s.leftOut?.['pump-1']?.intervals).toBe(1);
    expect(s.leftOut?.['pump-1']?.readings).toBe(51);
    const windows = s.leftOut?.['pump-1']?.windows ?? 0;
    expect(windows).toBeGreaterThanOrEqual(51);
    const before = summary(all.stdout).training;
    expect(s.training.trainWindows + s.training.validationWindows).toBe(before.trainWindows + before.validationWindows - windows);
    expect(r.stderr).toContain('training data left out as not normal, per entity');
  });
});
