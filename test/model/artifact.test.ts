import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadArtifact, saveArtifact } from '../../src/model/artifact.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { windowize } from '../../src/jobs/data.js';
import { Scorer } from '../../src/score/scorer.js';
import { Scaler } from '../../src/window/scaler.js';
import { SeismoError } from '../../src/errors.js';
import { simulatedReadings, smallConfig } from '../helpers.js';

describe('model artifact', async () => {
  const cfg = smallConfig();
  const data = simulatedReadings(200);
  const trained = await trainFromData(cfg, data);
  const dir = join(mkdtempSync(join(tmpdir(), 'seismo-artifact-')), 'model');
  await saveArtifact(dir, trained.artifact);

  it('writes the manifest the issue lists', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ formatVersion: 1, features: data.features, lookback: 6 });
    for (const key of ['created', 'configHash', 'dataHash', 'backend', 'training', 'version']) expect(manifest[key], key).toBeTruthy();
    expect(manifest.training.epochsRun).toBeGreaterThan(0);
  });

  it('round-trips: loaded model, scaler and threshold give identical scores', async () => {
    const loaded = await loadArtifact(dir, { features: data.features, lookback: 6 });
    expect(loaded.threshold).toEqual(trained.artifact.threshold);
    const windows = windowize(data, new Scaler(loaded.scaler), cfg)[0]?.set;
    if (!windows) throw new Error('no windows');
    const before = new Scorer(trained.artifact.model, 6, data.features.length, 64).scoreAll(windows.data, windows.count);
    const after = new Scorer(loaded.model, 6, data.features.length, 64).scoreAll(windows.data, windows.count);
    expect(after).toEqual(before);
    expect(before.every(Number.isFinite)).toBe(true);
  });

  it('fails naming the mismatch when the feature list differs', async () => {
    const err = await loadArtifact(dir, { features: ['flow_rate', 'voltage'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeismoError);
    expect((err as SeismoError).code).toBe('SEISMO_MODEL_INCOMPATIBLE');
    expect((err as Error).message).toContain('features: artifact [inlet_pressure');
  });

  it('fails naming the mismatch when the lookback differs or data lacks a feature', async () => {
    await expect(loadArtifact(dir, { lookback: 10 })).rejects.toThrow('lookback: artifact 6, config 10');
    await expect(loadArtifact(dir, { dataFeatures: ['flow_rate'] })).rejects.toThrow(/data lacks features the model needs: inlet_pressure/);
  });

  it('says the model is missing when there is no artifact', async () => {
    await expect(loadArtifact(join(dir, 'nope'))).rejects.toMatchObject({ code: 'SEISMO_MODEL_MISSING' });
  });
});
