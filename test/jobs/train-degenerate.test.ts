import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrateThreshold, requireUsableThreshold } from '../../src/detect/calibrate.js';
import { requiredTrainingWindows, trainFromData, trainingSizeProblem } from '../../src/jobs/train-job.js';
import type { LoadedReadings } from '../../src/jobs/data.js';
import type { Reading } from '../../src/domain/types.js';
import { SMALL_CONFIG_YAML, simulatedReadings, smallConfig } from '../helpers.js';

const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

function constantReadings(entities: number, steps: number): LoadedReadings {
  const byEntity = new Map<string, Reading[]>();
  for (let e = 0; e < entities; e++) {
    byEntity.set(`pump-${e}`, Array.from({ length: steps }, (_, i) => ({ entity: `pump-${e}`, ts: Date.UTC(2026, 0, 1) + i * 60_000, values: { pressure: 4.2, flow: 17 } })));
  }
  return { byEntity, features: ['pressure', 'flow'], poison: [] };
}

describe('training refuses degenerate data', () => {
  it('every feature constant: refused before training, naming the features', async () => {
    const err = await trainFromData(smallConfig(), constantReadings(2, 200)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEISMO_TRAINING_FAILED' });
    expect((err as Error).message).toContain('every feature is constant in the training data (pressure, flow)');
  });

  it('blocked-cv on entities too short for its folds: refused by name with the numbers and the remedies, not an internal error', async () => {
    // 10 entities x 20 windows of lookback 6: plenty to train on, but blocked-cv with 3 folds
    // needs 3 x (6 + 2) = 24 windows in one entity to cut them into blocks.
    const cfg = smallConfig();
    const err = await trainFromData({ ...cfg, threshold: { ...cfg.threshold, calibration: 'blocked-cv', folds: 3 } }, simulatedReadings(25, 10)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEISMO_TRAINING_FAILED' });
    expect((err as Error).message).toBe(
      'out-of-sample calibration (blocked-cv, 3 folds) needs at least 24 training windows in one entity (folds x (lookback + 2)), and the longest has 20: train on more data, or set a smaller threshold.folds or window.lookback, or threshold.calibration: holdout',
    );
  });

  it('names features whose scale one extreme training value set (a 1e30 sentinel), and not a sparse on/off signal', async () => {
    const data = simulatedReadings(200, 2);
    const [first, second] = [...data.byEntity.values()] as [Reading[], Reading[]];
    const f0 = data.features[0] as string;
    first[100] = { ...(first[100] as Reading), values: { ...first[100]?.values, [f0]: 1e30 } };
    // A valve that opens now and then: rare values, but of the feature's own size.
    for (const list of [first, second]) list.forEach((r, i) => (r.values = { ...r.values, valve: i % 90 === 0 ? 1 : 0 }));
    const result = await trainFromData(smallConfig(), { ...data, features: [...data.features, 'valve'] });
    expect(result.extremeFeatures).toEqual([f0]);
    const clean = await trainFromData(smallConfig(), simulatedReadings(200, 2));
    expect(clean.extremeFeatures).toEqual([]);
  });

  it('too few windows: refused, saying how many there are and how many are needed', async () => {
    const data = simulatedReadings(12); // 2 entities x 7 windows of lookback 6, ~5 train + 1-2 held out each
    const err = await trainFromData(smallConfig(), data).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEISMO_TRAINING_FAILED' });
    expect((err as Error).message).toMatch(/too few windows: \d+ to train on \(need 40: at least 10, 5 per feature \(8 features: 40\), .*\) and \d+ held out to calibrate on \(need 5\)/);
  });

  it('the minimum grows with the features: 24 windows of 8 features are refused (the old fixed minimum of 10 let them through)', async () => {
    const data = simulatedReadings(20); // 2 entities x 15 windows: 24 to train on, 6 held out
    const err = await trainFromData(smallConfig(), data).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEISMO_TRAINING_FAILED' });
    expect((err as Error).message).toContain('too few windows: 24 to train on (need 40: at least 10, 5 per feature (8 features: 40)');
    expect((err as Error).message).toContain('train on fewer features');
    // The same data on 4 of the features is enough.
    const four = data.features.slice(0, 4);
    const narrow = { ...data, features: four };
    const cfg = smallConfig();
    cfg.features = four;
    await expect(trainFromData(cfg, narrow)).resolves.toMatchObject({ artifact: { manifest: { features: four } } });
  });

  it('and with the model parameters: a large model on the same windows is refused before it trains', async () => {
    const data = simulatedReadings(31); // 2 x 26 windows: 42 to train on, enough for 8 features
    const cfg = smallConfig();
    cfg.model.encoderUnits = [256, 128];
    const err = await trainFromData(cfg, data).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SEISMO_TRAINING_FAILED' });
    expect((err as Error).message).toMatch(/too few windows: 42 to train on \(need 6\d: .* one per 2000 model parameters per feature \(\d{6} parameters: 6\d\)\)/);
    expect((err as Error).message).toContain('a smaller model (model.encoderUnits)');
  });

  it('requiredTrainingWindows: the largest of 10, 5 per feature, and parameters / (2000 x features)', () => {
    expect(requiredTrainingWindows(1, 1000)).toBe(10);
    expect(requiredTrainingWindows(9, 250_000)).toBe(45);
    expect(requiredTrainingWindows(8, 4_156_424)).toBe(260);
    expect(trainingSizeProblem(313, 78, 8, 4_156_424, 10)).toBeUndefined();
    expect(trainingSizeProblem(259, 78, 8, 4_156_424, 10)).toContain('need 260');
    expect(trainingSizeProblem(300, 4, 8, 1000, 10)).toContain('4 held out to calibrate on (need 5)');
  });

  it('one constant feature is kept (scale 1) and reported; the threshold is usable', async () => {
    const data = simulatedReadings(200);
    const flat = data.features[0] as string;
    for (const readings of data.byEntity.values()) for (const r of readings) r.values[flat] = 3.5;
    const result = await trainFromData(smallConfig(), data);
    expect(result.constantFeatures).toEqual([flat]);
    const j = result.artifact.scaler.features.indexOf(flat);
    expect([result.artifact.scaler.offset[j], result.artifact.scaler.scale[j]]).toEqual([3.5, 1]);
    expect(result.artifact.threshold?.value).toBeGreaterThan(0);
  });

  it('a calibrated threshold of 0, NaN or Infinity is refused with the reason', () => {
    const cfg = smallConfig().threshold;
    expect(() => requireUsableThreshold(calibrateThreshold(new Float32Array(50), cfg), 'x.csv')).toThrow(/calibrated threshold is 0 \(method quantile, 50 held-out window errors of x.csv\); a threshold must be finite and > 0: the model reconstructs/);
    expect(() => requireUsableThreshold(calibrateThreshold(Float32Array.from({ length: 50 }, () => NaN), cfg), 'x.csv')).toThrow(/calibrated threshold is NaN .* not finite/);
    expect(() => requireUsableThreshold(calibrateThreshold([1, 2, Infinity], { ...cfg, method: 'stddev' }), 'x.csv')).toThrow(/must be finite and > 0/);
    const good = calibrateThreshold([0.1, 0.2, 0.3], cfg);
    expect(requireUsableThreshold(good, 'x.csv')).toBe(good);
  });

  it('`seismo train` names the records it rejects (count by reason, file:line) and trains without them; all rejected names the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-degenerate-'));
    const data = join(dir, 'pumps.ndjson');
    const lines = [...simulatedReadings(120, 2).byEntity.values()].flat().map((r) => JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: r.values }));
    lines.splice(40, 0, '{"entity":"pump-0","ts":"not a time","values":{}}', 'abc');
    writeFileSync(data, lines.join('\n') + '\n');
    const config = join(dir, 'small.yaml');
    writeFileSync(config, `${SMALL_CONFIG_YAML.replace('level: silent', 'level: warn')}artifactDir: ${join(dir, 'model')}\n`);
    // --force: 3 epochs of the small model need not learn; what matters here is what was read.
    const r = spawnSync('node', [CLI, 'train', '-c', config, '-d', data, '--force'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const warning = (r.stdout + r.stderr).split('\n').find((l) => l.includes('records rejected'));
    expect(warning).toBeDefined();
    const w = JSON.parse(warning as string) as { rejected: number; byReason: Record<string, number>; examples: string[] };
    expect(w.rejected).toBe(2);
    expect(w.examples[0]).toMatch(new RegExp(`${data}:41: `));
    expect(w.examples[1]).toMatch(new RegExp(`${data}:42: invalid_json`));
    writeFileSync(data, 'abc\n{"entity":"x"}\n');
    const none = spawnSync('node', [CLI, 'train', '-c', config, '-d', data], { encoding: 'utf8', timeout: 120_000 });
    expect(none.status).toBe(3);
    expect(none.stderr).toContain(`${data}: no usable readings (2 rejected; ${data}:1: invalid_json`);
  });

  it('`seismo train` on a constant series exits 6 with SEISMO_TRAINING_FAILED and writes no artifact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seismo-degenerate-'));
    const data = join(dir, 'flat.ndjson');
    const readings = [...constantReadings(2, 200).byEntity.values()].flat();
    writeFileSync(data, readings.map((r) => JSON.stringify({ entity: r.entity, ts: new Date(r.ts).toISOString(), values: r.values })).join('\n') + '\n');
    const config = join(dir, 'small.yaml');
    writeFileSync(config, `${SMALL_CONFIG_YAML}artifactDir: ${join(dir, 'model')}\n`);
    const r = spawnSync('node', [CLI, 'train', '-c', config, '-d', data], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(6);
    expect(r.stderr).toContain('SEISMO_TRAINING_FAILED');
    expect(r.stderr).toContain('every feature is constant');
    expect(existsSync(join(dir, 'model'))).toBe(false);
  });
});
